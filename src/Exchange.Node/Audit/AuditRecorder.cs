using Microsoft.EntityFrameworkCore;
using Exchange.Node.Persistence;
using Exchange.V1;
using Google.Protobuf;
using Google.Protobuf.WellKnownTypes;

namespace Exchange.Node.Audit;

/// <summary>
/// Adds audit events to the caller's unit of work, so that an event is committed with the change it
/// records or not at all.
/// </summary>
public sealed class AuditRecorder(NodeDbContext db, TimeProvider time, Telemetry.NodeMetrics metrics)
{
    // Recorded events wait here until the unit of work that holds them is saved; only then are they counted.
    private readonly List<(AuditEventRecord Record, AuditEvent Event)> _uncounted = [];

    public AuditEvent Record(AuditEvent audit)
    {
        audit.OccurredAt ??= Timestamp.FromDateTimeOffset(time.GetUtcNow());
        if (_uncounted.Count == 0)
        {
            db.SavedChanges -= CountSaved;
            db.SavedChanges += CountSaved;
        }
        var record = new AuditEventRecord
        {
            Kind = audit.Kind.ToString(),
            OccurredAt = audit.OccurredAt.ToDateTimeOffset(),
            FindingId = string.IsNullOrEmpty(audit.FindingId) ? null : audit.FindingId,
            Counterparty = string.IsNullOrEmpty(audit.Counterparty) ? null : audit.Counterparty,
            Event = audit.ToByteArray(),
        };
        db.AuditEvents.Add(record);
        _uncounted.Add((record, audit));
        return audit;
    }

    private void CountSaved(object? sender, SavedChangesEventArgs e)
    {
        // A failed save leaves its events tracked (and uncounted) for the caller's retry. Inside an
        // explicit transaction a save is not yet a commit: the count waits for the commit.
        var saved = new List<AuditEvent>();
        _uncounted.RemoveAll(pending =>
        {
            if (db.Entry(pending.Record).State != EntityState.Unchanged)
            {
                return false;
            }
            saved.Add(pending.Event);
            return true;
        });
        if (db.Database.CurrentTransaction is null)
        {
            saved.ForEach(metrics.Committed);
        }
        else
        {
            Telemetry.CommittedAuditCounter.OnCommit(db, () => saved.ForEach(metrics.Committed));
        }
    }

    /// <summary>For events that change nothing else (a read, a refusal): recorded and committed now.</summary>
    public async Task RecordNowAsync(AuditEvent audit, CancellationToken cancellationToken)
    {
        Record(audit);
        await db.SaveChangesAsync(cancellationToken);
    }
}
