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
public sealed class FeedReader(NodeDbContext db, FindingProtector protector, AuditRecorder audit, IOptions<NodeOptions> node, IOptions<SubscriptionOptions> options)
{
    private static readonly string WithdrawnKind = nameof(AuditEventKind.FindingWithdrawn);
    private static readonly string[] FeedKinds = [.. FeedEvents.AuditKinds];

    /// <summary>The cursor of the end of the feed: the number of entries in the log.</summary>
    public async Task<ulong> EndAsync(CancellationToken cancellationToken) =>
        (ulong)await db.AuditHead.AsNoTracking().Select(h => h.Size).SingleAsync(cancellationToken);

    /// <summary>
    /// Up to <paramref name="max"/> matching events after the cursor, and no more content than the
    /// page budget (one event at least). Reads of AMBER and above are committed to the audit log
    /// before this returns, so before the content leaves the node.
    /// </summary>
    public async Task<FeedPage> ReadAsync(ulong after, FeedFilter filter, string clientId, int max, CancellationToken cancellationToken)
    {
        var size = await db.AuditHead.AsNoTracking().Select(h => h.Size).SingleAsync(cancellationToken);
        // Cursor c is the entry at index c - 1, so "after c" starts at index c.
        var from = checked((long)after);
        var rows = await db.AuditEvents.AsNoTracking()
            .Where(e => e.LeafIndex >= from && e.LeafIndex < size && FeedKinds.Contains(e.Kind))
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
        // The clear columns first: the filter needs no content, and most of a page may not match.
        var versions = (await db.Findings.AsNoTracking()
                .Where(f => ids.Contains(f.Id))
                .Select(f => new StoredVersion(f.Seq, f.Id, f.Version, f.OriginInstitute, f.Label, f.RiskDomain, f.ModelName, f.ModelDeveloper, f.ProtectedContent.Length))
                .ToListAsync(cancellationToken))
            .ToLookup(f => f.Id);
        var earlierWithdrawals = await WithdrawalsAsync(recorded, cancellationToken);

        var chosen = new List<(FeedEvent Event, long? Seq)>();
        long contentBytes = 0;
        var more = rows.Count == max;
        foreach (var (leafIndex, recordedEvent) in recorded)
        {
            var kind = FeedEvents.Classify(recordedEvent.Kind, recordedEvent.FindingVersion);
            // A withdrawal names the newest version it covers; a received one may name a version
            // that never arrived here, and one that covers nothing held here is not news to anyone.
            var version = versions[recordedEvent.FindingId]
                .Where(f => kind == FeedEventKind.Withdrawn ? f.Version <= recordedEvent.FindingVersion : f.Version == recordedEvent.FindingVersion)
                .MaxBy(f => f.Version);
            if (version is null || (kind == FeedEventKind.Withdrawn && AlreadyWithdrawn(earlierWithdrawals, version, leafIndex)))
            {
                continue;
            }
            // A withdrawal is told under the higher of its own label and the version's: its reason
            // is as sensitive as the envelope that carried it.
            var label = kind == FeedEventKind.Withdrawn ? (TlpLevel)Math.Max(version.Label, (int)recordedEvent.Label) : (TlpLevel)version.Label;
            if (!filter.Matches(new FeedSubject(version.OriginInstitute, label, (RiskDomain)version.RiskDomain, version.ModelName, version.ModelDeveloper)))
            {
                continue;
            }
            if (kind != FeedEventKind.Withdrawn && chosen.Count > 0 && contentBytes + version.ContentBytes > options.Value.PageContentBytes)
            {
                // The page is full: stop before this event, which the next page starts with.
                scannedTo = (ulong)leafIndex;
                more = true;
                break;
            }
            var feedEvent = new FeedEvent
            {
                Cursor = FeedEvents.CursorOf(leafIndex),
                Kind = kind,
                OccurredAt = recordedEvent.OccurredAt,
                FindingId = version.Id,
                FindingVersion = recordedEvent.FindingVersion,
                OriginInstitute = version.OriginInstitute,
                Label = label,
            };
            if (kind == FeedEventKind.Withdrawn)
            {
                feedEvent.Reason = recordedEvent.Detail;
                chosen.Add((feedEvent, null));
            }
            else
            {
                contentBytes += version.ContentBytes;
                chosen.Add((feedEvent, version.Seq));
            }
        }

        var seqs = chosen.Where(c => c.Seq is not null).Select(c => c.Seq!.Value).Distinct().ToArray();
        var contents = seqs.Length == 0 ? [] : await db.Findings.AsNoTracking()
            .Where(f => seqs.Contains(f.Seq))
            .ToDictionaryAsync(f => f.Seq, cancellationToken);
        var reads = 0;
        foreach (var (feedEvent, seq) in chosen)
        {
            if (seq is not { } s)
            {
                continue;
            }
            feedEvent.Finding = contents[s].ToFinding(protector);
            if (feedEvent.Label.IsClassified())
            {
                RecordRead(feedEvent.Finding, clientId);
                reads++;
            }
        }
        if (reads > 0)
        {
            await db.SaveChangesAsync(cancellationToken);
            db.ChangeTracker.Clear();
        }
        return new FeedPage([.. chosen.Select(c => c.Event)], scannedTo, more);
    }

    private sealed record StoredVersion(long Seq, string Id, int Version, string OriginInstitute, int Label, int RiskDomain, string ModelName, string ModelDeveloper, int ContentBytes);

    /// <summary>
    /// A recipient can be told of one withdrawal twice (once for the version a supersession took from
    /// it, again when the origin withdraws the finding): it is news only if no earlier withdrawal
    /// already covered the version it comes to here.
    /// </summary>
    private static bool AlreadyWithdrawn(ILookup<string, (long LeafIndex, int Version)> earlier, StoredVersion version, long leafIndex) =>
        earlier[version.Id].Any(w => w.LeafIndex < leafIndex && w.Version >= version.Version);

    private async Task<ILookup<string, (long LeafIndex, int Version)>> WithdrawalsAsync(List<(long LeafIndex, AuditEvent Event)> recorded, CancellationToken cancellationToken)
    {
        var withdrawn = recorded.Where(r => r.Event.Kind == AuditEventKind.FindingWithdrawn).ToList();
        if (withdrawn.Count == 0)
        {
            return Array.Empty<(string, long, int)>().ToLookup(w => w.Item1, w => (w.Item2, w.Item3));
        }
        var ids = withdrawn.Select(r => r.Event.FindingId).Distinct().ToArray();
        var last = withdrawn[^1].LeafIndex;
        // Withdrawals are rare: every one of these findings' up to the last here is a small read.
        var all = await db.AuditEvents.AsNoTracking()
            .Where(e => e.Kind == WithdrawnKind && e.FindingId != null && ids.Contains(e.FindingId) && e.LeafIndex < last)
            .Select(e => new { e.FindingId, LeafIndex = e.LeafIndex!.Value, e.Event })
            .ToListAsync(cancellationToken);
        return all.ToLookup(w => w.FindingId!, w => (w.LeafIndex, AuditEvent.Parser.ParseFrom(w.Event).FindingVersion));
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
