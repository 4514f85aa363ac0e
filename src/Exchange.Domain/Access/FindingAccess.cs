using Exchange.V1;

namespace Exchange.Domain.Access;

/// <summary>
/// What one caller may see of one finding, and what that costs: whether showing the content must
/// first be on the audit record, and, when the answer is less than content, which scope or
/// condition is missing (for the refusal and the access-denied entry).
/// </summary>
/// <param name="View">The most the caller may be shown.</param>
/// <param name="Audited">Showing the content is a read that the audit log records before it leaves.</param>
/// <param name="Missing">Why the view is not <see cref="FindingView.Content"/>, in words for the caller; null when it is.</param>
public readonly record struct FindingAccess(FindingView View, bool Audited, string? Missing)
{
    public bool MayReadContent => View == FindingView.Content;
}

/// <summary>
/// The one access rule of a node: every way a finding's fields leave it (gRPC reads and lists, the
/// subscription feed, audit queries, later the console and the JSON API) asks this rule, so no
/// endpoint decides for itself. Rows of the rule, for a finding stored on this node:
/// <list type="table">
/// <item><term>held for an embargo on this node's clock</term><description>nothing, for every caller, until it is released here</description></item>
/// <item><term>CLEAR, GREEN</term><description>content with <c>findings:read</c>; not audited (TLP 2.0 lets these travel)</description></item>
/// <item><term>AMBER, AMBER+STRICT</term><description>content with <c>findings:read</c>, each read audited before it is sent</description></item>
/// <item><term>RED</term><description>content with <c>findings:read</c> and <c>findings:read:red</c>, audited; without the RED scope, nothing (lists and feeds behave as if it were not there)</description></item>
/// <item><term>any label, <c>audit:read</c></term><description>metadata, through audit entries, which therefore carry no free text of a finding at any label (a withdrawal reason is sealed with the finding instead)</description></item>
/// </list>
/// The author of a submission is shown what it just sent (its own words) in the answer to that
/// submission; that echo is not a read of stored content and is covered by the submission's own
/// audit entry.
/// </summary>
public static class FindingAccessRule
{
    /// <summary>The rule for a caller holding <paramref name="scopes"/> (OAuth scope strings, see <see cref="Scopes"/>).</summary>
    /// <param name="scopes">The caller's granted scopes.</param>
    /// <param name="label">The TLP 2.0 level of the version to be shown.</param>
    /// <param name="held">The version is a received one that this node holds until its embargo passes on this node's clock.</param>
    public static FindingAccess Decide(IReadOnlySet<string> scopes, TlpLevel label, bool held)
    {
        var metadata = scopes.Contains(Scopes.AuditRead) ? FindingView.Metadata : FindingView.Nothing;
        if (held)
        {
            return new(metadata, false, "the finding is held here until its embargo passes");
        }
        if (!scopes.Contains(Scopes.FindingsRead))
        {
            return new(metadata, false, $"reading findings needs the scope {Scopes.FindingsRead}");
        }
        if (label == TlpLevel.Red && !scopes.Contains(Scopes.FindingsReadRed))
        {
            return new(metadata, false, $"reading a RED finding needs the scope {Scopes.FindingsReadRed}");
        }
        return new(FindingView.Content, label.IsClassified(), null);
    }
}
