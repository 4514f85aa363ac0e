using Exchange.Domain;
using Exchange.Domain.Subscriptions;
using Exchange.Node.Audit;
using Exchange.Node.Findings;
using Exchange.Node.Persistence;
using Exchange.V1;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace Exchange.Node.Subscriptions;

/// <summary>
/// One page of the feed: the events a subscriber gets, how far the log was read to find them, and
/// whether more of the log is already there to read.
/// </summary>
public sealed record FeedPage(IReadOnlyList<FeedEvent> Events, ulong ScannedTo, bool More);

/// <summary>
/// Reads the feed from the audit log. The log's index is the cursor: the integrator assigns it in
/// order, as the single writer, and a subscriber reads only below the committed head, so an event
/// can never appear behind a cursor that was already handed out (an identity column could: its
/// values are taken before commit, in any order).
/// </summary>
public sealed class FeedReader(NodeDbContext db, FindingProtector protector, AuditRecorder audit, IOptions<NodeOptions> node)
{
    /// <summary>The cursor of the end of the feed: the number of entries in the log.</summary>
    public async Task<ulong> EndAsync(CancellationToken cancellationToken) =>
        (ulong)await db.AuditHead.AsNoTracking().Select(h => h.Size).SingleAsync(cancellationToken);

    /// <summary>
    /// Up to <paramref name="max"/> matching events after the cursor. Reads of AMBER and above are
    /// committed to the audit log before this returns, so before the content leaves the node.
    /// </summary>
    public async Task<FeedPage> ReadAsync(ulong after, FeedFilter filter, string clientId, int max, CancellationToken cancellationToken)
    {
        var size = await db.AuditHead.AsNoTracking().Select(h => h.Size).SingleAsync(cancellationToken);
        // Cursor c is the entry at index c - 1, so "after c" starts at index c.
        var from = checked((long)after);
        var kinds = FeedEvents.AuditKinds.ToArray();
        var rows = await db.AuditEvents.AsNoTracking()
            .Where(e => e.LeafIndex >= from && e.LeafIndex < size && kinds.Contains(e.Kind))
            .OrderBy(e => e.LeafIndex)
            .Take(max)
            .Select(e => new { LeafIndex = e.LeafIndex!.Value, e.Event })
            .ToListAsync(cancellationToken);
        var scannedTo = rows.Count == max ? FeedEvents.CursorOf(rows[^1].LeafIndex) : (ulong)Math.Max(size, from);
        if (rows.Count == 0)
        {
            return new FeedPage([], scannedTo, More: false);
        }

        var recorded = rows.Select(r => (r.LeafIndex, Event: AuditEvent.Parser.ParseFrom(r.Event))).ToList();
        var ids = recorded.Select(r => r.Event.FindingId).Distinct().ToArray();
        var versions = (await db.Findings.AsNoTracking().Where(f => ids.Contains(f.Id)).ToListAsync(cancellationToken))
            .ToLookup(f => f.Id);
        var firstWithdrawals = await FirstWithdrawalsAsync(recorded, cancellationToken);
        var events = new List<FeedEvent>(recorded.Count);
        var reads = 0;
        foreach (var (leafIndex, recordedEvent) in recorded)
        {
            var kind = FeedEvents.Classify(recordedEvent.Kind, recordedEvent.FindingVersion);
            // A withdrawal names the newest version it covers; a received one may name a version
            // that never arrived here, and one that covers nothing held here is not news to anyone.
            var record = versions[recordedEvent.FindingId]
                .Where(f => kind == FeedEventKind.Withdrawn ? f.Version <= recordedEvent.FindingVersion : f.Version == recordedEvent.FindingVersion)
                .MaxBy(f => f.Version);
            if (record is null || (kind == FeedEventKind.Withdrawn && firstWithdrawals.GetValueOrDefault(record.Id, -1) != leafIndex)
                || !filter.Matches(new FeedSubject(record.OriginInstitute, (TlpLevel)record.Label, (RiskDomain)record.RiskDomain, record.ModelName, record.ModelDeveloper)))
            {
                continue;
            }
            var feedEvent = new FeedEvent
            {
                Cursor = FeedEvents.CursorOf(leafIndex),
                Kind = kind,
                OccurredAt = recordedEvent.OccurredAt,
                FindingId = record.Id,
                FindingVersion = recordedEvent.FindingVersion,
                OriginInstitute = record.OriginInstitute,
                Label = (TlpLevel)record.Label,
            };
            if (kind == FeedEventKind.Withdrawn)
            {
                feedEvent.Reason = recordedEvent.Detail;
            }
            else
            {
                feedEvent.Finding = record.ToFinding(protector);
                if (feedEvent.Label.IsClassified())
                {
                    RecordRead(feedEvent.Finding, clientId);
                    reads++;
                }
            }
            events.Add(feedEvent);
        }
        if (reads > 0)
        {
            await db.SaveChangesAsync(cancellationToken);
            db.ChangeTracker.Clear();
        }
        return new FeedPage(events, scannedTo, More: rows.Count == max);
    }

    /// <summary>
    /// A recipient can be told of one withdrawal twice (once for the version a supersession took from
    /// it, again when the origin withdraws the finding): only the first is news.
    /// </summary>
    private async Task<Dictionary<string, long>> FirstWithdrawalsAsync(List<(long LeafIndex, AuditEvent Event)> recorded, CancellationToken cancellationToken)
    {
        var withdrawn = recorded.Where(r => r.Event.Kind == AuditEventKind.FindingWithdrawn).ToList();
        if (withdrawn.Count == 0)
        {
            return [];
        }
        var ids = withdrawn.Select(r => r.Event.FindingId).Distinct().ToArray();
        var last = withdrawn[^1].LeafIndex;
        var kind = nameof(AuditEventKind.FindingWithdrawn);
        var all = await db.AuditEvents.AsNoTracking()
            .Where(e => e.Kind == kind && e.FindingId != null && ids.Contains(e.FindingId) && e.LeafIndex <= last)
            .GroupBy(e => e.FindingId!)
            .Select(g => new { Id = g.Key, First = g.Min(e => e.LeafIndex!.Value) })
            .ToListAsync(cancellationToken);
        return all.ToDictionary(w => w.Id, w => w.First);
    }

    private void RecordRead(Finding finding, string clientId) => audit.Record(new AuditEvent
    {
        Kind = AuditEventKind.FindingRead,
        Actor = clientId,
        FindingId = finding.Id,
        FindingVersion = finding.Version,
        Label = finding.Label.Level,
        Counterparty = finding.OriginInstitute == node.Value.InstituteId ? "" : finding.OriginInstitute,
        Detail = "subscription",
    });
}
