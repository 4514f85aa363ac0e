using Exchange.Node.Persistence;
using Exchange.Testing;
using Exchange.V1;
using Google.Protobuf.WellKnownTypes;
using Grpc.Core;
using Microsoft.EntityFrameworkCore;

namespace Exchange.Node.Tests;

/// <summary>
/// An embargo on both clocks: the origin sends when its clock passes the embargo; the recipient
/// shows (reads, lists, streams) when its own clock passes it, less the skew it tolerates (one
/// minute here). Each test moves one node's clock away from the other's.
/// </summary>
public abstract class RecipientEmbargoTests(TwoNodeNetwork network)
{
    private async Task<(string Id, DateTimeOffset Embargo)> SubmitEmbargoedAsync(DateTimeOffset embargo)
    {
        var request = SampleFindings.Valid(TlpLevel.Amber, RiskDomain.Cyber, institutes: ["us"]);
        request.Content.Model.Name = $"embargoed-{Guid.NewGuid():N}";
        request.Policy.EmbargoUntil = Timestamp.FromDateTimeOffset(embargo);
        var response = await network.Findings("uk").SubmitFindingAsync(request, await network["uk"].AuthAsync(TestClients.Submitter));
        return (response.Finding.Id, embargo);
    }

    /// <summary>The end of us's feed now, to read from later.</summary>
    private async Task<ulong> FeedEndAsync()
    {
        await using var subscriber = await FeedSubscriber.OpenAsync(new SubscriptionService.SubscriptionServiceClient(network["us"].CreateChannel()),
            new SubscribeRequest { FromNow = true }, await network["us"].AuthAsync(TestClients.Reader));
        return subscriber.StartCursor;
    }

    /// <summary>Whether us shows the finding: by id, in its list, and in its feed after <paramref name="cursor"/> (one answer, or the test fails).</summary>
    private async Task<bool> ShownAtUsAsync(string id, ulong cursor)
    {
        var reader = await network["us"].AuthAsync(TestClients.Reader);
        var findings = network.Findings("us");
        var got = await Status(() => findings.GetFindingAsync(new GetFindingRequest { Id = id }, reader).ResponseAsync);
        var listed = (await findings.ListFindingsAsync(new ListFindingsRequest { PageSize = 500 }, reader)).Findings.Any(f => f.Id == id);
        await using var subscriber = await FeedSubscriber.OpenAsync(new SubscriptionService.SubscriptionServiceClient(network["us"].CreateChannel()),
            new SubscribeRequest { AfterCursor = cursor }, reader);
        var streamed = subscriber.EventsBeforeLive.Any(e => e.FindingId == id);
        Assert.True(got == StatusCode.OK == listed && listed == streamed, $"get {got}, listed {listed}, streamed {streamed}");
        return listed;
    }

    /// <summary>Waits until us shows the finding, then says how its feed told it.</summary>
    private async Task<FeedEvent> UntilStreamedAsync(string id, ulong cursor)
    {
        FeedEvent? shown = null;
        await Eventually.TrueAsync(async () =>
        {
            await using var subscriber = await FeedSubscriber.OpenAsync(new SubscriptionService.SubscriptionServiceClient(network["us"].CreateChannel()),
                new SubscribeRequest { AfterCursor = cursor }, await network["us"].AuthAsync(TestClients.Reader));
            shown = subscriber.EventsBeforeLive.SingleOrDefault(e => e.FindingId == id);
            return shown is not null;
        }, $"us streams {id}", TimeSpan.FromSeconds(20));
        return shown!;
    }

    /// <summary>Moves one clock forward so that <paramref name="behind"/>'s clock reads <paramref name="by"/> less than the other's.</summary>
    private void Offset(string behind, TimeSpan by)
    {
        var ahead = behind == "us" ? "uk" : "us";
        var difference = network.Clocks[ahead].GetUtcNow() - network.Clocks[behind].GetUtcNow();
        if (difference < by)
        {
            network.Clocks[ahead].Advance(by - difference);
        }
        else
        {
            network.Clocks[behind].Advance(difference - by);
        }
    }

    private static async Task<StatusCode> Status(Func<Task> call)
    {
        try
        {
            await call();
            return StatusCode.OK;
        }
        catch (RpcException e)
        {
            return e.StatusCode;
        }
    }

    [Fact]
    public async Task A_recipient_whose_clock_is_behind_holds_the_finding_until_its_own_clock_passes_the_embargo()
    {
        var cursor = await FeedEndAsync();
        // us runs two hours behind uk: uk says the embargo passed a minute ago, us that it is two hours off.
        Offset("us", TimeSpan.FromHours(2));
        var (id, _) = await SubmitEmbargoedAsync(network.Clocks["uk"].GetUtcNow() - TimeSpan.FromMinutes(1));
        await network.UntilStoredAsync("us", id);
        await Task.Delay(500);

        Assert.False(await ShownAtUsAsync(id, cursor));
        var arrived = network.Clocks["us"].GetUtcNow();

        network.Clocks["us"].Advance(TimeSpan.FromHours(2));
        await Eventually.TrueAsync(() => network.QueryAsync("us", db => db.Findings.AnyAsync(f => f.Id == id && f.HeldUntil == null)), "us releases it when its own clock passes the embargo", TimeSpan.FromSeconds(20));
        var streamed = await UntilStreamedAsync(id, cursor);

        Assert.True(await ShownAtUsAsync(id, cursor));
        var reader = await network["us"].AuthAsync(TestClients.Reader);
        // A partner polling by received time since before the release (after the arrival) gets it.
        var since = await network.Findings("us").ListFindingsAsync(new ListFindingsRequest { ReceivedAfter = Timestamp.FromDateTimeOffset(arrived + TimeSpan.FromMinutes(1)) }, reader);
        Assert.Contains(since.Findings, f => f.Id == id);
        Assert.Equal(FeedEventKind.Received, streamed.Kind);
        var kinds = await network.QueryAsync("us", db => db.AuditEvents.Where(e => e.FindingId == id).Select(e => e.Kind).ToListAsync());
        Assert.Contains(nameof(AuditEventKind.FindingReleased), kinds);
    }

    [Fact]
    public async Task An_origin_whose_clock_is_behind_holds_the_finding_and_the_recipient_shows_it_on_arrival()
    {
        var cursor = await FeedEndAsync();
        // uk runs two hours behind us: uk holds until its clock passes; us would have shown it already.
        Offset("uk", TimeSpan.FromHours(2));
        var (id, _) = await SubmitEmbargoedAsync(network.Clocks["us"].GetUtcNow() - TimeSpan.FromMinutes(1));
        await Task.Delay(1000);
        Assert.False(await network.QueryAsync("us", db => db.Findings.AnyAsync(f => f.Id == id)));

        network.Clocks["uk"].Advance(TimeSpan.FromHours(2));
        await network.UntilStoredAsync("us", id);
        await UntilStreamedAsync(id, cursor);

        Assert.True(await ShownAtUsAsync(id, cursor));
    }

    [Fact]
    public async Task A_recipient_less_behind_than_the_skew_it_tolerates_shows_the_finding_at_once()
    {
        var cursor = await FeedEndAsync();
        Offset("us", TimeSpan.FromSeconds(30));
        var (id, _) = await SubmitEmbargoedAsync(network.Clocks["uk"].GetUtcNow() - TimeSpan.FromSeconds(1));
        await network.UntilStoredAsync("us", id);
        await UntilStreamedAsync(id, cursor);

        Assert.True(await ShownAtUsAsync(id, cursor));
        Assert.Null(await network.QueryAsync("us", db => db.Findings.Where(f => f.Id == id).Select(f => f.HeldUntil).SingleAsync()));
    }
}

public sealed class RecipientEmbargoTests_on_Sqlite(SqliteTwoNodeNetwork network) : RecipientEmbargoTests(network), IClassFixture<SqliteTwoNodeNetwork>;

public sealed class RecipientEmbargoTests_on_Postgres(PostgresTwoNodeNetwork network) : RecipientEmbargoTests(network), IClassFixture<PostgresTwoNodeNetwork>;
