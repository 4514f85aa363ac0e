using System.Net.Http.Json;
using System.Text.Json.Serialization;
using Grpc.Core;
using Grpc.Net.Client;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.Configuration;
using Exchange.Envelopes;
using Exchange.Node;
using Exchange.Node.Disclosure;
using Exchange.Node.Startup;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Exchange.Testing;

/// <summary>
/// One node hosted in the test process: the real pipeline (Kestrel aside), its own database and
/// data directory, the test clients configured.
/// </summary>
public sealed class NodeHost : WebApplicationFactory<Program>
{
    private readonly Dictionary<string, string?> _settings;
    private readonly Action<IServiceCollection>? _services;

    public NodeHost(string instituteId, string manifestPath, InstituteKeyPairs keys, TestDatabase database, string dataDirectory,
        IEnumerable<KeyValuePair<string, string?>>? settings = null, Action<IServiceCollection>? services = null, InMemoryBroker? broker = null)
    {
        InstituteId = instituteId;
        Database = database;
        DataDirectory = dataDirectory;
        _services = broker is null ? services : s =>
        {
            s.AddSingleton(broker);
            services?.Invoke(s);
        };
        Directory.CreateDirectory(dataDirectory);
        var keysPath = Path.Combine(dataDirectory, $"keys-{instituteId}.json");
        keys.WritePrivateKeys(keysPath, overwrite: true);
        _settings = new Dictionary<string, string?>
        {
            ["Node:InstituteId"] = instituteId,
            ["Node:ManifestPath"] = manifestPath,
            ["Node:DataDirectory"] = dataDirectory,
            ["Database:Provider"] = database.Provider,
            ["Database:ConnectionString"] = database.ConnectionString,
            ["Identity:RequireHttps"] = "false",
            ["Node:InitialKeysPath"] = keysPath,
            ["DataProtection:CertificatePath"] = TestKeyEncryption.CertificatePath,
            ["Broker:Transport"] = "InMemory",
            ["Broker:OutboxPollInterval"] = "00:00:00.200",
            ["Logging:LogLevel:Default"] = "Warning",
        };
        foreach (var (key, value) in TestClients.Settings().Concat(settings ?? []))
        {
            _settings[key] = value;
        }
    }

    /// <summary>Serve on a real loopback port (for clients outside the process) instead of the in-memory test server.</summary>
    public NodeHost ListenOnLoopback()
    {
        var port = FreePort();
        UseKestrel(port);
        StartServer();
        Address = new Uri($"http://127.0.0.1:{port}/");
        return this;
    }

    public Uri? Address { get; private set; }

    public static int FreePort()
    {
        using var listener = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        listener.Start();
        return ((System.Net.IPEndPoint)listener.LocalEndpoint).Port;
    }

    /// <summary>
    /// A JSON settings file the node reads after the others and watches, as an operator's
    /// appsettings.json: a test edits it to reload configuration while the node runs.
    /// </summary>
    public string? ReloadableSettingsFile { get; init; }

    public string InstituteId { get; }
    public TestDatabase Database { get; }
    public string DataDirectory { get; }

    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        builder.UseEnvironment("Testing");
        builder.ConfigureLogging(logging => logging.ToFile($"node-{InstituteId}"));
        // UseSetting, not ConfigureAppConfiguration: the node reads some settings while it is being
        // composed, before app configuration sources added by the factory would apply.
        foreach (var (key, value) in _settings)
        {
            builder.UseSetting(key, value);
        }
        if (ReloadableSettingsFile is { } file)
        {
            builder.ConfigureAppConfiguration(c => c.AddJsonFile(file, optional: false, reloadOnChange: true));
        }
        if (_services is not null)
        {
            builder.ConfigureServices(_services);
        }
    }

    /// <summary>
    /// The node composed as Program composes it, outside the factory: on the in-memory test server,
    /// or with <paramref name="kestrel"/> on the real sockets its settings name (Kestrel:Endpoints, urls).
    /// </summary>
    public WebApplication CreateApplication(bool kestrel = false, string environment = "Testing", bool logs = true)
    {
        var builder = WebApplication.CreateBuilder(new WebApplicationOptions { EnvironmentName = environment });
        builder.Configuration.AddInMemoryCollection(_settings);
        if (ReloadableSettingsFile is { } file)
        {
            builder.Configuration.AddJsonFile(file, optional: false, reloadOnChange: true);
        }
        if (!logs)
        {
            builder.Logging.ClearProviders();
        }
        else
        {
            builder.Logging.ToFile($"node-{InstituteId}");
        }
        if (!kestrel)
        {
            builder.WebHost.UseTestServer();
        }
        builder.AddExchangeNode();
        _services?.Invoke(builder.Services);
        var app = builder.Build();
        app.MapExchangeNode();
        return app;
    }

    /// <summary>
    /// Starts <see cref="CreateApplication"/> and returns what stopped it (null if it started). For
    /// tests of a refused start: WebApplicationFactory's deferred host can surface an
    /// ObjectDisposedException from its own teardown in place of the start error.
    /// </summary>
    public async Task<Exception?> StartErrorAsync(bool kestrel = false, string environment = "Testing")
    {
        // Quiet: the host would log the refusal it throws, and the test reads it from the exception.
        await using var app = CreateApplication(kestrel, environment, logs: false);
        try
        {
            await app.StartOrStopAsync();
        }
        catch (Exception e)
        {
            return e;
        }
        await app.StopAsync();
        return null;
    }

    /// <summary>Waits until /healthz says Healthy: database reachable and, with RabbitMQ, the bus connected.</summary>
    public async Task WaitUntilHealthyAsync(TimeSpan? timeout = null)
    {
        using var http = CreateClient();
        var deadline = DateTime.UtcNow + (timeout ?? TimeSpan.FromSeconds(60));
        var last = "";
        while (DateTime.UtcNow < deadline)
        {
            using var response = await http.GetAsync("/healthz/ready");
            last = await response.Content.ReadAsStringAsync();
            if (last == "Healthy")
            {
                return;
            }
            await Task.Delay(100);
        }
        throw new TimeoutException($"node {InstituteId} did not become healthy: {last}");
    }

    /// <summary>Hands an envelope to this node's inbox as its queue consumer would (throws EnvelopeRejectedException for a refused one).</summary>
    public async Task DeliverAsync(byte[] envelope)
    {
        await using var scope = Services.CreateAsyncScope();
        await scope.ServiceProvider.GetRequiredService<InboxProcessor>().ProcessAsync(envelope, CancellationToken.None);
    }

    public GrpcChannel CreateChannel() =>
        GrpcChannel.ForAddress(Server.BaseAddress, new GrpcChannelOptions { HttpHandler = Server.CreateHandler(), MaxSendMessageSize = null, MaxReceiveMessageSize = null });

    public async Task<string> TokenAsync(string clientId, params string[] scopes)
    {
        using var http = CreateClient();
        var form = new Dictionary<string, string>
        {
            ["grant_type"] = "client_credentials",
            ["client_id"] = clientId,
            ["client_secret"] = TestClients.Secret(clientId),
        };
        if (scopes.Length > 0)
        {
            form["scope"] = string.Join(' ', scopes);
        }
        using var response = await http.PostAsync("/connect/token", new FormUrlEncodedContent(form));
        var body = await response.Content.ReadFromJsonAsync<TokenResponse>();
        return body?.AccessToken ?? throw new InvalidOperationException($"no token for {clientId}: HTTP {(int)response.StatusCode} {body?.Error} {body?.ErrorDescription}");
    }

    public async Task<Metadata> AuthAsync(string clientId, params string[] scopes) =>
        new() { { "authorization", $"Bearer {await TokenAsync(clientId, scopes)}" } };

    private sealed record TokenResponse(
        [property: JsonPropertyName("access_token")] string? AccessToken,
        [property: JsonPropertyName("error")] string? Error,
        [property: JsonPropertyName("error_description")] string? ErrorDescription);
}
