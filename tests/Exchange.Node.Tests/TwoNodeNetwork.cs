using Exchange.Node.Disclosure;
using Exchange.Node.Persistence;
using Exchange.Testing;
using Exchange.V1;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Time.Testing;

namespace Exchange.Node.Tests;

/// <summary>
/// uk and us (a RED agreement between them) as two nodes in this process, joined by the in-memory
/// transport, each with its own clock that a test can move: what one node's clock says and the
/// other's does not is the case to test. One database provider for both.
/// </summary>
public abstract class TwoNodeNetwork : IAsyncLifetime
{
    private readonly InMemoryBroker _broker = new();
    private readonly Dictionary<string, NodeHost> _nodes = [];
    private readonly List<TestDatabase> _databases = [];

    protected abstract string Provider { get; }

    public string Directory { get; } = Path.Combine(Path.GetTempPath(), "exchange-tests", Guid.NewGuid().ToString("N"));

    public TestManifest Manifest { get; } = new TestManifest()
        .Institute("uk").Institute("us")
        .Agreement("uk-us", "uk", "us", "RED");

    public Dictionary<string, FakeTimeProvider> Clocks { get; } = new()
    {
        ["uk"] = new FakeTimeProvider(DateTimeOffset.UtcNow),
        ["us"] = new FakeTimeProvider(DateTimeOffset.UtcNow),
    };

    public NodeHost this[string institute] => _nodes[institute];

    public FindingService.FindingServiceClient Findings(string institute) => new(_nodes[institute].CreateChannel());

    public async Task InitializeAsync()
    {
        foreach (var institute in new[] { "uk", "us" })
        {
            var directory = Path.Combine(Directory, institute);
            var database = await TestDatabase.CreateAsync(Provider, directory);
            _databases.Add(database);
            var clock = Clocks[institute];
            var node = new NodeHost(institute, Manifest.WriteTo(directory), Manifest.Keys[institute], database, directory,
                // A coarse embargo check: the fake clock fires a periodic timer once per period an advance skips.
                settings: [new("Broker:EmbargoCheckInterval", "00:10:00"), new("Findings:EmbargoClockSkew", "00:01:00")],
                services: s => s.AddSingleton<TimeProvider>(clock), broker: _broker);
            _nodes[institute] = node;
            _ = node.Server;
        }
    }

    /// <summary>Runs <paramref name="query"/> on one node's database.</summary>
    public async Task<T> QueryAsync<T>(string institute, Func<NodeDbContext, Task<T>> query)
    {
        await using var scope = _nodes[institute].Services.CreateAsyncScope();
        return await query(scope.ServiceProvider.GetRequiredService<NodeDbContext>());
    }

    /// <summary>Waits until <paramref name="recipient"/> has stored (held or not) this version.</summary>
    public Task UntilStoredAsync(string recipient, string findingId, int version = 1) =>
        Eventually.TrueAsync(() => QueryAsync(recipient, db => db.Findings.AnyAsync(f => f.Id == findingId && f.Version == version)),
            $"{recipient} stores {findingId} v{version}", TimeSpan.FromSeconds(30));

    public async Task DisposeAsync()
    {
        foreach (var node in _nodes.Values)
        {
            await node.DisposeAsync();
        }
        await _broker.DisposeAsync();
        foreach (var database in _databases)
        {
            await database.DisposeAsync();
        }
        try
        {
            System.IO.Directory.Delete(Directory, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}

public sealed class SqliteTwoNodeNetwork : TwoNodeNetwork
{
    protected override string Provider => TestDatabase.Sqlite;
}

public sealed class PostgresTwoNodeNetwork : TwoNodeNetwork
{
    protected override string Provider => TestDatabase.Postgres;
}
