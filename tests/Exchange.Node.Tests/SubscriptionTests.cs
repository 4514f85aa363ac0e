using Exchange.Node.Persistence;
using Exchange.Testing;
using Exchange.V1;
using Grpc.Core;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using static Exchange.Node.Tests.Assertions;

namespace Exchange.Node.Tests;

/// <summary>
/// SubscriptionService.Subscribe through the real pipeline on each database. Every test names its own
/// model and filters on it, so the findings of the other tests on the shared node stay out of its feed.
/// </summary>
public abstract class SubscriptionTests(NodeFixture fixture)
{
    private SubscriptionService.SubscriptionServiceClient Subscriptions => new(fixture.Channel);

    private static string NewModel() => $"model-{Guid.NewGuid():N}";

    private static SubmitFindingRequest Finding(string model, TlpLevel label = TlpLevel.Green, RiskDomain domain = RiskDomain.Cyber)
    {
        var request = SampleFindings.Valid(label, domain, institutes: ["us"]);
        request.Content.Model.Name = model;
        return request;
    }

    private async Task<Finding> SubmitAsync(SubmitFindingRequest request) =>
        (await fixture.Findings.SubmitFindingAsync(request, await fixture.Node.AuthAsync(TestClients.Submitter))).Finding;

    private async Task<FeedSubscriber> OpenAsync(SubscribeRequest request, string client = TestClients.Reader) =>
        await FeedSubscriber.OpenAsync(Subscriptions, request, await fixture.Node.AuthAsync(client));

    private async Task<T> QueryAsync<T>(Func<NodeDbContext, Task<T>> query)
    {
        await using var scope = fixture.Node.Services.CreateAsyncScope();
        return await query(scope.ServiceProvider.GetRequiredService<NodeDbContext>());
    }

    // The feed is the integrated audit log: an event is in it once the integrator has placed it.
    private Task AllIntegratedAsync() =>
        Eventually.TrueAsync(() => QueryAsync(async db => !await db.AuditEvents.AnyAsync(e => e.LeafIndex == null)), "every audit event is in the log");

    [Fact]
    public async Task A_findings_publication_supersession_and_withdrawal_arrive_in_order_each_at_its_audit_entry()
    {
        var model = NewModel();
        await using var live = await OpenAsync(new SubscribeRequest { FromNow = true, Model = model });

        var v1 = await SubmitAsync(Finding(model));
        var next = Finding(model);
        next.SupersedesFindingId = v1.Id;
        var v2 = await SubmitAsync(next);
        await fixture.Findings.WithdrawFindingAsync(new WithdrawFindingRequest { Id = v1.Id, Reason = "metric was mis-scored" }, await fixture.Node.AuthAsync(TestClients.Submitter));

        var events = await live.NextEventsAsync(3);

        Assert.Equal([FeedEventKind.Published, FeedEventKind.Superseded, FeedEventKind.Withdrawn], events.Select(e => e.Kind));
        Assert.Equal([1, 2, 2], events.Select(e => e.FindingVersion));
        Assert.All(events, e => Assert.Equal(v1.Id, e.FindingId));
        Assert.Equal(v1.Content.Title, events[0].Finding.Content.Title);
        Assert.Equal(v2.Version, events[1].Finding.Version);
        Assert.Null(events[2].Finding);
        Assert.Equal("metric was mis-scored", events[2].Reason);
        Assert.True(events[0].Cursor > live.StartCursor && events[0].Cursor < events[1].Cursor && events[1].Cursor < events[2].Cursor);
        // The cursor is the event's place in the audit log: an auditor finds it there.
        foreach (var e in events)
        {
            var index = (long)e.Cursor - 1;
            var entry = await QueryAsync(db => db.AuditEvents.SingleAsync(a => a.LeafIndex == index));
            Assert.Equal(e.FindingId, entry.FindingId);
            Assert.Equal(e.FindingVersion, AuditEvent.Parser.ParseFrom(entry.Event).FindingVersion);
        }

        // From the beginning, the same three events, with the same cursors.
        await using var replay = await OpenAsync(new SubscribeRequest { Model = model });
        Assert.Equal(events.Select(e => e.Cursor), replay.EventsBeforeLive.Select(e => e.Cursor));
    }

    [Fact]
    public async Task Many_concurrent_subscribers_each_receive_every_event_once_in_cursor_order()
    {
        var model = NewModel();
        var subscribers = await Task.WhenAll(Enumerable.Range(0, 20).Select(_ => OpenAsync(new SubscribeRequest { FromNow = true, Model = model })));
        try
        {
            var submitted = new System.Collections.Concurrent.ConcurrentBag<string>();
            await Parallel.ForEachAsync(Enumerable.Range(0, 60), new ParallelOptions { MaxDegreeOfParallelism = 8 },
                async (_, _) => submitted.Add((await SubmitAsync(Finding(model))).Id));

            var received = await Task.WhenAll(subscribers.Select(s => s.NextEventsAsync(60)));

            foreach (var events in received)
            {
                Assert.Equal(submitted.Order(), events.Select(e => e.FindingId).Order());
                Assert.Equal(events.Select(e => e.Cursor).Order(), events.Select(e => e.Cursor));
                Assert.Equal(60, events.Select(e => e.Cursor).Distinct().Count());
                Assert.Equal(received[0].Select(e => e.Cursor), events.Select(e => e.Cursor));
            }
        }
        finally
        {
            foreach (var subscriber in subscribers)
            {
                await subscriber.DisposeAsync();
            }
        }
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    public async Task Resuming_from_the_last_cursor_after_disconnects_at_random_points_misses_nothing_and_repeats_nothing(int seed)
    {
        var random = new Random(seed);
        var model = NewModel();
        const int Count = 40;
        var auth = await fixture.Node.AuthAsync(TestClients.Reader);
        await using var reference = await OpenAsync(new SubscribeRequest { FromNow = true, Model = model });
        var submitting = Task.Run(async () =>
        {
            for (var i = 0; i < Count; i++)
            {
                var request = Finding(model, i % 3 == 0 ? TlpLevel.Amber : TlpLevel.Green);
                if (i % 7 == 0)
                {
                    await Task.Delay(random.Next(0, 300));
                }
                await SubmitAsync(request);
            }
        });

        // Drop the connection after a random number of items (events or heartbeats), resume from
        // the last cursor seen, until every event has come.
        var seen = new List<FeedEvent>();
        var cursor = reference.StartCursor;
        var reconnects = 0;
        while (seen.Count < Count)
        {
            using var drop = new CancellationTokenSource(TimeSpan.FromSeconds(60));
            using var call = Subscriptions.Subscribe(new SubscribeRequest { AfterCursor = cursor, Model = model, HeartbeatSeconds = 1 }, auth, cancellationToken: drop.Token);
            var items = random.Next(1, 8);
            for (var i = 0; i < items && seen.Count < Count && await call.ResponseStream.MoveNext(drop.Token); i++)
            {
                var item = call.ResponseStream.Current;
                if (item.Event is { } e)
                {
                    seen.Add(e);
                    cursor = e.Cursor;
                }
                else
                {
                    cursor = item.Heartbeat.Cursor;
                }
            }
            await drop.CancelAsync();
            reconnects++;
        }
        await submitting;

        var expected = await reference.NextEventsAsync(Count);
        Assert.Equal(expected.Select(e => (e.Cursor, e.FindingId)), seen.Select(e => (e.Cursor, e.FindingId)));
        Assert.True(reconnects > 3, $"only {reconnects} reconnects");
    }

    [Fact]
    public async Task Filters_select_by_label_risk_domain_origin_and_model()
    {
        var model = NewModel();
        var green = await SubmitAsync(Finding(model, TlpLevel.Green, RiskDomain.Cyber));
        var amber = await SubmitAsync(Finding(model, TlpLevel.Amber, RiskDomain.Cyber));
        var bio = await SubmitAsync(Finding(model, TlpLevel.Green, RiskDomain.ChemBio));
        var other = Finding(NewModel());
        other.Content.Model.Developer = model;
        var byDeveloper = await SubmitAsync(other);
        await AllIntegratedAsync();

        async Task<string[]> Ids(SubscribeRequest request)
        {
            await using var subscriber = await OpenAsync(request);
            return [.. subscriber.EventsBeforeLive.Select(e => e.FindingId)];
        }

        // The model filter matches the name or the developer, in any case.
        Assert.Equal([green.Id, amber.Id, bio.Id, byDeveloper.Id], await Ids(new SubscribeRequest { Model = model.ToUpperInvariant(), OriginInstitutes = { "uk" } }));
        Assert.Equal([amber.Id], await Ids(new SubscribeRequest { Model = model, Labels = { TlpLevel.Amber } }));
        Assert.Equal([green.Id, bio.Id, byDeveloper.Id], await Ids(new SubscribeRequest { Model = model, Labels = { TlpLevel.Green, TlpLevel.Clear } }));
        Assert.Equal([bio.Id], await Ids(new SubscribeRequest { Model = model, RiskDomains = { RiskDomain.ChemBio } }));
        Assert.Empty(await Ids(new SubscribeRequest { Model = model, OriginInstitutes = { "us" } }));
        Assert.Equal([byDeveloper.Id], await Ids(new SubscribeRequest { Model = other.Content.Model.Name }));
    }

    [Fact]
    public async Task Red_events_need_the_red_scope_and_every_read_of_a_classified_finding_is_audited()
    {
        var model = NewModel();
        var amber = await SubmitAsync(Finding(model, TlpLevel.Amber));
        var green = await SubmitAsync(Finding(model, TlpLevel.Green));
        var red = await SubmitAsync(Finding(model, TlpLevel.Red));
        await AllIntegratedAsync();

        await using (var reader = await OpenAsync(new SubscribeRequest { Model = model }, TestClients.Reader))
        {
            Assert.Equal([amber.Id, green.Id], reader.EventsBeforeLive.Select(e => e.FindingId));
            // Its cursor still moves past the RED event it was not shown, so resuming from it does
            // not scan that stretch again.
            var redCursor = await QueryAsync(db => db.AuditEvents
                .Where(e => e.FindingId == red.Id && e.Kind == nameof(AuditEventKind.FindingSubmitted)).Select(e => e.LeafIndex).SingleAsync());
            Assert.True(reader.StartCursor > (ulong)redCursor!.Value);
        }
        await using (var redReader = await OpenAsync(new SubscribeRequest { Model = model }, TestClients.RedReader))
        {
            Assert.Equal([amber.Id, green.Id, red.Id], redReader.EventsBeforeLive.Select(e => e.FindingId));
        }

        var reads = await QueryAsync(db => db.AuditEvents
            .Where(e => e.Kind == nameof(AuditEventKind.FindingRead) && (e.FindingId == red.Id || e.FindingId == amber.Id || e.FindingId == green.Id))
            .Select(e => e.Event).ToListAsync());
        var byFinding = reads.Select(AuditEvent.Parser.ParseFrom).Where(e => e.Detail == "subscription")
            .GroupBy(e => e.FindingId).ToDictionary(g => g.Key, g => g.Select(e => e.Actor).Order().ToArray());
        Assert.Equal([TestClients.Reader, TestClients.RedReader], byFinding[amber.Id]);
        Assert.Equal([TestClients.RedReader], byFinding[red.Id]);
        Assert.False(byFinding.ContainsKey(green.Id));
    }

    [Fact]
    public async Task Subscribing_needs_findings_read()
    {
        await FailsWith(StatusCode.PermissionDenied, () => OpenAsync(new SubscribeRequest(), TestClients.Auditor));
        await FailsWith(StatusCode.Unauthenticated, () => FeedSubscriber.OpenAsync(Subscriptions, new SubscribeRequest(), []));
    }

    [Fact]
    public async Task A_bad_subscription_names_every_bad_field()
    {
        var e = await FailsWith(StatusCode.InvalidArgument, () => OpenAsync(new SubscribeRequest
        {
            Labels = { TlpLevel.Unspecified },
            RiskDomains = { (RiskDomain)999 },
            OriginInstitutes = { "atlantis" },
            HeartbeatSeconds = 301,
            FromNow = true,
            AfterCursor = 1,
        }));
        Assert.Equal(["from_now", "heartbeat_seconds", "labels[0]", "origin_institutes[0]", "risk_domains[0]"], e.FieldViolations().Keys.Order());

        var beyond = await FailsWith(StatusCode.InvalidArgument, () => OpenAsync(new SubscribeRequest { AfterCursor = 1UL << 40 }));
        Assert.Contains("after_cursor", beyond.FieldViolations().Keys);
    }

    [Fact]
    public async Task A_subscriber_that_stops_reading_does_not_hold_up_the_others()
    {
        var model = NewModel();
        // Opened, then never read again while a few megabytes of findings are published.
        await using var stalled = await OpenAsync(new SubscribeRequest { FromNow = true, Model = model });
        await using var reading = await OpenAsync(new SubscribeRequest { FromNow = true, Model = model });
        var narrative = new string('x', 60_000);
        for (var i = 0; i < 100; i++)
        {
            var request = Finding(model);
            request.Content.Narrative = narrative;
            await SubmitAsync(request);
        }

        var events = await reading.NextEventsAsync(100);

        Assert.Equal(100, events.Select(e => e.FindingId).Distinct().Count());
        // And the stalled one, once it reads, still gets all of them.
        Assert.Equal(events.Select(e => e.Cursor), (await stalled.NextEventsAsync(100)).Select(e => e.Cursor));
    }

    [Fact]
    public async Task The_stream_ends_when_the_access_token_expires_and_says_where_to_resume()
    {
        await using var subscriber = await OpenAsync(new SubscribeRequest { FromNow = true, HeartbeatSeconds = 1 });
        fixture.Time.Advance(TimeSpan.FromMinutes(6));

        var e = await Assert.ThrowsAsync<RpcException>(() => subscriber.NextEventsAsync(1));

        Assert.Equal(StatusCode.Unauthenticated, e.StatusCode);
        Assert.Contains("after_cursor=", e.Status.Detail);
    }
}

public sealed class SubscriptionTests_on_Sqlite(SqliteNodeFixture fixture) : SubscriptionTests(fixture), IClassFixture<SqliteNodeFixture>;

public sealed class SubscriptionTests_on_Postgres(PostgresNodeFixture fixture) : SubscriptionTests(fixture), IClassFixture<PostgresNodeFixture>;
