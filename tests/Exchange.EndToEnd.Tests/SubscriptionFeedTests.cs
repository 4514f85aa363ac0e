using Exchange.Testing;
using Exchange.V1;
using Microsoft.EntityFrameworkCore;

namespace Exchange.EndToEnd.Tests;

/// <summary>A partner system following what its institute received, over the real broker.</summary>
[Collection(RabbitMqCollection.Name)]
public sealed class SubscriptionFeedTests(RabbitNetworkFixture network)
{
    [Fact]
    public async Task A_recipients_feed_shows_the_finding_received_its_new_version_and_its_withdrawal_and_nothing_it_was_not_sent()
    {
        var model = $"model-{Guid.NewGuid():N}";
        var subscribers = new Dictionary<string, FeedSubscriber>();
        foreach (var institute in new[] { "us", "jp" })
        {
            subscribers[institute] = await FeedSubscriber.OpenAsync(new SubscriptionService.SubscriptionServiceClient(network[institute].CreateChannel()),
                new SubscribeRequest { FromNow = true, Model = model, OriginInstitutes = { "uk" } }, await network[institute].AuthAsync(TestClients.RedReader));
        }
        try
        {
            var request = SampleFindings.Valid(TlpLevel.Amber, RiskDomain.Cyber, institutes: ["us", "jp"]);
            request.Content.Model.Name = model;
            var v1 = (await network.SubmitAsync("uk", request)).Finding;
            await network.UntilDeliveredAsync("uk", v1.Id, "us");
            // Version 2 is RED: us (RED agreement) receives it; jp (AMBER) does not, and has v1 withdrawn.
            var next = SampleFindings.Valid(TlpLevel.Red, RiskDomain.Cyber, institutes: ["us", "jp"]);
            next.Content.Model.Name = model;
            next.SupersedesFindingId = v1.Id;
            await network.SubmitAsync("uk", next);
            await network.UntilDeliveredAsync("uk", v1.Id, "us", version: 2);
            await network.WithdrawAsync("uk", v1.Id, "retracted");

            var us = await subscribers["us"].NextEventsAsync(3);
            Assert.Equal([FeedEventKind.Received, FeedEventKind.Superseded, FeedEventKind.Withdrawn], us.Select(e => e.Kind));
            Assert.Equal([1, 2, 2], us.Select(e => e.FindingVersion));
            Assert.Equal([TlpLevel.Amber, TlpLevel.Red, TlpLevel.Red], us.Select(e => e.Label));
            Assert.All(us, e => Assert.Equal("uk", e.OriginInstitute));
            Assert.NotNull(us[0].Finding.ReceivedAt);

            var jp = await subscribers["jp"].NextEventsAsync(2);
            Assert.Equal([(FeedEventKind.Received, 1), (FeedEventKind.Withdrawn, 1)], jp.Select(e => (e.Kind, e.FindingVersion)));

            // jp was told twice (when version 2 left it out, and when uk withdrew the finding); its
            // feed says it once.
            await Eventually.TrueAsync(async () => (await network.AuditKindsAsync("jp", v1.Id)).Count(k => k == nameof(AuditEventKind.FindingWithdrawn)) == 2,
                "jp has both withdrawals");
            await Eventually.TrueAsync(() => network.QueryAsync("jp", async db => !await db.AuditEvents.AnyAsync(e => e.LeafIndex == null)), "jp's log has integrated them");
            // What crossed the broker to jp named only what jp held: version 1, AMBER; never the RED version 2.
            var told = await network.QueryAsync("jp", async db => (await db.AuditEvents.Where(e => e.FindingId == v1.Id && e.Kind == nameof(AuditEventKind.FindingWithdrawn))
                .Select(e => e.Event).ToListAsync()).Select(AuditEvent.Parser.ParseFrom).ToList());
            Assert.All(told, w => Assert.Equal((1, TlpLevel.Amber), (w.FindingVersion, w.Label)));
            Assert.DoesNotContain(await network.QueryAsync("jp", db => db.Inbox.Where(i => i.FindingId == v1.Id).Select(i => i.FindingVersion).ToListAsync()), v => v > 1);
            await using var replay = await FeedSubscriber.OpenAsync(new SubscriptionService.SubscriptionServiceClient(network["jp"].CreateChannel()),
                new SubscribeRequest { Model = model }, await network["jp"].AuthAsync(TestClients.Reader));
            Assert.Equal(jp.Select(e => e.Cursor), replay.EventsBeforeLive.Select(e => e.Cursor));
        }
        finally
        {
            foreach (var subscriber in subscribers.Values)
            {
                await subscriber.DisposeAsync();
            }
        }
    }

    [Fact]
    public async Task A_withdrawal_reaches_the_feed_of_a_recipient_that_had_an_earlier_version_withdrawn_and_a_later_one_shared_again()
    {
        var model = $"model-{Guid.NewGuid():N}";
        SubmitFindingRequest Version(TlpLevel label, string? supersedes = null)
        {
            var request = SampleFindings.Valid(label, RiskDomain.Cyber, institutes: ["us", "jp"]);
            request.Content.Model.Name = model;
            request.SupersedesFindingId = supersedes ?? "";
            return request;
        }
        await using var jp = await FeedSubscriber.OpenAsync(new SubscriptionService.SubscriptionServiceClient(network["jp"].CreateChannel()),
            new SubscribeRequest { FromNow = true, Model = model }, await network["jp"].AuthAsync(TestClients.Reader));

        // v1 AMBER reaches jp; v2 RED does not (jp's v1 is withdrawn); v3 AMBER reaches jp again.
        var id = (await network.SubmitAsync("uk", Version(TlpLevel.Amber))).Finding.Id;
        await network.UntilDeliveredAsync("uk", id, "jp");
        await network.SubmitAsync("uk", Version(TlpLevel.Red, id));
        await network.UntilDeliveredAsync("uk", id, "us", version: 2);
        await network.SubmitAsync("uk", Version(TlpLevel.Amber, id));
        await network.UntilDeliveredAsync("uk", id, "jp", version: 3);
        await network.WithdrawAsync("uk", id, "retracted for good");

        var events = await jp.NextEventsAsync(4);

        Assert.Equal([(FeedEventKind.Received, 1), (FeedEventKind.Withdrawn, 1), (FeedEventKind.Superseded, 3), (FeedEventKind.Withdrawn, 3)],
            events.Select(e => (e.Kind, e.FindingVersion)));
        Assert.Equal("retracted for good", events[3].Reason);
    }
}
