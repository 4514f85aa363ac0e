using Exchange.V1;

namespace Exchange.Domain.Subscriptions;

/// <summary>Which audit events make the subscription feed, and what each one is to a subscriber.</summary>
public static class FeedEvents
{
    /// <summary>The audit event kinds the feed is made of, by their stored names.</summary>
    public static IReadOnlyList<string> AuditKinds { get; } =
    [
        nameof(AuditEventKind.FindingSubmitted),
        nameof(AuditEventKind.FindingReceived),
        nameof(AuditEventKind.FindingReleased),
        nameof(AuditEventKind.FindingWithdrawn),
    ];

    /// <summary>
    /// Whether this audit event is the moment a version became readable on this node, so the feed
    /// shows it there: its submission (ours), its arrival (a peer's, unless it arrived held for an
    /// embargo: outcome SCHEDULED), or its release when the embargo passed here.
    /// </summary>
    public static bool Shows(AuditEvent recorded) => recorded.Kind switch
    {
        AuditEventKind.FindingSubmitted or AuditEventKind.FindingReleased => true,
        AuditEventKind.FindingReceived => recorded.Outcome != DisclosureOutcome.Scheduled,
        _ => false,
    };

    /// <summary>
    /// The feed's kind for an audit event. A version after the first is a supersession wherever it
    /// was recorded: the origin's own audit entry for the old version (FindingSuperseded) says the
    /// same thing again and is not in the feed.
    /// </summary>
    public static FeedEventKind Classify(AuditEventKind kind, int findingVersion) => kind switch
    {
        AuditEventKind.FindingSubmitted => findingVersion > 1 ? FeedEventKind.Superseded : FeedEventKind.Published,
        AuditEventKind.FindingReceived or AuditEventKind.FindingReleased => findingVersion > 1 ? FeedEventKind.Superseded : FeedEventKind.Received,
        AuditEventKind.FindingWithdrawn => FeedEventKind.Withdrawn,
        _ => FeedEventKind.Unspecified,
    };

    /// <summary>The cursor of the audit entry at this index: positions count from 1 so that 0 means "the beginning".</summary>
    public static ulong CursorOf(long leafIndex) => checked((ulong)leafIndex + 1);
}
