using Exchange.Node.Persistence;
using Exchange.V1;
using Google.Protobuf;
using Google.Protobuf.WellKnownTypes;

namespace Exchange.Node.Audit;

/// <summary>
/// Adds audit events to the caller's unit of work, so that an event is committed with the change it
/// records or not at all.
/// </summary>
public sealed class AuditRecorder(NodeDbContext db, TimeProvider time)
{
    public AuditEvent Record(AuditEvent audit)
    {
        audit.OccurredAt ??= Timestamp.FromDateTimeOffset(time.GetUtcNow());
        db.AuditEvents.Add(new AuditEventRecord
        {
            Kind = audit.Kind.ToString(),
            OccurredAt = audit.OccurredAt.ToDateTimeOffset(),
            FindingId = string.IsNullOrEmpty(audit.FindingId) ? null : audit.FindingId,
            Counterparty = string.IsNullOrEmpty(audit.Counterparty) ? null : audit.Counterparty,
            Event = audit.ToByteArray(),
        });
        return audit;
    }

    /// <summary>For events that change nothing else (a read, a refusal): recorded and committed now.</summary>
    public async Task RecordNowAsync(AuditEvent audit, CancellationToken cancellationToken)
    {
        Record(audit);
        await db.SaveChangesAsync(cancellationToken);
    }
}
