using Exchange.Node.Persistence;
using Exchange.Testing;
using Exchange.V1;
using Google.Protobuf.WellKnownTypes;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace Exchange.Node.Tests;

/// <summary>An embargo on the node's own clock: held until the time comes, then released by itself.</summary>
public sealed class EmbargoTests(SqliteNodeFixture fixture) : IClassFixture<SqliteNodeFixture>
{
    private async Task<T> QueryAsync<T>(Func<NodeDbContext, Task<T>> query)
    {
        await using var scope = fixture.Node.Services.CreateAsyncScope();
        return await query(scope.ServiceProvider.GetRequiredService<NodeDbContext>());
    }

    [Fact]
    public async Task An_embargoed_disclosure_is_held_until_the_clock_reaches_the_embargo_then_released()
    {
        var request = SampleFindings.Valid(TlpLevel.Amber, RiskDomain.Cyber, institutes: ["us"]);
        request.Policy.EmbargoUntil = Timestamp.FromDateTimeOffset(fixture.Time.GetUtcNow().AddDays(1));
        var response = await fixture.Findings.SubmitFindingAsync(request, await fixture.Node.AuthAsync(TestClients.Submitter));
        var id = response.Finding.Id;
        Assert.Equal(DisclosureOutcome.Scheduled, response.Decisions.Single(d => d.InstituteId == "us").Outcome);

        fixture.Time.Advance(TimeSpan.FromHours(23));
        await Task.Delay(1500);
        Assert.Equal((int)DeliveryState.Held, await QueryAsync(db => db.Decisions.Where(d => d.FindingId == id && d.InstituteId == "us").Select(d => d.Delivery).SingleAsync()));
        Assert.False(await QueryAsync(db => db.Outbox.AnyAsync(o => o.FindingId == id)));

        fixture.Time.Advance(TimeSpan.FromHours(1) + TimeSpan.FromMinutes(10));
        await Eventually.TrueAsync(async () => await QueryAsync(db => db.Outbox.AnyAsync(o => o.FindingId == id && o.Recipient == "us")), "the disclosure is released into the outbox", TimeSpan.FromSeconds(20));

        var kinds = await QueryAsync(db => db.AuditEvents.Where(e => e.FindingId == id).Select(e => e.Kind).ToListAsync());
        Assert.Contains(nameof(AuditEventKind.EmbargoReleased), kinds);
        Assert.NotEqual((int)DeliveryState.Held, await QueryAsync(db => db.Decisions.Where(d => d.FindingId == id && d.InstituteId == "us").Select(d => d.Delivery).SingleAsync()));
    }

    [Fact]
    public async Task A_finding_withdrawn_while_held_is_never_released()
    {
        var auth = await fixture.Node.AuthAsync(TestClients.Submitter);
        var request = SampleFindings.Valid(TlpLevel.Amber, RiskDomain.Cyber, institutes: ["us"]);
        request.Policy.EmbargoUntil = Timestamp.FromDateTimeOffset(fixture.Time.GetUtcNow().AddHours(2));
        var id = (await fixture.Findings.SubmitFindingAsync(request, auth)).Finding.Id;
        await fixture.Findings.WithdrawFindingAsync(new WithdrawFindingRequest { Id = id, Reason = "pulled before release" }, auth);

        fixture.Time.Advance(TimeSpan.FromHours(3));
        await Task.Delay(1500);

        Assert.Equal((int)DeliveryState.Cancelled, await QueryAsync(db => db.Decisions.Where(d => d.FindingId == id && d.InstituteId == "us").Select(d => d.Delivery).SingleAsync()));
        Assert.False(await QueryAsync(db => db.Outbox.AnyAsync(o => o.FindingId == id)));
    }
}
