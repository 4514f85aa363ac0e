using Exchange.Domain.Access;
using Exchange.Domain.Subscriptions;
using Exchange.Node.Access;
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
/// <para>
/// What a subscriber is shown is decided from the log alone, so that a replay from any cursor shows
/// the same: a version is shown at the entry where it became readable here (<see cref="FeedEvents.Shows"/>)
/// if the access rule and the subscriber's filter let it see that version. A subscriber is told
/// when the version it was shown stops being current, whatever replaced it: a later version it may
/// not see, or a withdrawal, gives a <see cref="FeedEvent.Withheld"/> event that names only its own
/// version.
/// </para>
/// </summary>
public sealed class FeedReader(NodeDbContext db, FindingGate gate, IOptions<SubscriptionOptions> options)
{
    private const string Via = "subscription";
    private static readonly string[] FeedKinds = [.. FeedEvents.AuditKinds];

    /// <summary>The cursor of the end of the feed: the number of entries in the log.</summary>
    public async Task<ulong> EndAsync(CancellationToken cancellationToken) =>
        (ulong)await db.AuditHead.AsNoTracking().Select(h => h.Size).SingleAsync(cancellationToken);

    /// <summary>
    /// Up to <paramref name="max"/> matching events after the cursor, and no more content than the
    /// page budget (one event at least). Reads of AMBER and above are committed to the audit log
    /// before this returns, so before the content leaves the node.
    /// </summary>
    public async Task<FeedPage> ReadAsync(ulong after, FeedFilter filter, Caller caller, int max, CancellationToken cancellationToken)
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
        var histories = await HistoriesAsync(ids, size, cancellationToken);

        bool Visible(StoredVersion v) =>
            FindingAccessRule.Decide(caller.Scopes, (TlpLevel)v.Label, held: false).MayReadContent
            && filter.Matches(new FeedSubject(v.OriginInstitute, (TlpLevel)v.Label, (RiskDomain)v.RiskDomain, v.ModelName, v.ModelDeveloper));

        // Each chosen event, and the stored version whose content (or withdrawal reason) it carries.
        var chosen = new List<(FeedEvent Event, StoredVersion? Read)>();
        long contentBytes = 0;
        var more = rows.Count == max;
        foreach (var (leafIndex, recordedEvent) in recorded)
        {
            if (!histories.TryGetValue(recordedEvent.FindingId, out var history))
            {
                continue;
            }
            FeedEvent? feedEvent;
            StoredVersion? read;
            if (recordedEvent.Kind == AuditEventKind.FindingWithdrawn)
            {
                (feedEvent, read) = Withdrawal(history, leafIndex, recordedEvent, Visible);
            }
            else
            {
                (feedEvent, read) = Shown(history, leafIndex, recordedEvent, Visible);
            }
            if (feedEvent is null)
            {
                continue;
            }
            if (read is not null && feedEvent.Kind != FeedEventKind.Withdrawn)
            {
                if (chosen.Count > 0 && contentBytes + read.ContentBytes > options.Value.PageContentBytes)
                {
                    // The page is full: stop before this event, which the next page starts with.
                    scannedTo = (ulong)leafIndex;
                    more = true;
                    break;
                }
                contentBytes += read.ContentBytes;
            }
            feedEvent.Cursor = FeedEvents.CursorOf(leafIndex);
            feedEvent.OccurredAt = recordedEvent.OccurredAt;
            chosen.Add((feedEvent, read));
        }

        var events = await AttachContentAsync(chosen, caller, cancellationToken);
        return new FeedPage(events, scannedTo, more);
    }

    /// <summary>A version becoming readable here: shown if the subscriber may see it, else a withheld supersession of what it holds.</summary>
    private static (FeedEvent?, StoredVersion?) Shown(FindingHistory history, long leafIndex, AuditEvent recorded, Func<StoredVersion, bool> visible)
    {
        var version = history.Version(recorded.FindingVersion);
        // An arrival held for an embargo is shown at its release, not here.
        if (version is null || history.ShownAt(version.Version) != leafIndex)
        {
            return (null, null);
        }
        if (visible(version))
        {
            return (Event(FeedEvents.Classify(recorded.Kind, version.Version), version), version);
        }
        // Someone shown the version this one replaces is told it is no longer current, no more.
        var held = history.NewestShownBefore(leafIndex, except: version.Version);
        if (held is null || held.Version > version.Version || !visible(held) || history.WithdrawnBefore(held.Version, leafIndex))
        {
            return (null, null);
        }
        var notice = Event(FeedEventKind.Superseded, held);
        notice.Withheld = true;
        return (notice, null);
    }

    /// <summary>
    /// A withdrawal, told once to whoever was shown a version it covers, about the newest such
    /// version: with the origin's reason if that is the version the withdrawal is about (the reason
    /// being that version's free text, its read is audited), withheld otherwise.
    /// </summary>
    private static (FeedEvent?, StoredVersion?) Withdrawal(FindingHistory history, long leafIndex, AuditEvent recorded, Func<StoredVersion, bool> visible)
    {
        var shown = history.ShownBefore(leafIndex).Where(v => v.Version <= recorded.FindingVersion).ToList();
        var newest = shown.MaxBy(v => v.Version);
        var held = shown.Where(visible).MaxBy(v => v.Version);
        if (held is null || history.WithdrawnBefore(held.Version, leafIndex))
        {
            return (null, null);
        }
        var feedEvent = Event(FeedEventKind.Withdrawn, held);
        if (held != newest)
        {
            feedEvent.Withheld = true;
            return (feedEvent, null);
        }
        return (feedEvent, held);
    }

    private static FeedEvent Event(FeedEventKind kind, StoredVersion version) => new()
    {
        Kind = kind,
        FindingId = version.Id,
        FindingVersion = version.Version,
        OriginInstitute = version.OriginInstitute,
        Label = (TlpLevel)version.Label,
    };

    /// <summary>
    /// Unseals what the chosen events carry, through the access rule's gate, which records the reads
    /// of AMBER and above and commits them before this returns.
    /// </summary>
    private async Task<IReadOnlyList<FeedEvent>> AttachContentAsync(List<(FeedEvent Event, StoredVersion? Read)> chosen, Caller caller, CancellationToken cancellationToken)
    {
        var seqs = chosen.Where(c => c.Read is not null).Select(c => c.Read!.Seq).Distinct().ToArray();
        if (seqs.Length == 0)
        {
            return [.. chosen.Select(c => c.Event)];
        }
        var records = (await db.Findings.AsNoTracking().Where(f => seqs.Contains(f.Seq)).ToListAsync(cancellationToken)).ToDictionary(r => r.Seq);
        // One read per event: a version shown twice in a page (its arrival and its withdrawal) is read twice.
        var reads = chosen.Where(c => c.Read is not null).ToList();
        var shown = await gate.ReadAsync(caller, [.. reads.Select(c => records[c.Read!.Seq])], Via, cancellationToken);
        var contents = new Dictionary<FeedEvent, Finding?>(ReferenceEqualityComparer.Instance);
        for (var i = 0; i < reads.Count; i++)
        {
            contents[reads[i].Event] = shown[i];
        }
        var events = new List<FeedEvent>(chosen.Count);
        foreach (var (feedEvent, read) in chosen)
        {
            if (read is null)
            {
                events.Add(feedEvent);
                continue;
            }
            var finding = contents[feedEvent];
            if (feedEvent.Kind == FeedEventKind.Withdrawn)
            {
                // Without the content the subscriber still learns of the withdrawal, withheld.
                feedEvent.Reason = finding?.WithdrawalReason ?? "";
                feedEvent.Withheld = finding is null;
                events.Add(feedEvent);
            }
            else if (finding is not null)
            {
                feedEvent.Finding = finding;
                events.Add(feedEvent);
            }
        }
        return events;
    }

    /// <summary>
    /// Every version of these findings and where in the log (below <paramref name="size"/>) each was
    /// shown and withdrawn: what a subscriber was shown before any entry follows from these alone.
    /// </summary>
    private async Task<Dictionary<string, FindingHistory>> HistoriesAsync(string[] ids, long size, CancellationToken cancellationToken)
    {
        // The clear columns only: the filter needs no content, and most of a page may not match.
        var versions = (await db.Findings.AsNoTracking()
                .Where(f => ids.Contains(f.Id))
                .Select(f => new StoredVersion(f.Seq, f.Id, f.Version, f.OriginInstitute, f.Label, f.RiskDomain, f.ModelName, f.ModelDeveloper, f.ProtectedContent.Length))
                .ToListAsync(cancellationToken))
            .ToLookup(f => f.Id);
        var entries = (await db.AuditEvents.AsNoTracking()
                .Where(e => e.FindingId != null && ids.Contains(e.FindingId) && FeedKinds.Contains(e.Kind) && e.LeafIndex != null && e.LeafIndex < size)
                .Select(e => new { e.FindingId, LeafIndex = e.LeafIndex!.Value, e.Event })
                .ToListAsync(cancellationToken))
            .ToLookup(e => e.FindingId!, e => (e.LeafIndex, Event: AuditEvent.Parser.ParseFrom(e.Event)));
        return ids.Where(id => versions[id].Any())
            .ToDictionary(id => id, id => new FindingHistory([.. versions[id]], [.. entries[id]]));
    }

    private sealed record StoredVersion(long Seq, string Id, int Version, string OriginInstitute, int Label, int RiskDomain, string ModelName, string ModelDeveloper, int ContentBytes);

    /// <summary>One finding's versions held here, where each was shown, and where each withdrawal (and of which version) was recorded.</summary>
    private sealed class FindingHistory
    {
        private readonly Dictionary<int, StoredVersion> _versions;
        private readonly Dictionary<int, long> _shownAt = [];
        private readonly List<(long LeafIndex, int Version)> _withdrawals = [];

        public FindingHistory(IReadOnlyList<StoredVersion> versions, IReadOnlyList<(long LeafIndex, AuditEvent Event)> entries)
        {
            _versions = versions.ToDictionary(v => v.Version);
            foreach (var (leafIndex, recorded) in entries.OrderBy(e => e.LeafIndex))
            {
                if (recorded.Kind == AuditEventKind.FindingWithdrawn)
                {
                    _withdrawals.Add((leafIndex, recorded.FindingVersion));
                }
                else if (FeedEvents.Shows(recorded))
                {
                    _shownAt.TryAdd(recorded.FindingVersion, leafIndex);
                }
            }
        }

        public StoredVersion? Version(int version) => _versions.GetValueOrDefault(version);

        public long? ShownAt(int version) => _shownAt.TryGetValue(version, out var at) ? at : null;

        public IEnumerable<StoredVersion> ShownBefore(long leafIndex) =>
            _shownAt.Where(s => s.Value < leafIndex && _versions.ContainsKey(s.Key)).Select(s => _versions[s.Key]);

        public StoredVersion? NewestShownBefore(long leafIndex, int except) =>
            ShownBefore(leafIndex).Where(v => v.Version != except).MaxBy(v => v.Version);

        /// <summary>An earlier withdrawal already covered this version (a recipient may be told twice: when a new version left it out, then when the finding was withdrawn).</summary>
        public bool WithdrawnBefore(int version, long leafIndex) =>
            _withdrawals.Any(w => w.LeafIndex < leafIndex && w.Version >= version);
    }
}
