using Exchange.Testing;
using Exchange.V1;
using Grpc.Net.Client;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;

namespace Exchange.Node.Tests;

/// <summary>
/// A node of institute "uk" on a fresh database of one provider, with partners us (RED agreement),
/// jp (AMBER for cyber) and fr (no agreement). Shared by the tests of one class.
/// </summary>
public abstract class NodeFixture : IAsyncLifetime
{
    private GrpcChannel? _channel;

    protected abstract string Provider { get; }

    public string Directory { get; } = Path.Combine(Path.GetTempPath(), "exchange-tests", Guid.NewGuid().ToString("N"));
    public TestManifest Manifest { get; } = new TestManifest()
        .Institute("uk").Institute("us").Institute("jp").Institute("fr")
        .Group("g7", "uk", "us", "jp", "fr")
        .Agreement("uk-us", "uk", "us", "RED")
        .Agreement("uk-jp", "uk", "jp", "AMBER", ["cyber"]);

    public FakeTimeProvider Time { get; } = new(DateTimeOffset.UtcNow);
    public TestDatabase Database { get; private set; } = null!;
    public NodeHost Node { get; private set; } = null!;
    public GrpcChannel Channel => _channel ??= Node.CreateChannel();
    public FindingService.FindingServiceClient Findings => new(Channel);

    public async Task InitializeAsync()
    {
        Database = await TestDatabase.CreateAsync(Provider, Directory);
        Node = StartNode(Database);
        _ = Node.Server;
    }

    // The fake clock fires a periodic timer once per period it skips: a coarse embargo check keeps
    // an advance of a day to a few hundred ticks.
    public NodeHost StartNode(TestDatabase database, string? dataDirectory = null) =>
        new("uk", Manifest.WriteTo(Directory), Manifest.Keys["uk"], database, dataDirectory ?? Directory,
            settings: [new("Broker:EmbargoCheckInterval", "00:10:00"), new("Subscriptions:MaxPerClient", "64"), new("Telemetry:SampleInterval", "00:00:00.200"), .. ExtraSettings],
            services: s => s.AddSingleton<TimeProvider>(Time));

    /// <summary>More settings for the node of a fixture that needs them (more clients, say).</summary>
    protected virtual IEnumerable<KeyValuePair<string, string?>> ExtraSettings => [];

    public async Task DisposeAsync()
    {
        _channel?.Dispose();
        await Node.DisposeAsync();
        await Database.DisposeAsync();
        try
        {
            System.IO.Directory.Delete(Directory, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}

public sealed class SqliteNodeFixture : NodeFixture
{
    protected override string Provider => TestDatabase.Sqlite;
}

public sealed class PostgresNodeFixture : NodeFixture
{
    protected override string Provider => TestDatabase.Postgres;
}
