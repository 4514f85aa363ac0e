using System.Text.Json;
using System.Text.Json.Nodes;
using Exchange.Domain;
using Exchange.Node.Persistence;
using Exchange.Testing;
using Exchange.V1;
using Grpc.Core;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;

namespace Exchange.Node.Tests;

/// <summary>
/// A client removed, disabled or stripped of a scope in <c>Identity:Clients</c> is out at once: its
/// tokens are refused on the next call and its open subscriptions end within seconds, whether the
/// change comes with a restart or with a reload of the settings file while the node runs. Tokens
/// are checked against their entry in the database (OpenIddict's token entry validation), not
/// trusted until they expire.
/// </summary>
public abstract class RevocationTests(string provider) : TestWorkspace(provider)
{
    private const string Partner = "partner";
    private readonly TestManifest _manifest = new TestManifest().Institute("uk").Institute("us").Agreement("uk-us", "uk", "us", "RED");
    private readonly List<NodeHost> _nodes = [];

    private string SettingsFile => Path.Combine(Folder, "clients.json");

    public override async Task DisposeAsync()
    {
        foreach (var node in _nodes)
        {
            await node.DisposeAsync();
        }
        await base.DisposeAsync();
    }

    /// <summary>Writes the watched settings file: the partner client with these scopes (none: removed), or disabled.</summary>
    private async Task WritePartnerAsync(string[]? scopes, bool disabled = false, string? secret = null)
    {
        var clients = new JsonObject();
        if (scopes is not null)
        {
            clients["50"] = new JsonObject
            {
                ["ClientId"] = Partner,
                ["ClientSecret"] = secret ?? TestClients.Secret(Partner),
                ["Scopes"] = new JsonArray([.. scopes.Select(s => (JsonNode)s)]),
                ["Disabled"] = disabled,
            };
        }
        var json = new JsonObject { ["Identity"] = new JsonObject { ["Clients"] = clients } };
        // Replace the file in one step, as editors and configuration tools do.
        var temporary = SettingsFile + ".tmp";
        await File.WriteAllTextAsync(temporary, json.ToJsonString(new JsonSerializerOptions { WriteIndented = true }));
        File.Move(temporary, SettingsFile, overwrite: true);
    }

    private NodeHost StartNode(TimeProvider? clock = null)
    {
        var node = new NodeHost("uk", _manifest.WriteTo(Folder), _manifest.Keys["uk"], Database, Folder,
            // Coarse periodic work: the fake clock fires a timer once per period that an advance skips.
            settings: [new("Subscriptions:TokenCheckInterval", "00:00:02"), new("Broker:EmbargoCheckInterval", "00:10:00"), new("Telemetry:SampleInterval", "00:10:00")],
            services: clock is null ? null : s => s.AddSingleton(clock)) { ReloadableSettingsFile = SettingsFile };
        _nodes.Add(node);
        _ = node.Server;
        return node;
    }

    private static async Task<string> SubmitRedAsync(NodeHost node) =>
        (await new FindingService.FindingServiceClient(node.CreateChannel())
            .SubmitFindingAsync(SampleFindings.Valid(TlpLevel.Red, institutes: ["us"]), await node.AuthAsync(TestClients.Everything))).Finding.Id;

    private static async Task<StatusCode> GetAsync(NodeHost node, string id, Metadata auth)
    {
        try
        {
            await new FindingService.FindingServiceClient(node.CreateChannel()).GetFindingAsync(new GetFindingRequest { Id = id }, auth);
            return StatusCode.OK;
        }
        catch (RpcException e)
        {
            return e.StatusCode;
        }
    }

    /// <summary>Reads the subscription until the node ends it, and returns how; fails if it is still open after a minute.</summary>
    private static async Task<RpcException> EndOfAsync(FeedSubscriber subscriber)
    {
        var reading = Task.Run(async () =>
        {
            try
            {
                while (true)
                {
                    await subscriber.NextEventsAsync(1);
                }
            }
            catch (RpcException e)
            {
                return e;
            }
        });
        if (await Task.WhenAny(reading, Task.Delay(TimeSpan.FromMinutes(1))) != reading)
        {
            Assert.Fail("the subscription was still open a minute after its client lost access");
        }
        return await reading;
    }

    private static async Task<FeedSubscriber> SubscribeAsync(NodeHost node, Metadata auth) =>
        await FeedSubscriber.OpenAsync(new SubscriptionService.SubscriptionServiceClient(node.CreateChannel()), new SubscribeRequest { HeartbeatSeconds = 1 }, auth);

    [Theory]
    [InlineData("removed")]
    [InlineData("disabled")]
    [InlineData("lost the RED scope")]
    [InlineData("given a new secret")]
    public async Task A_client_changed_while_the_node_is_down_has_its_tokens_refused_after_the_restart(string change)
    {
        await WritePartnerAsync([Scopes.FindingsRead, Scopes.FindingsReadRed]);
        var node = StartNode();
        var id = await SubmitRedAsync(node);
        var auth = await node.AuthAsync(Partner);
        Assert.Equal(StatusCode.OK, await GetAsync(node, id, auth));
        await node.DisposeAsync();

        await (change switch
        {
            "removed" => WritePartnerAsync(null),
            "disabled" => WritePartnerAsync([Scopes.FindingsRead, Scopes.FindingsReadRed], disabled: true),
            "lost the RED scope" => WritePartnerAsync([Scopes.FindingsRead]),
            _ => WritePartnerAsync([Scopes.FindingsRead, Scopes.FindingsReadRed], secret: "a-new-secret-0123456789"),
        });
        var restarted = StartNode();

        Assert.Equal(StatusCode.Unauthenticated, await GetAsync(restarted, id, auth));
    }

    [Fact]
    public async Task A_client_removed_from_the_settings_file_while_the_node_runs_is_out_at_once_and_its_red_subscription_ends()
    {
        await WritePartnerAsync([Scopes.FindingsRead, Scopes.FindingsReadRed]);
        var node = StartNode();
        var id = await SubmitRedAsync(node);
        var auth = await node.AuthAsync(Partner);
        await using var subscriber = await SubscribeAsync(node, auth);
        // The RED finding streams to it (placed in the log within moments of the submit).
        if (!subscriber.EventsBeforeLive.Any(e => e.FindingId == id))
        {
            await subscriber.UntilAsync(e => e.FindingId == id);
        }

        await WritePartnerAsync(null);

        var ended = await EndOfAsync(subscriber);
        Assert.Equal(StatusCode.Unauthenticated, ended.StatusCode);
        Assert.Contains("after_cursor=", ended.Status.Detail);
        Assert.Equal(StatusCode.Unauthenticated, await GetAsync(node, id, auth));
        await Assert.ThrowsAsync<InvalidOperationException>(() => node.TokenAsync(Partner));
    }

    [Fact]
    public async Task A_client_that_loses_the_red_scope_while_the_node_runs_has_its_tokens_revoked_and_its_new_ones_read_no_red()
    {
        await WritePartnerAsync([Scopes.FindingsRead, Scopes.FindingsReadRed]);
        var node = StartNode();
        var id = await SubmitRedAsync(node);
        var auth = await node.AuthAsync(Partner);
        await using var subscriber = await SubscribeAsync(node, auth);

        await WritePartnerAsync([Scopes.FindingsRead]);

        Assert.Equal(StatusCode.Unauthenticated, (await EndOfAsync(subscriber)).StatusCode);
        Assert.Equal(StatusCode.Unauthenticated, await GetAsync(node, id, auth));
        var fresh = await node.AuthAsync(Partner);
        Assert.Equal(StatusCode.PermissionDenied, await GetAsync(node, id, fresh));
    }

    [Fact]
    public async Task Entries_of_tokens_that_expired_over_a_day_ago_are_pruned()
    {
        await WritePartnerAsync([Scopes.FindingsRead]);
        // OpenIddict tells expiry by the real clock: this node's runs three days behind it, so the
        // token it issues is long expired by the time its own clock has moved two days on.
        var clock = new FakeTimeProvider(DateTimeOffset.UtcNow.AddDays(-3));
        var node = StartNode(clock);
        await node.TokenAsync(Partner);
        Assert.True(await TokenEntriesAsync(node) > 0);

        clock.Advance(TimeSpan.FromDays(2));

        await Eventually.TrueAsync(async () => await TokenEntriesAsync(node) == 0, "the expired token entries are pruned", TimeSpan.FromSeconds(20));
    }

    private static async Task<int> TokenEntriesAsync(NodeHost node)
    {
        await using var scope = node.Services.CreateAsyncScope();
        return await scope.ServiceProvider.GetRequiredService<NodeDbContext>().Set<OpenIddict.EntityFrameworkCore.Models.OpenIddictEntityFrameworkCoreToken>().CountAsync();
    }

    [Fact]
    public async Task A_disabled_client_gets_no_token_and_the_ones_it_holds_stop_working()
    {
        await WritePartnerAsync([Scopes.FindingsRead]);
        var node = StartNode();
        var id = await SubmitRedAsync(node);
        var auth = await node.AuthAsync(Partner);
        var list = new FindingService.FindingServiceClient(node.CreateChannel());
        await list.ListFindingsAsync(new ListFindingsRequest(), auth);

        await WritePartnerAsync([Scopes.FindingsRead], disabled: true);

        await Eventually.TrueAsync(async () => await GetAsync(node, id, auth) == StatusCode.Unauthenticated, "the disabled client's token is refused", TimeSpan.FromSeconds(30));
        await Assert.ThrowsAsync<InvalidOperationException>(() => node.TokenAsync(Partner));
    }
}

public sealed class RevocationTests_on_Sqlite() : RevocationTests(TestDatabase.Sqlite);

public sealed class RevocationTests_on_Postgres() : RevocationTests(TestDatabase.Postgres);
