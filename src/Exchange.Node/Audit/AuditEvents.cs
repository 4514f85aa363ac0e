using Exchange.Node.Persistence;
using Exchange.V1;

namespace Exchange.Node.Audit;

/// <summary>
/// The audit events that record who was shown or refused a finding, and withdrawals, made in one
/// place so that none of them carries free text of a finding above GREEN.
/// </summary>
public static class AuditEvents
{
    /// <summary>A caller was shown this version's content; <paramref name="via"/> says how (get, list, subscription).</summary>
    public static AuditEvent Read(FindingRecord record, string clientId, string via, string self) => new()
    {
        Kind = AuditEventKind.FindingRead,
        Actor = clientId,
        FindingId = record.Id,
        FindingVersion = record.Version,
        Label = (TlpLevel)record.Label,
        Counterparty = record.OriginInstitute == self ? "" : record.OriginInstitute,
        Detail = via,
    };

    /// <summary>A caller asked for content the access rule does not give it.</summary>
    public static AuditEvent AccessDenied(FindingRecord record, string clientId, string why, string via) => new()
    {
        Kind = AuditEventKind.AccessDenied,
        Actor = clientId,
        FindingId = record.Id,
        FindingVersion = record.Version,
        Label = (TlpLevel)record.Label,
        Detail = $"{via}: {why}",
    };

    /// <summary>
    /// A withdrawal of <paramref name="findingId"/> up to <paramref name="version"/>. The reason is
    /// the origin's free text: it never enters the log (every holder of <c>audit:read</c> reads the
    /// log, whatever the label), but is sealed with the finding and shown, through the access rule,
    /// to those who may read the finding's content.
    /// </summary>
    public static AuditEvent Withdrawn(string actor, string findingId, int version, TlpLevel label, string counterparty = "", string messageId = "", string? note = null) =>
        new()
        {
            Kind = AuditEventKind.FindingWithdrawn,
            Actor = actor,
            FindingId = findingId,
            FindingVersion = version,
            Label = label,
            Counterparty = counterparty,
            MessageId = messageId,
            Detail = note ?? "",
        };

    /// <summary>A received version that this node held for its embargo is now shown here.</summary>
    public static AuditEvent Released(FindingRecord record) => new()
    {
        Kind = AuditEventKind.FindingReleased,
        Actor = "embargo",
        FindingId = record.Id,
        FindingVersion = record.Version,
        Label = (TlpLevel)record.Label,
        Counterparty = record.OriginInstitute,
        Outcome = DisclosureOutcome.Allow,
    };
}
