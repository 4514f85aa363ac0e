using Exchange.Domain;
using Exchange.Node.Disclosure;
using Exchange.Node.Persistence;
using Exchange.Testing;
using Exchange.V1;
using Google.Protobuf.WellKnownTypes;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Xunit.Abstractions;

namespace Exchange.Node.Tests;

/// <summary>
/// Whoever was shown a version is told, content-free, when it stops being current, whatever the
/// label of what replaced it and whatever their filter; node to node, withdrawals go to every
/// institute that holds a version and only to them, naming only what each was entitled to.
/// Properties over random histories of findings (versions of random labels, domains and audiences,
/// some embargoed, some withdrawn): a failure prints the seed that reproduces it
/// (EXCHANGE_PROPERTY_SEED=&lt;seed&gt;).
/// </summary>
public abstract class PartnersToldTests(NodeFixture fixture, ITestOutputHelper output)
{
    private static readonly TlpLevel[] Labels = [TlpLevel.Clear, TlpLevel.Green, TlpLevel.Amber, TlpLevel.AmberStrict, TlpLevel.Red];
    private static readonly string[] Peers = ["us", "jp", "fr"];

    private sealed record Step(SubmitFindingRequest Request, SubmitFindingResponse Response);

    private sealed record History(string Id, List<Step> Versions, string? WithdrawnFor)
    {
        public int Current => Versions.Count;
        public TlpLevel LabelOf(int version) => Versions[version - 1].Request.Label.Level;
    }

    private static Random NewRandom(out int seed)
    {
        seed = int.TryParse(Environment.GetEnvironmentVariable("EXCHANGE_PROPERTY_SEED"), out var fixedSeed) ? fixedSeed : Random.Shared.Next();
        return new Random(seed);
    }

    /// <summary>Submits <paramref name="count"/> random findings, each 1 to 4 versions, about 60 % of them then withdrawn.</summary>
    private async Task<List<History>> RandomHistoriesAsync(Random random, string model, int count)
    {
        var auth = await fixture.Node.AuthAsync(TestClients.Everything);
        var histories = new List<History>();
        for (var f = 0; f < count; f++)
        {
            var steps = new List<Step>();
            var id = "";
            var versions = random.Next(1, 5);
            for (var v = 1; v <= versions; v++)
            {
                var request = SampleFindings.Valid(Labels[random.Next(Labels.Length)], random.Next(2) == 0 ? RiskDomain.Cyber : RiskDomain.ChemBio,
                    institutes: [.. Peers.Where(_ => random.Next(3) > 0)], groups: random.Next(4) == 0 ? ["g7"] : []);
                request.Content.Model.Name = model;
                request.SupersedesFindingId = id;
                if (random.Next(8) == 0)
                {
                    request.Policy.EmbargoUntil = Timestamp.FromDateTimeOffset(fixture.Time.GetUtcNow().AddDays(30));
                }
                var response = await fixture.Findings.SubmitFindingAsync(request, auth);
                id = response.Finding.Id;
                steps.Add(new(request, response));
            }
            string? reason = null;
            if (random.Next(10) < 6)
            {
                reason = $"withdrawn for reason {Guid.NewGuid():N}";
                await fixture.Findings.WithdrawFindingAsync(new WithdrawFindingRequest { Id = id, Reason = reason }, auth);
            }
            histories.Add(new History(id, steps, reason));
        }
        return histories;
    }

    [Fact]
    public async Task Whoever_was_shown_a_version_is_told_when_it_stops_being_current_whatever_replaced_it_and_whatever_their_filter()
    {
        var random = NewRandom(out var seed);
        output.WriteLine($"seed {seed}");
        var model = $"told-{Guid.NewGuid():N}";
        var start = await FeedEndAsync();
        var histories = await RandomHistoriesAsync(random, model, 12);
        var truth = histories.ToDictionary(h => h.Id);

        // Readers with and without the RED scope, with no filter, a random label filter, a risk-domain filter.
        var subscribers = new List<(string Client, SubscribeRequest Request)>();
        foreach (var client in new[] { TestClients.Reader, TestClients.RedReader })
        {
            subscribers.Add((client, new SubscribeRequest { AfterCursor = start, Model = model }));
            subscribers.Add((client, new SubscribeRequest { AfterCursor = start, Model = model, Labels = { Labels.Where(_ => random.Next(2) == 0).DefaultIfEmpty(TlpLevel.Amber) } }));
            subscribers.Add((client, new SubscribeRequest { AfterCursor = start, Model = model, RiskDomains = { RiskDomain.Cyber } }));
        }
        await Eventually.TrueAsync(async () =>
        {
            await using var scope = fixture.Node.Services.CreateAsyncScope();
            return !await scope.ServiceProvider.GetRequiredService<NodeDbContext>().AuditEvents.AnyAsync(e => e.LeafIndex == null);
        }, "the log has placed the history");

        var problems = new List<string>();
        foreach (var (client, request) in subscribers)
        {
            var mayReadRed = TestClients.ScopesByClient[client].Contains(Scopes.FindingsReadRed);
            var who = $"{client} [{request.Labels.Count} labels: {string.Join(",", request.Labels)}; domains: {string.Join(",", request.RiskDomains)}]";
            await using var subscriber = await FeedSubscriber.OpenAsync(new SubscriptionService.SubscriptionServiceClient(fixture.Channel), request, await fixture.Node.AuthAsync(client));
            // What a partner system makes of the feed: per finding, the version it holds and in what state.
            var held = new Dictionary<string, (int Version, FindingState State)>();
            foreach (var e in subscriber.EventsBeforeLive)
            {
                var label = truth[e.FindingId].LabelOf(e.FindingVersion);
                if (e.Label != label)
                {
                    problems.Add($"{who}: {e.Kind} of {e.FindingId} v{e.FindingVersion} says {e.Label}; that version is {label}");
                }
                if (e.Kind is FeedEventKind.Published or FeedEventKind.Superseded && !e.Withheld)
                {
                    var domain = truth[e.FindingId].Versions[e.FindingVersion - 1].Request.Content.Evaluation.RiskDomain;
                    if ((label == TlpLevel.Red && !mayReadRed) || (request.Labels.Count > 0 && !request.Labels.Contains(label))
                        || (request.RiskDomains.Count > 0 && !request.RiskDomains.Contains(domain)))
                    {
                        problems.Add($"{who} was shown {e.FindingId} v{e.FindingVersion} ({label}, {domain})");
                    }
                    if (e.Finding is null)
                    {
                        problems.Add($"{who}: {e.Kind} of {e.FindingId} v{e.FindingVersion} carries no finding");
                    }
                    held[e.FindingId] = (e.FindingVersion, FindingState.Active);
                    continue;
                }
                if (e.Withheld && (e.Finding is not null || e.Reason.Length > 0))
                {
                    problems.Add($"{who}: a withheld {e.Kind} of {e.FindingId} carries content");
                }
                if (!held.TryGetValue(e.FindingId, out var mine) || mine.Version != e.FindingVersion)
                {
                    problems.Add($"{who} was told {e.Kind} of {e.FindingId} v{e.FindingVersion}, a version it was not shown");
                    continue;
                }
                if (mine.State == FindingState.Withdrawn || (mine.State == FindingState.Superseded && e.Kind == FeedEventKind.Superseded))
                {
                    problems.Add($"{who} was told twice that {e.FindingId} v{e.FindingVersion} is {mine.State}");
                }
                held[e.FindingId] = (e.FindingVersion, e.Kind == FeedEventKind.Withdrawn ? FindingState.Withdrawn : FindingState.Superseded);
            }
            foreach (var (id, mine) in held)
            {
                var history = truth[id];
                var expected = history.WithdrawnFor is not null ? FindingState.Withdrawn
                    : mine.Version == history.Current ? FindingState.Active : FindingState.Superseded;
                if (mine.State != expected)
                {
                    problems.Add($"{who} holds {id} v{mine.Version} as {mine.State}; it is {expected} (current v{history.Current}{(history.WithdrawnFor is null ? "" : ", withdrawn")})");
                }
            }
        }
        Assert.True(problems.Count == 0, $"seed {seed}:{Environment.NewLine}{string.Join(Environment.NewLine, problems.Take(40))}");
    }

    [Fact]
    public async Task Withdrawals_reach_every_institute_that_holds_a_version_and_only_them_naming_only_what_each_holds()
    {
        var random = NewRandom(out var seed);
        output.WriteLine($"seed {seed}");
        var histories = await RandomHistoriesAsync(random, $"told-{Guid.NewGuid():N}", 16);
        var envelopes = new TestEnvelopes(fixture.Manifest);
        var problems = new List<string>();
        foreach (var history in histories)
        {
            // What each peer was sent, version by version, and what it must be told.
            var expected = new List<(string Recipient, int Version, TlpLevel Label, string Reason)>();
            var holds = new Dictionary<string, int>();
            var told = new HashSet<(string, int)>();
            for (var v = 1; v <= history.Current; v++)
            {
                var decisions = history.Versions[v - 1].Response.Decisions;
                if (v > 1)
                {
                    var permitted = decisions.Where(d => d.Outcome is DisclosureOutcome.Allow or DisclosureOutcome.Scheduled).Select(d => d.InstituteId).ToHashSet();
                    foreach (var (peer, version) in holds.Where(h => !permitted.Contains(h.Key) && !told.Contains((h.Key, h.Value))))
                    {
                        expected.Add((peer, version, history.LabelOf(version), "superseded by a version not shared with you"));
                        told.Add((peer, version));
                    }
                }
                foreach (var sent in decisions.Where(d => d.Outcome == DisclosureOutcome.Allow))
                {
                    holds[sent.InstituteId] = v;
                }
            }
            if (history.WithdrawnFor is { } reason)
            {
                foreach (var (peer, version) in holds)
                {
                    expected.Add((peer, version, history.LabelOf(version), version == history.Current ? reason : DisclosureWriter.WithheldReason));
                }
            }

            await using var scope = fixture.Node.Services.CreateAsyncScope();
            var rows = await scope.ServiceProvider.GetRequiredService<NodeDbContext>().Outbox.AsNoTracking()
                .Where(o => o.FindingId == history.Id && o.Kind == (int)EnvelopeKind.Withdrawal).ToListAsync();
            var actual = rows.Select(row =>
            {
                var header = TestEnvelopes.HeaderOf(row.Envelope);
                var payload = WithdrawalPayload.Parser.ParseFrom(envelopes.Open(row.Recipient, row.Envelope).Payload);
                return (header.Recipient, header.FindingVersion, header.Label, payload.Reason);
            }).ToList();
            var missing = expected.Except(actual).ToList();
            var extra = actual.Except(expected).ToList();
            if (missing.Count > 0 || extra.Count > 0 || actual.Count != expected.Count)
            {
                var labels = string.Join(" ", Enumerable.Range(1, history.Current).Select(v => $"v{v}:{history.LabelOf(v)}→[{string.Join(",", history.Versions[v - 1].Response.Decisions.Where(d => d.Outcome == DisclosureOutcome.Allow).Select(d => d.InstituteId))}]"));
                problems.Add($"{history.Id} ({labels}{(history.WithdrawnFor is null ? "" : ", withdrawn")}): missing {string.Join("; ", missing)}; not expected {string.Join("; ", extra)}");
            }
        }
        Assert.True(problems.Count == 0, $"seed {seed}:{Environment.NewLine}{string.Join(Environment.NewLine, problems.Take(20))}");
    }

    private async Task<ulong> FeedEndAsync()
    {
        await using var subscriber = await FeedSubscriber.OpenAsync(new SubscriptionService.SubscriptionServiceClient(fixture.Channel),
            new SubscribeRequest { FromNow = true }, await fixture.Node.AuthAsync(TestClients.Reader));
        return subscriber.StartCursor;
    }
}

public sealed class PartnersToldTests_on_Sqlite(SqliteNodeFixture fixture, ITestOutputHelper output) : PartnersToldTests(fixture, output), IClassFixture<SqliteNodeFixture>;

public sealed class PartnersToldTests_on_Postgres(PostgresNodeFixture fixture, ITestOutputHelper output) : PartnersToldTests(fixture, output), IClassFixture<PostgresNodeFixture>;
