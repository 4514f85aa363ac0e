using Exchange.Node.Persistence;
using Exchange.Testing;
using Exchange.V1;
using Grpc.Core;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace Exchange.EndToEnd.Tests;

/// <summary>All tests that use the shared RabbitMQ run one at a time: one of them restarts it.</summary>
[CollectionDefinition(Name)]
public sealed class RabbitMqCollection : ICollectionFixture<RabbitNetworkFixture>
{
    public const string Name = "rabbitmq";
}

/// <summary>
/// Four institutes, each a node with its own database and its own broker user, on a virtual host of
/// the real RabbitMQ. uk–us: RED for every risk domain; uk–jp: AMBER for cyber; fr: no agreement.
/// uk's copy of the manifest also holds an AMBER agreement with fr that fr's copy lacks, so that fr's
/// own re-check can be seen refusing.
/// </summary>
public sealed class RabbitNetworkFixture : IAsyncLifetime
{
    public static readonly string[] Institutes = ["uk", "us", "jp", "fr"];

    private readonly Dictionary<string, NodeHost> _nodes = [];
    private readonly Dictionary<string, TestDatabase> _databases = [];

    public string Directory { get; } = Path.Combine(Path.GetTempPath(), "exchange-e2e", Guid.NewGuid().ToString("N"));

    public TestManifest Manifest { get; } = new TestManifest()
        .Institute("uk").Institute("us").Institute("jp").Institute("fr")
        .Group("g7", "uk", "us", "jp", "fr")
        .Agreement("uk-us", "uk", "us", "RED")
        .Agreement("uk-jp", "uk", "jp", "AMBER", ["cyber"]);

    public RabbitMqTestBroker Broker { get; private set; } = null!;

    public NodeHost this[string institute] => _nodes[institute];

    public async Task InitializeAsync()
    {
        Broker = await RabbitMqTestBroker.CreateAsync(Manifest.Load());
        foreach (var institute in Institutes)
        {
            // One node on PostgreSQL, the others on SQLite: both kinds of database in every scenario.
            _databases[institute] = await TestDatabase.CreateAsync(institute == "us" ? TestDatabase.Postgres : TestDatabase.Sqlite, Path.Combine(Directory, institute));
        }
        await Task.WhenAll(Institutes.Select(StartAsync));
    }

    public async Task StartAsync(string institute)
    {
        var manifest = institute == "uk" ? Manifest.Clone().Agreement("uk-fr", "uk", "fr", "AMBER") : Manifest;
        var directory = Path.Combine(Directory, institute);
        var node = new NodeHost(institute, manifest.WriteTo(directory), Manifest.Keys[institute], _databases[institute], directory,
            settings: [.. Broker.NodeSettings(institute), new("Broker:EmbargoCheckInterval", "00:00:00.250"), new("Audit:CheckpointInterval", "00:00:01")]);
        _nodes[institute] = node;
        await node.WaitUntilHealthyAsync();
    }

    public async Task StopAsync(string institute)
    {
        await _nodes[institute].DisposeAsync();
        _nodes.Remove(institute);
    }

    public async Task<SubmitFindingResponse> SubmitAsync(string institute, SubmitFindingRequest request)
    {
        using var channel = this[institute].CreateChannel();
        return await new FindingService.FindingServiceClient(channel).SubmitFindingAsync(request, await this[institute].AuthAsync(TestClients.Everything));
    }

    public async Task WithdrawAsync(string institute, string id, string reason)
    {
        using var channel = this[institute].CreateChannel();
        await new FindingService.FindingServiceClient(channel).WithdrawFindingAsync(new WithdrawFindingRequest { Id = id, Reason = reason }, await this[institute].AuthAsync(TestClients.Everything));
    }

    public async Task<T> QueryAsync<T>(string institute, Func<NodeDbContext, Task<T>> query)
    {
        await using var scope = this[institute].Services.CreateAsyncScope();
        return await query(scope.ServiceProvider.GetRequiredService<NodeDbContext>());
    }

    public Task<List<FindingRecord>> StoredAsync(string institute, string findingId) =>
        QueryAsync(institute, db => db.Findings.AsNoTracking().Where(f => f.Id == findingId).OrderBy(f => f.Version).ToListAsync());

    public Task<List<DecisionRecord>> DecisionsAsync(string origin, string findingId) =>
        QueryAsync(origin, db => db.Decisions.AsNoTracking().Where(d => d.FindingId == findingId).ToListAsync());

    public Task<List<string>> AuditKindsAsync(string institute, string? findingId = null, string? messageId = null) =>
        QueryAsync(institute, async db =>
        {
            var events = await db.AuditEvents.AsNoTracking().Where(e => findingId == null || e.FindingId == findingId).ToListAsync();
            return events.Select(e => AuditEvent.Parser.ParseFrom(e.Event))
                .Where(e => messageId == null || e.MessageId == messageId)
                .Select(e => e.Kind.ToString()).ToList();
        });

    public Task<List<AuditEvent>> AuditAsync(string institute, AuditEventKind kind) =>
        QueryAsync(institute, async db => (await db.AuditEvents.AsNoTracking().Where(e => e.Kind == kind.ToString()).ToListAsync())
            .Select(e => AuditEvent.Parser.ParseFrom(e.Event)).ToList());

    public async Task<DeliveryState> DeliveryAsync(string origin, string findingId, string recipient, int version = 1) =>
        (DeliveryState)(await DecisionsAsync(origin, findingId)).Single(d => d.InstituteId == recipient && d.FindingVersion == version).Delivery;

    public async Task UntilDeliveredAsync(string origin, string findingId, string recipient, DeliveryState state = DeliveryState.Acknowledged, int version = 1, TimeSpan? timeout = null)
    {
        try
        {
            await Eventually.TrueAsync(async () => await DeliveryAsync(origin, findingId, recipient, version) == state,
                $"{origin} sees {findingId} v{version} {state} by {recipient}", timeout);
        }
        catch (TimeoutException e)
        {
            // Say where it stopped: at the origin's outbox, on the broker, or at the recipient.
            var outbox = await QueryAsync(origin, db => db.Outbox.AsNoTracking().Where(o => o.FindingId == findingId && o.Recipient == recipient).ToListAsync());
            var rows = string.Join("; ", outbox.Select(o => $"{(EnvelopeKind)o.Kind} sent={o.SentAt:O} attempts={o.Attempts} error={o.LastError} answered={o.AnsweredAt:O} accepted={o.Accepted}"));
            var inbox = _nodes.ContainsKey(recipient) ? await QueryAsync(recipient, db => db.Inbox.AsNoTracking().Where(i => i.FindingId == findingId).Select(i => i.Outcome).ToListAsync()) : [];
            var receipts = _nodes.ContainsKey(recipient) ? await QueryAsync(recipient, db => db.Outbox.AsNoTracking().Where(o => o.FindingId == findingId && o.Recipient == origin).ToListAsync()) : [];
            var receiptRows = string.Join("; ", receipts.Select(o => $"{(EnvelopeKind)o.Kind} sent={o.SentAt:O} attempts={o.Attempts} error={o.LastError}"));
            throw new TimeoutException($"{e.Message}. Origin outbox: [{rows}]. Recipient inbox: [{string.Join(", ", inbox)}]. Recipient outbox: [{receiptRows}]", e);
        }
    }

    public async Task DisposeAsync()
    {
        foreach (var node in _nodes.Values)
        {
            await node.DisposeAsync();
        }
        foreach (var database in _databases.Values)
        {
            await database.DisposeAsync();
        }
        await Broker.DisposeAsync();
        try
        {
            System.IO.Directory.Delete(Directory, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}
