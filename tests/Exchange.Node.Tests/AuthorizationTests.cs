using Exchange.Domain;
using Exchange.Node.Persistence;
using Exchange.Testing;
using Exchange.V1;
using Grpc.Core;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using static Exchange.Node.Tests.Assertions;

namespace Exchange.Node.Tests;

/// <summary>Every RPC needs a valid token from the node's own OpenIddict server, with the right scope.</summary>
public abstract class AuthorizationTests(NodeFixture fixture)
{
    private FindingService.FindingServiceClient Findings => fixture.Findings;

    [Fact]
    public async Task A_call_without_a_token_is_unauthenticated()
    {
        var e = await FailsWith(StatusCode.Unauthenticated, () => Findings.ListFindingsAsync(new ListFindingsRequest()).ResponseAsync);
        Assert.Contains("no access token", e.Status.Detail);
        await FailsWith(StatusCode.Unauthenticated, () => new NetworkService.NetworkServiceClient(fixture.Channel).GetNetworkAsync(new GetNetworkRequest()).ResponseAsync);
    }

    [Fact]
    public async Task A_forged_token_is_unauthenticated()
    {
        var headers = new Metadata { { "authorization", "Bearer CfDJ8forgedforgedforgedforged" } };
        await FailsWith(StatusCode.Unauthenticated, () => Findings.ListFindingsAsync(new ListFindingsRequest(), headers).ResponseAsync);
    }

    [Fact]
    public async Task An_expired_token_is_unauthenticated()
    {
        var headers = await fixture.Node.AuthAsync(TestClients.Reader);
        await Findings.ListFindingsAsync(new ListFindingsRequest(), headers);

        fixture.Time.Advance(TimeSpan.FromMinutes(6));

        var e = await FailsWith(StatusCode.Unauthenticated, () => Findings.ListFindingsAsync(new ListFindingsRequest(), headers).ResponseAsync);
        Assert.Contains("expired", e.Status.Detail, StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public async Task A_token_without_the_needed_scope_is_refused_naming_the_scope()
    {
        var reader = await fixture.Node.AuthAsync(TestClients.Reader);
        var e = await FailsWith(StatusCode.PermissionDenied, () => Findings.SubmitFindingAsync(SampleFindings.Valid(), reader).ResponseAsync);
        Assert.Contains(Scopes.FindingsSubmit, e.Status.Detail);

        var auditor = await fixture.Node.AuthAsync(TestClients.Auditor);
        e = await FailsWith(StatusCode.PermissionDenied, () => Findings.ListFindingsAsync(new ListFindingsRequest(), auditor).ResponseAsync);
        Assert.Contains(Scopes.FindingsRead, e.Status.Detail);
    }

    [Fact]
    public async Task A_client_cannot_get_a_scope_it_was_not_granted()
    {
        var e = await Assert.ThrowsAsync<InvalidOperationException>(() => fixture.Node.TokenAsync(TestClients.Reader, Scopes.FindingsSubmit));
        Assert.Contains("not allowed to use the specified scope", e.Message);
    }

    [Fact]
    public async Task A_wrong_client_secret_gets_no_token()
    {
        using var http = fixture.Node.CreateClient();
        using var response = await http.PostAsync("/connect/token", new FormUrlEncodedContent(new Dictionary<string, string>
        {
            ["grant_type"] = "client_credentials", ["client_id"] = TestClients.Submitter, ["client_secret"] = "wrong-secret-wrong-secret",
        }));
        Assert.Contains("invalid_client", await response.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task Client_secrets_are_stored_hashed()
    {
        await using var scope = fixture.Node.Services.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<NodeDbContext>();
        var secrets = await db.Set<OpenIddict.EntityFrameworkCore.Models.OpenIddictEntityFrameworkCoreApplication>().Select(a => a.ClientSecret).ToListAsync();
        Assert.NotEmpty(secrets);
        Assert.DoesNotContain(secrets, s => TestClients.ScopesByClient.Keys.Any(c => s == TestClients.Secret(c)));
    }

    [Fact]
    public async Task Reading_a_red_finding_needs_the_red_scope_and_the_refusal_is_audited()
    {
        var submitter = await fixture.Node.AuthAsync(TestClients.Everything);
        var red = await Findings.SubmitFindingAsync(SampleFindings.Valid(TlpLevel.Red, institutes: ["us"]), submitter);
        var reader = await fixture.Node.AuthAsync(TestClients.Reader);

        var e = await FailsWith(StatusCode.PermissionDenied, () => Findings.GetFindingAsync(new GetFindingRequest { Id = red.Finding.Id }, reader).ResponseAsync);
        var listed = await Findings.ListFindingsAsync(new ListFindingsRequest { Labels = { TlpLevel.Red } }, reader);
        var redReader = await fixture.Node.AuthAsync(TestClients.RedReader);
        var read = await Findings.GetFindingAsync(new GetFindingRequest { Id = red.Finding.Id }, redReader);
        var listedWithScope = await Findings.ListFindingsAsync(new ListFindingsRequest { Labels = { TlpLevel.Red } }, redReader);

        Assert.Contains(Scopes.FindingsReadRed, e.Status.Detail);
        Assert.Empty(listed.Findings);
        Assert.Equal(red.Finding.Content, read.Finding.Content);
        Assert.Contains(listedWithScope.Findings, f => f.Id == red.Finding.Id);
        await using var scope = fixture.Node.Services.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<NodeDbContext>();
        var kinds = await db.AuditEvents.Where(a => a.FindingId == red.Finding.Id).Select(a => a.Kind).ToListAsync();
        Assert.Contains(nameof(AuditEventKind.AccessDenied), kinds);
        Assert.Contains(nameof(AuditEventKind.FindingRead), kinds);
    }

    [Fact]
    public async Task Reads_of_amber_findings_are_audited_and_green_ones_are_not()
    {
        var auth = await fixture.Node.AuthAsync(TestClients.Submitter);
        var amber = await Findings.SubmitFindingAsync(SampleFindings.Valid(TlpLevel.Amber, institutes: ["us"]), auth);
        var green = await Findings.SubmitFindingAsync(SampleFindings.Valid(TlpLevel.Green), auth);

        await Findings.GetFindingAsync(new GetFindingRequest { Id = amber.Finding.Id }, auth);
        await Findings.GetFindingAsync(new GetFindingRequest { Id = green.Finding.Id }, auth);

        await using var scope = fixture.Node.Services.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<NodeDbContext>();
        Assert.Equal(1, await db.AuditEvents.CountAsync(a => a.FindingId == amber.Finding.Id && a.Kind == nameof(AuditEventKind.FindingRead)));
        Assert.Equal(0, await db.AuditEvents.CountAsync(a => a.FindingId == green.Finding.Id && a.Kind == nameof(AuditEventKind.FindingRead)));
    }
}

public sealed class AuthorizationTests_on_Sqlite(SqliteNodeFixture fixture) : AuthorizationTests(fixture), IClassFixture<SqliteNodeFixture>;

public sealed class AuthorizationTests_on_Postgres(PostgresNodeFixture fixture) : AuthorizationTests(fixture), IClassFixture<PostgresNodeFixture>;
