using Exchange.Node.Audit;
using Exchange.Node.Persistence;
using Exchange.V1;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace Exchange.Node.Findings;

/// <summary>
/// Received findings whose embargo has not passed on this node's own clock: held (shown to no one,
/// not streamed) until it has, less the clock skew this node tolerates, then released. The origin
/// holds them too, by its clock; this is for the recipient that does not trust the origin's clock.
/// </summary>
public sealed class HeldFindings(NodeDbContext db, AuditRecorder audit, IOptions<FindingsOptions> options)
{
    /// <summary>Until when a version arriving at <paramref name="now"/> is held here, or null to show it at once.</summary>
    public DateTimeOffset? HoldUntil(Finding finding, DateTimeOffset now) =>
        finding.Policy?.EmbargoUntil?.ToDateTimeOffset() is { } until && until - options.Value.EmbargoClockSkew > now ? until : null;

    /// <summary>
    /// Releases the held versions whose time has come, in the caller's unit of work: the newest
    /// version of its finding becomes current and is recorded released (the feed shows it there);
    /// one overtaken by a newer version or withdrawn while held is released silently, as it is
    /// no longer news. Returns how many were released.
    /// </summary>
    public async Task<int> ReleaseDueAsync(DateTimeOffset now, CancellationToken cancellationToken)
    {
        var threshold = now + options.Value.EmbargoClockSkew;
        var due = await db.Findings.Where(f => f.HeldUntil != null && f.HeldUntil <= threshold).OrderBy(f => f.Seq).Take(500).ToListAsync(cancellationToken);
        foreach (var record in due)
        {
            record.HeldUntil = null;
            record.AvailableAt = now;
            var others = await db.Findings.Where(f => f.Id == record.Id && f.Version != record.Version).ToListAsync(cancellationToken);
            if (record.State == (int)FindingState.Withdrawn || others.Any(o => o.Version > record.Version))
            {
                if (record.State == (int)FindingState.Active)
                {
                    record.State = (int)FindingState.Superseded;
                }
                continue;
            }
            foreach (var current in others.Where(o => o.IsCurrent))
            {
                current.IsCurrent = false;
                if (current.State == (int)FindingState.Active)
                {
                    current.State = (int)FindingState.Superseded;
                }
            }
            record.IsCurrent = true;
            audit.Record(AuditEvents.Released(record));
        }
        return due.Count;
    }
}
