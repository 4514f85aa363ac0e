using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using Exchange.Domain.Network;
using RabbitMQ.Client;

namespace Exchange.Testing;

/// <summary>
/// A virtual host of its own on the RabbitMQ that tests/run.sh starts, loaded with the topology and
/// per-institute users that <see cref="BrokerTopology"/> derives from a manifest (the same
/// definitions operators load). Removed, users and all, when disposed. If RabbitMQ is not
/// reachable the test fails: a missing broker must never pass quietly.
/// </summary>
public sealed class RabbitMqTestBroker : IAsyncDisposable
{
    private readonly HttpClient _management;

    private RabbitMqTestBroker(HttpClient management, string virtualHost, IReadOnlyList<BrokerTopology.Credential> credentials)
    {
        _management = management;
        VirtualHost = virtualHost;
        Credentials = credentials;
    }

    public static string Host => Environment.GetEnvironmentVariable("EXCHANGE_TEST_RABBIT_HOST") ?? "127.0.0.1";
    public static string AdminUser => Environment.GetEnvironmentVariable("EXCHANGE_TEST_RABBIT_USER") ?? "exchange-test";
    public static string AdminPassword => Environment.GetEnvironmentVariable("EXCHANGE_TEST_RABBIT_PASSWORD") ?? "exchange-test";
    public static string ManagementUrl => Environment.GetEnvironmentVariable("EXCHANGE_TEST_RABBIT_MANAGEMENT") ?? "http://127.0.0.1:15672";
    public static string NodeName => Environment.GetEnvironmentVariable("EXCHANGE_TEST_RABBIT_NODENAME") ?? "rabbit@localhost";

    public string VirtualHost { get; }
    public IReadOnlyList<BrokerTopology.Credential> Credentials { get; }
    /// <summary>What <see cref="BrokerTopology.Definitions"/> produced and the broker loaded: users, permissions, queues, exchanges, bindings, policies.</summary>
    public System.Text.Json.Nodes.JsonObject Definitions { get; private init; } = [];

    public BrokerTopology.Credential CredentialOf(string instituteId) => Credentials.Single(c => c.InstituteId == instituteId);

    public static async Task<RabbitMqTestBroker> CreateAsync(NetworkManifest manifest)
    {
        var id = Guid.NewGuid().ToString("N")[..10];
        var virtualHost = $"exchange-test-{id}";
        var credentials = BrokerTopology.NewCredentials(manifest, $"t{id}-");
        var management = new HttpClient { BaseAddress = new Uri(ManagementUrl), Timeout = TimeSpan.FromSeconds(60) };
        management.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes($"{AdminUser}:{AdminPassword}")));
        HttpResponseMessage response;
        System.Text.Json.Nodes.JsonObject definitions;
        try
        {
            definitions = BrokerTopology.Definitions(manifest, virtualHost, credentials);
            response = await management.PostAsJsonAsync("/api/definitions", definitions);
        }
        catch (HttpRequestException e)
        {
            management.Dispose();
            throw new InvalidOperationException($"RabbitMQ's management API is not reachable at {ManagementUrl} ({e.Message}). Run the tests through tests/run.sh, which starts RabbitMQ.", e);
        }
        if (!response.IsSuccessStatusCode)
        {
            throw new InvalidOperationException($"Loading the broker definitions failed: HTTP {(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
        }
        return new RabbitMqTestBroker(management, virtualHost, credentials) { Definitions = definitions };
    }

    /// <summary>The node settings for one institute: its own broker user on this virtual host.</summary>
    public IEnumerable<KeyValuePair<string, string?>> NodeSettings(string instituteId)
    {
        var credential = CredentialOf(instituteId);
        yield return new("Broker:Transport", "RabbitMq");
        yield return new("Broker:Host", Host);
        yield return new("Broker:VirtualHost", VirtualHost);
        yield return new("Broker:Username", credential.Username);
        yield return new("Broker:Password", credential.Password);
    }

    public async Task<IConnection> ConnectAsync(string username, string password) =>
        await new ConnectionFactory { HostName = Host, VirtualHost = VirtualHost, UserName = username, Password = password }.CreateConnectionAsync();

    public Task<IConnection> ConnectAsAdminAsync() => ConnectAsync(AdminUser, AdminPassword);

    /// <summary>A queue as the management API describes it (GET /api/queues/{vhost}/{name}).</summary>
    public async Task<System.Text.Json.Nodes.JsonNode> QueueAsync(string queue) =>
        (await _management.GetFromJsonAsync<System.Text.Json.Nodes.JsonNode>($"/api/queues/{Uri.EscapeDataString(VirtualHost)}/{Uri.EscapeDataString(queue)}"))!;

    /// <summary>Messages now in a queue, from the management API.</summary>
    public async Task<long> MessageCountAsync(string queue)
    {
        using var connection = await ConnectAsAdminAsync();
        using var channel = await connection.CreateChannelAsync();
        return (await channel.QueueDeclarePassiveAsync(queue)).MessageCount;
    }

    public async ValueTask DisposeAsync()
    {
        await _management.DeleteAsync($"/api/vhosts/{Uri.EscapeDataString(VirtualHost)}");
        foreach (var credential in Credentials)
        {
            await _management.DeleteAsync($"/api/users/{Uri.EscapeDataString(credential.Username)}");
        }
        _management.Dispose();
    }

    /// <summary>Stops and starts the RabbitMQ application (the Erlang node stays up): every connection drops.</summary>
    public static async Task RestartAsync()
    {
        await RabbitMqCtlAsync("stop_app");
        await RabbitMqCtlAsync("start_app");
        await RabbitMqCtlAsync("await_startup");
    }

    public static Task CloseAllConnectionsAsync() => RabbitMqCtlAsync("close_all_connections", "closed by a test");

    private static async Task RabbitMqCtlAsync(params string[] arguments)
    {
        var root = Environment.UserName == "root";
        var (code, output, error) = await ProcessRunner.RunAsync(
            root ? "rabbitmqctl" : "sudo",
            root ? ["-n", NodeName, .. arguments] : ["-n", "rabbitmqctl", "-n", NodeName, .. arguments],
            Path.GetTempPath(), TimeSpan.FromMinutes(2));
        if (code != 0)
        {
            throw new InvalidOperationException($"rabbitmqctl {string.Join(' ', arguments)} failed ({code}): {error}{output}");
        }
    }
}
