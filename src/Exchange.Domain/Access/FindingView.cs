namespace Exchange.Domain.Access;

/// <summary>How much of a stored finding a caller may be shown.</summary>
public enum FindingView
{
    /// <summary>Not even that it exists: lists and feeds leave it out, a read by id is refused.</summary>
    Nothing = 0,

    /// <summary>
    /// Ids, origin, version, the TLP level, state and times: what the audit log and decisions already
    /// say. No free text of the finding (content, caveats, purpose, withdrawal reason).
    /// </summary>
    Metadata = 1,

    /// <summary>Everything people wrote, withdrawal reason included.</summary>
    Content = 2,
}
