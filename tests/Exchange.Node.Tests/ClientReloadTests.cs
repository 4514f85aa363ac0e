using System.Collections.Concurrent;
using System.Net;
using System.Text.Json;
using System.Text.Json.Nodes;
using Exchange.Domain;
using Exchange.Testing;
using Exchange.V1;
using Grpc.Core;

namespace Exchange.Node.Tests;

/// <summary>
/// Identity:Clients changed in a watched settings file while the node runs (SQLite): every change
/// that takes access away applies at once, whatever else the edit holds; nothing a start would
/// refuse is accepted by a reload; no token issued around the change keeps what was taken away.
/// (From the security review of the trust-at-the-edges change: each failed on its code.)
/// </summary>
public sealed class ClientReloadTests : TestWorkspace
{
    private readonly TestManifest _manifest = new TestManifest().Institute("uk").Institute("us").Agreement("uk-us", "uk", "us", "RED");
    private NodeHost? _node;

    private string SettingsFile => Path.Combine(Folder, "clients.json");

    public override async Task DisposeAsync()
    {
        if (_node is not null)
        {
            await _node.DisposeAsync();
        }
        await base.DisposeAsync();
    }

    private sealed record Client(string Id, string Secret, string[] Scopes);

    /// <summary>Replaces the watched settings file in one step with these clients (at indexes 50 and on).</summary>
    private async Task WriteClientsAsync(params Client[] clients)
    {
        var entries = new JsonObject();
        for (var i = 0; i < clients.Length; i++)
        {
            entries[(50 + i).ToString(System.Globalization.CultureInfo.InvariantCulture)] = new JsonObject
            {
                ["ClientId"] = clients[i].Id,
                ["ClientSecret"] = clients[i].Secret,
                ["Scopes"] = new JsonArray([.. clients[i].Scopes.Select(s => (JsonNode)s)]),
            };
        }
        var json = new JsonObject { ["Identity"] = new JsonObject { ["Clients"] = entries } };
        var temporary = SettingsFile + ".tmp";
        await File.WriteAllTextAsync(temporary, json.ToJsonString(new JsonSerializerOptions { WriteIndented = true }));
        File.Move(temporary, SettingsFile, overwrite: true);
    }

    private NodeHost StartNode(params KeyValuePair<string, string?>[] settings)
    {
        _node = new NodeHost("uk", _manifest.WriteTo(Folder), _manifest.Keys["uk"], Database, Folder,
            settings: [new("Broker:EmbargoCheckInterval", "00:10:00"), new("Telemetry:SampleInterval", "00:10:00"), .. settings]) { ReloadableSettingsFile = SettingsFile };
        _ = _node.Server;
        return _node;
    }

    private static async Task<(HttpStatusCode Status, string Body)> TokenAsync(NodeHost node, Client client, string? scope = null)
    {
        using var http = node.CreateClient();
        var form = new Dictionary<string, string>
        {
            ["grant_type"] = "client_credentials",
            ["client_id"] = client.Id,
            ["client_secret"] = client.Secret,
        };
        if (scope is not null)
        {
            form["scope"] = scope;
        }
        using var response = await http.PostAsync("/connect/token", new FormUrlEncodedContent(form));
        return (response.StatusCode, await response.Content.ReadAsStringAsync());
    }

    private static string AccessToken(string body) => JsonNode.Parse(body)!["access_token"]!.GetValue<string>();

    private static async Task<StatusCode> GetAsync(NodeHost node, string id, string token)
    {
        try
        {
            await new FindingService.FindingServiceClient(node.CreateChannel()).GetFindingAsync(new GetFindingRequest { Id = id }, new Metadata { { "authorization", $"Bearer {token}" } });
            return StatusCode.OK;
        }
        catch (RpcException e)
        {
            return e.StatusCode;
        }
    }

    /// <summary>
    /// Was: placeholder secrets are refused at start only (PlaceholderSecretCheck validates once).
    /// A client added on a reload with the deploy template's own placeholder gets tokens.
    /// </summary>
    [Fact]
    public async Task A_client_added_on_reload_with_a_placeholder_secret_gets_no_token()
    {
        var marker = new Client("marker", "marker-secret-0123456789", [Scopes.FindingsRead]);
        var placeholder = new Client("ops", "CHANGE-ME-at-least-16-characters", [Scopes.FindingsRead, Scopes.FindingsReadRed]);
        await WriteClientsAsync();
        var node = StartNode();

        await WriteClientsAsync(marker, placeholder);
        await Eventually.TrueAsync(async () => (await TokenAsync(node, marker)).Status == HttpStatusCode.OK, "the reload added the marker client", TimeSpan.FromSeconds(30));

        var (status, body) = await TokenAsync(node, placeholder);
        Assert.True(status != HttpStatusCode.OK, $"a client whose secret is the template's placeholder got a token after a reload: {body}");
    }

    /// <summary>
    /// Was: a reload that fails validation (here one other client's secret is too short) is not
    /// applied at all, so a client removed in the same edit keeps reading RED.
    /// </summary>
    [Fact]
    public async Task A_client_removed_in_a_reload_that_also_has_a_mistake_elsewhere_is_still_out()
    {
        var partner = new Client("partner", "partner-secret-0123456789", [Scopes.FindingsRead, Scopes.FindingsReadRed]);
        await WriteClientsAsync(partner);
        var node = StartNode();
        var id = (await new FindingService.FindingServiceClient(node.CreateChannel())
            .SubmitFindingAsync(SampleFindings.Valid(TlpLevel.Red, institutes: ["us"]), await node.AuthAsync(TestClients.Everything))).Finding.Id;
        var token = AccessToken((await TokenAsync(node, partner)).Body);
        Assert.Equal(StatusCode.OK, await GetAsync(node, id, token));

        // The partner removed, and a new client whose secret is too short (a typo of the operator's).
        await WriteClientsAsync(new Client("newcomer", "short", [Scopes.FindingsRead]));

        var outAt = await Task.Run(async () =>
        {
            for (var i = 0; i < 150; i++)
            {
                if (await GetAsync(node, id, token) != StatusCode.OK)
                {
                    return (int?)i;
                }
                await Task.Delay(100);
            }
            return null;
        });
        var (status, body) = await TokenAsync(node, partner);
        Assert.True(outAt is not null, $"15 s after the client was removed from the settings file its token still read RED, and a new token request was answered {(int)status}");
        // Refused as a client the node does not know, whether or not the database has caught up yet.
        Assert.True(status is HttpStatusCode.BadRequest or HttpStatusCode.Unauthorized && body.Contains("invalid_client", StringComparison.Ordinal), $"{(int)status}: {body}");
    }

    /// <summary>
    /// Was: ClientSeeder revokes a client's tokens, then updates its permissions. A token
    /// request that passed the permission check before the update and stored its token after the
    /// revocation keeps the lost scope until it expires.
    /// </summary>
    [Fact]
    public async Task No_token_issued_around_a_reload_keeps_a_scope_the_client_lost()
    {
        var partner = new Client("partner", "partner-secret-0123456789", [Scopes.FindingsRead, Scopes.FindingsReadRed]);
        await WriteClientsAsync(partner);
        var node = StartNode(new("RateLimits:TokenRequestsPerClient", "1000000"), new("RateLimits:TokenRequestsPerAddress", "1000000"));
        var id = (await new FindingService.FindingServiceClient(node.CreateChannel())
            .SubmitFindingAsync(SampleFindings.Valid(TlpLevel.Red, institutes: ["us"]), await node.AuthAsync(TestClients.Everything))).Finding.Id;

        var survivors = new List<string>();
        var issued = 0;
        for (var round = 0; round < 6 && survivors.Count == 0; round++)
        {
            await WriteClientsAsync(partner);
            var last = "";
            await Eventually.TrueAsync(async () =>
            {
                var (status, body) = await TokenAsync(node, partner, $"{Scopes.FindingsRead} {Scopes.FindingsReadRed}");
                last = body;
                return status == HttpStatusCode.OK;
            }, () => $"the RED scope is back (round {round}): {last}", TimeSpan.FromSeconds(30));
            var tokens = new ConcurrentBag<string>();
            using var stop = new CancellationTokenSource();
            var hammers = Enumerable.Range(0, 4).Select(_ => Task.Run(async () =>
            {
                while (!stop.IsCancellationRequested)
                {
                    var (status, body) = await TokenAsync(node, partner, $"{Scopes.FindingsRead} {Scopes.FindingsReadRed}");
                    if (status == HttpStatusCode.OK)
                    {
                        tokens.Add(AccessToken(body));
                    }
                }
            })).ToArray();
            await Task.Delay(300);
            await WriteClientsAsync(partner with { Scopes = [Scopes.FindingsRead] });
            await Eventually.TrueAsync(async () => (await TokenAsync(node, partner, $"{Scopes.FindingsRead} {Scopes.FindingsReadRed}")).Status != HttpStatusCode.OK, "the RED scope is gone", TimeSpan.FromSeconds(30));
            await Task.Delay(300);
            await stop.CancelAsync();
            await Task.WhenAll(hammers);
            issued += tokens.Count;
            foreach (var token in tokens)
            {
                if (await GetAsync(node, id, token) == StatusCode.OK)
                {
                    survivors.Add(token);
                }
            }
        }
        Assert.True(survivors.Count == 0, $"{survivors.Count} of {issued} tokens issued around the reloads still read the RED finding after the client lost findings:read:red");
    }

    /// <summary>A changed secret (it may have leaked) ends the tokens issued with the old one.</summary>
    [Fact]
    public async Task A_client_whose_secret_changes_on_reload_has_its_tokens_refused()
    {
        var partner = new Client("partner", "partner-secret-0123456789", [Scopes.FindingsRead, Scopes.FindingsReadRed]);
        await WriteClientsAsync(partner);
        var node = StartNode();
        var id = (await new FindingService.FindingServiceClient(node.CreateChannel())
            .SubmitFindingAsync(SampleFindings.Valid(TlpLevel.Red, institutes: ["us"]), await node.AuthAsync(TestClients.Everything))).Finding.Id;
        var token = AccessToken((await TokenAsync(node, partner)).Body);
        Assert.Equal(StatusCode.OK, await GetAsync(node, id, token));

        var rotated = partner with { Secret = "rotated-secret-0123456789" };
        await WriteClientsAsync(rotated);
        await Eventually.TrueAsync(async () => (await TokenAsync(node, rotated)).Status == HttpStatusCode.OK, "the new secret works", TimeSpan.FromSeconds(30));

        Assert.Equal(StatusCode.Unauthenticated, await GetAsync(node, id, token));
        Assert.NotEqual(HttpStatusCode.OK, (await TokenAsync(node, partner)).Status);
    }
}
