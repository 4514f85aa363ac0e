using System.Security.Cryptography;
using System.Text.Json;
using Exchange.Envelopes;
using Exchange.Node;
using Exchange.Node.Disclosure;
using Grpc.Core;
using Grpc.Net.Client;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Exchange.Cli.Demo;

/// <summary>One node of the demo network, hosted in this process on a loopback port with its own SQLite file.</summary>
internal sealed class DemoNode : IAsyncDisposable
{
    public const string ClientId = "demo-staff";
    private static readonly string ClientSecret = Convert.ToBase64String(RandomNumberGenerator.GetBytes(24));
    private readonly WebApplication _app;
    private readonly HttpClient _http = new(new SocketsHttpHandler());

    private DemoNode(string instituteId, WebApplication app, Uri address)
    {
        InstituteId = instituteId;
        _app = app;
        Address = address;
        Channel = GrpcChannel.ForAddress(address, new GrpcChannelOptions { HttpClient = _http });
    }

    public string InstituteId { get; }
    public Uri Address { get; }
    public GrpcChannel Channel { get; }
    public IServiceProvider Services => _app.Services;

    public static async Task<DemoNode> StartAsync(string instituteId, string manifestPath, InstituteKeyPairs keys, string directory, InMemoryBroker broker)
    {
        OwnerOnlyFile.CreateDirectory(directory);
        var keysPath = Path.Combine(directory, "initial-keys.json");
        keys.WritePrivateKeys(keysPath, overwrite: true);
        // A demo node is not in the Development environment: its key ring needs a key-encryption key too.
        var certificatePath = Path.Combine(directory, "data-protection.pem");
        KeyEncryptionCertificate.Write(certificatePath, overwrite: true).Dispose();
        var builder = WebApplication.CreateBuilder(new WebApplicationOptions { ContentRootPath = directory, EnvironmentName = "Demo", Args = [] });
        builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
        {
            ["Node:InstituteId"] = instituteId,
            ["Node:ManifestPath"] = manifestPath,
            ["Node:DataDirectory"] = directory,
            ["Node:InitialKeysPath"] = keysPath,
            ["DataProtection:CertificatePath"] = certificatePath,
            ["Broker:Transport"] = "InMemory",
            ["Broker:OutboxPollInterval"] = "00:00:00.200",
            ["Broker:EmbargoCheckInterval"] = "00:00:00.250",
            ["Audit:CheckpointInterval"] = "00:00:01",
            ["Identity:RequireHttps"] = "false",
            ["Identity:Clients:0:ClientId"] = ClientId,
            ["Identity:Clients:0:ClientSecret"] = ClientSecret,
            ["Identity:Clients:0:Scopes:0"] = "findings:submit",
            ["Identity:Clients:0:Scopes:1"] = "findings:read",
            ["Identity:Clients:0:Scopes:2"] = "findings:read:red",
            ["Identity:Clients:0:Scopes:3"] = "audit:read",
            ["Identity:Clients:0:Scopes:4"] = "network:admin",
            ["Kestrel:EndpointDefaults:Protocols"] = "Http2",
        });
        builder.Logging.ClearProviders();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Services.AddSingleton(broker);
        builder.AddExchangeNode();
        var app = builder.Build();
        app.MapExchangeNode();
        await app.StartAsync();
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        return new DemoNode(instituteId, app, new Uri(address));
    }

    /// <summary>A fresh token from the node's own OAuth server, as any staff tool would get one.</summary>
    public async Task<Metadata> AuthAsync()
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, new Uri(Address, "/connect/token"))
        {
            Content = new FormUrlEncodedContent(new Dictionary<string, string>
            {
                ["grant_type"] = "client_credentials",
                ["client_id"] = ClientId,
                ["client_secret"] = ClientSecret,
            }),
            Version = System.Net.HttpVersion.Version20,
            VersionPolicy = HttpVersionPolicy.RequestVersionExact,
        };
        using var response = await _http.SendAsync(request);
        var token = JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement.GetProperty("access_token").GetString();
        return new Metadata { { "authorization", $"Bearer {token}" } };
    }

    public async ValueTask DisposeAsync()
    {
        Channel.Dispose();
        await _app.StopAsync();
        await _app.DisposeAsync();
        _http.Dispose();
    }
}
