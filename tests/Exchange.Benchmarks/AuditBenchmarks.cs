using BenchmarkDotNet.Attributes;
using Exchange.Node;
using Exchange.Node.Audit;
using Exchange.Node.Network;
using Exchange.Node.Persistence;
using Exchange.Transparency;
using Exchange.V1;
using Google.Protobuf;
using Google.Protobuf.WellKnownTypes;
using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace Exchange.Benchmarks;

internal static class AuditDatabase
{
    public static NodeDbContext Open(string path) =>
        new SqliteNodeDbContext(new DbContextOptionsBuilder<SqliteNodeDbContext>()
            .UseSqlite($"Data Source={path};Default Timeout=60")
            .AddInterceptors(new SqliteConnectionSetup())
            .UseOpenIddict()
            .Options);

    public static AuditLog Log(NodeDbContext db) => new(db, new NodeKeyRing(), TimeProvider.System,
        Options.Create(new NodeOptions { InstituteId = "uk" }), Options.Create(new AuditOptions { IntegrationBatchSize = 5000 }));

    public static AuditEvent Event(int i) => new()
    {
        Kind = AuditEventKind.DisclosureDecided,
        OccurredAt = Timestamp.FromDateTimeOffset(DateTimeOffset.UtcNow),
        Actor = "submitter",
        FindingId = $"uk-{i:D32}",
        FindingVersion = 1,
        Label = TlpLevel.Amber,
        Counterparty = "us",
        Outcome = DisclosureOutcome.Allow,
        Reasons = { new AuditReason { Code = "allow.agreement", Rule = "tlp.amber", AgreementId = "uk-us" } },
        ContentHash = ByteString.CopyFrom(new byte[32]),
    };
}

/// <summary>
/// Persisted appends on SQLite, 5,000 events a batch. The baseline records the events (what any
/// audit table costs, and what a state change's transaction pays); the benchmark places already
/// recorded events in the Merkle tree: index, link, leaf and node hashes, head, one transaction.
/// </summary>
[MemoryDiagnoser]
[InvocationCount(1)]
[WarmupCount(5)]
[IterationCount(20)]
public class AuditAppendBenchmarks
{
    private const int Batch = 5000;
    private string _directory = "";
    private NodeDbContext _db = null!;

    [GlobalSetup]
    public void Setup()
    {
        _directory = Path.Combine(Path.GetTempPath(), "exchange-bench", Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(_directory);
        _db = AuditDatabase.Open(Path.Combine(_directory, "node.db"));
        _db.Database.Migrate();
        _db.Database.ExecuteSqlRaw("PRAGMA journal_mode=WAL;");
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _db.Dispose();
        SqliteConnection.ClearAllPools();
        Directory.Delete(_directory, recursive: true);
    }

    // Leaves nothing pending for the next measurement of Integrate.
    [IterationSetup(Target = nameof(Record))]
    public void BeforeRecord() => AuditDatabase.Log(_db).IntegrateAsync(CancellationToken.None).GetAwaiter().GetResult();

    [IterationSetup(Target = nameof(Integrate))]
    public void BeforeIntegrate() => RecordAsync().GetAwaiter().GetResult();

    [Benchmark(Baseline = true, OperationsPerInvoke = Batch)]
    public Task Record() => RecordAsync();

    [Benchmark(OperationsPerInvoke = Batch)]
    public async Task<int> Integrate()
    {
        var integrated = await AuditDatabase.Log(_db).IntegrateAsync(CancellationToken.None);
        _db.ChangeTracker.Clear();
        return integrated;
    }

    private static readonly Exchange.Node.Telemetry.NodeMetrics Metrics = new(
        new Microsoft.Extensions.DependencyInjection.ServiceCollection().AddMetrics().BuildServiceProvider()
            .GetRequiredService<System.Diagnostics.Metrics.IMeterFactory>(),
        Microsoft.Extensions.Options.Options.Create(new Exchange.Node.NodeOptions { InstituteId = "uk" }));

    private async Task RecordAsync()
    {
        var recorder = new AuditRecorder(_db, TimeProvider.System, Metrics);
        for (var i = 0; i < Batch; i++)
        {
            recorder.Record(AuditDatabase.Event(i));
        }
        await _db.SaveChangesAsync();
        _db.ChangeTracker.Clear();
    }
}

/// <summary>An inclusion and a consistency proof in a log of 1,000,000 entries, from SQLite and, as the baseline, from memory.</summary>
[MemoryDiagnoser]
public class AuditProofBenchmarks
{
    private const long Size = 1_000_000;
    private string _directory = "";
    private NodeDbContext _db = null!;
    private AuditLog _log = null!;
    private readonly Dictionary<NodeId, byte[]> _memory = [];
    private readonly Random _random = new(7);

    [GlobalSetup]
    public void Setup()
    {
        _directory = Path.Combine(Path.GetTempPath(), "exchange-bench", Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(_directory);
        var path = Path.Combine(_directory, "node.db");
        _db = AuditDatabase.Open(path);
        _db.Database.Migrate();
        var range = new CompactRange();
        using var connection = new SqliteConnection($"Data Source={path}");
        connection.Open();
        using var transaction = connection.BeginTransaction();
        // As the integrator stores them: leaf hashes with the events, interior nodes in the tree table.
        using var insertNode = connection.CreateCommand();
        insertNode.CommandText = "INSERT INTO audit_tree (\"Key\", \"Hash\") VALUES ($key, $hash)";
        var key = insertNode.Parameters.Add("$key", SqliteType.Integer);
        var hash = insertNode.Parameters.Add("$hash", SqliteType.Blob);
        using var insertLeaf = connection.CreateCommand();
        insertLeaf.CommandText = "INSERT INTO audit_events (\"Kind\", \"OccurredAt\", \"Event\", \"Entry\", \"LeafIndex\", \"LeafHash\") VALUES ('DisclosureSent', 0, x'', x'', $index, $hash)";
        var index = insertLeaf.Parameters.Add("$index", SqliteType.Integer);
        var leafHash = insertLeaf.Parameters.Add("$hash", SqliteType.Blob);
        for (var i = 0L; i < Size; i++)
        {
            foreach (var (node, h) in range.Append(MerkleHash.Leaf(BitConverter.GetBytes(i))))
            {
                _memory[node] = h;
                var command = node.Level == 0 ? insertLeaf : insertNode;
                if (node.Level == 0)
                {
                    index.Value = node.Index;
                    leafHash.Value = h;
                }
                else
                {
                    key.Value = AuditTreeNodeRecord.KeyOf(node);
                    hash.Value = h;
                }
                command.ExecuteNonQuery();
            }
        }
        transaction.Commit();
        _log = AuditDatabase.Log(_db);
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _db.Dispose();
        SqliteConnection.ClearAllPools();
        Directory.Delete(_directory, recursive: true);
    }

    [Benchmark(Baseline = true)]
    public List<byte[]> InclusionFromMemory() =>
        ProofPaths.Inclusion(_random.NextInt64(Size), Size).Select(r => ProofPaths.Hash(r, n => _memory[n])).ToList();

    [Benchmark]
    public async Task<int> InclusionFromSqlite() => (await _log.InclusionProofAsync(_random.NextInt64(Size), Size, CancellationToken.None)).Proof.Count;

    [Benchmark]
    public async Task<int> ConsistencyFromSqlite() => (await _log.ConsistencyProofAsync(1 + _random.NextInt64(Size - 1), Size, CancellationToken.None)).Proof.Count;
}
