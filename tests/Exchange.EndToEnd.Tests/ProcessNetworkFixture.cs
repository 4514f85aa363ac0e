using System.Collections.Concurrent;
using System.Security.Cryptography;
using Exchange.Domain.Audit;
using Exchange.Envelopes;
using Exchange.Node.Persistence;
using Exchange.Testing;
using Exchange.Transparency;
using Exchange.V1;
using Grpc.Core;
using Microsoft.EntityFrameworkCore;

namespace Exchange.EndToEnd.Tests;

/// <summary>
/// Four institutes, each a node in its own operating-system process (so that it can be killed with
/// SIGKILL), on a virtual host of the real RabbitMQ: uk on PostgreSQL, the others on SQLite.
/// uk–us RED, uk–jp AMBER for cyber, fr no agreement: every finding below is AMBER cyber addressed
/// to all three, so us and jp must receive it and fr never may.
/// </summary>
public sealed class ProcessNetworkFixture : IAsyncLifetime
{
    public static readonly string[] Institutes = ["uk", "us", "jp", "fr"];
    public static readonly string[] Allowed = ["us", "jp"];

    private readonly Dictionary<string, NodeProcess> _nodes = [];
    private readonly Dictionary<string, TestDatabase> _databases = [];
    private readonly ConcurrentDictionary<NodeProcess, Metadata> _tokens = new();
    private string _manifestPath = "";

    public string Directory { get; } = Path.Combine(Path.GetTempPath(), "exchange-faults", Guid.NewGuid().ToString("N")[..8]);

    public TestManifest Manifest { get; } = new TestManifest()
        .Institute("uk").Institute("us").Institute("jp").Institute("fr")
        .Group("g7", "uk", "us", "jp", "fr")
        .Agreement("uk-us", "uk", "us", "RED")
        .Agreement("uk-jp", "uk", "jp", "AMBER", ["cyber"]);

    public RabbitMqTestBroker Broker { get; private set; } = null!;

    public NodeProcess this[string institute] => _nodes[institute];

    /// <summary>How many findings the current run has submitted so far (acknowledged by uk's API).</summary>
    public int Submitted => Volatile.Read(ref _submitted);

    private int _submitted;
    private int _retries;

    /// <summary>Attempts of the current run that failed and were retried (node down, busy, unreachable).</summary>
    public int Retries => Volatile.Read(ref _retries);

    /// <summary>Of those, the ones the node answered UNAVAILABLE (its database out of reach or busy).</summary>
    public int Unavailable => Volatile.Read(ref _unavailable);

    private int _unavailable;

    /// <summary>The last error a submission of the current run met, for a failing test to show.</summary>
    public string LastError => Volatile.Read(ref _lastError) ?? "none";

    private string? _lastError;

    public async Task InitializeAsync()
    {
        Broker = await RabbitMqTestBroker.CreateAsync(Manifest.Load());
        _manifestPath = Manifest.WriteTo(Directory);
        foreach (var institute in Institutes)
        {
            _databases[institute] = await TestDatabase.CreateAsync(institute == "uk" ? TestDatabase.Postgres : TestDatabase.Sqlite, Path.Combine(Directory, institute));
        }
        foreach (var institute in Institutes)
        {
            _nodes[institute] = Create(institute, []);
        }
        await Task.WhenAll(_nodes.Values.Select(n => n.StartAsync()));
    }

    private NodeProcess Create(string institute, IEnumerable<KeyValuePair<string, string?>> settings, string? connectionString = null, string? dataDirectory = null)
    {
        var database = _databases[institute];
        return new NodeProcess(institute, _manifestPath, Manifest.Keys[institute], database.Provider, connectionString ?? database.ConnectionString,
            dataDirectory ?? Path.Combine(Directory, institute),
            [
                .. Broker.NodeSettings(institute),
                new("Audit:CheckpointInterval", "00:00:02"),
                new("Broker:SendTimeout", "00:00:10"),
                new("Logging:LogLevel:Default", "Error"),
                .. settings,
            ]);
    }

    /// <summary>SIGKILL, as a crash: no shutdown, nothing flushed.</summary>
    public Task KillAsync(string institute) => _nodes[institute].KillAsync();

    /// <summary>Starts the institute's node again on the same database (after a kill, or with other settings).</summary>
    public async Task RestartAsync(string institute, IEnumerable<KeyValuePair<string, string?>>? settings = null, string? connectionString = null)
    {
        await _nodes[institute].DisposeAsync();
        var node = Create(institute, settings ?? [], connectionString);
        _nodes[institute] = node;
        await node.StartAsync(TimeSpan.FromMinutes(2));
    }

    public string ConnectionString(string institute) => _databases[institute].ConnectionString;

    /// <summary>
    /// A second node process of the institute on the same database and the same queue, as an
    /// operator runs replicas; the caller stops it.
    /// </summary>
    public async Task<NodeProcess> StartReplicaAsync(string institute)
    {
        var replica = Create(institute, [], dataDirectory: Path.Combine(Directory, $"{institute}-replica-{Guid.NewGuid():N}"[..20]));
        await replica.StartAsync(TimeSpan.FromMinutes(2));
        return replica;
    }

    /// <summary>
    /// Submits AMBER cyber findings to uk, addressed to us, jp and fr, as a careful client does: each
    /// with its own request id, retried with the same id while the node is down or busy.
    /// </summary>
    public async Task<IReadOnlyList<string>> SubmitAsync(int count, int concurrency = 8, IReadOnlyList<NodeProcess>? via = null)
    {
        Volatile.Write(ref _submitted, 0);
        Volatile.Write(ref _retries, 0);
        Volatile.Write(ref _unavailable, 0);
        Volatile.Write(ref _lastError, null);
        var run = Guid.NewGuid().ToString("N")[..8];
        var ids = new ConcurrentBag<string>();
        await Parallel.ForEachAsync(Enumerable.Range(0, count), new ParallelOptions { MaxDegreeOfParallelism = concurrency }, async (i, _) =>
        {
            var request = SampleFindings.Valid(TlpLevel.Amber, RiskDomain.Cyber, institutes: ["us", "jp", "fr"], requestId: $"fault-{run}-{i}");
            var deadline = DateTime.UtcNow + TimeSpan.FromMinutes(3);
            while (true)
            {
                var node = via is { Count: > 0 } ? via[i % via.Count] : _nodes["uk"];
                try
                {
                    var auth = _tokens.TryGetValue(node, out var cached) ? cached : _tokens[node] = await node.AuthAsync(TestClients.Submitter);
                    var response = await new FindingService.FindingServiceClient(node.Channel)
                        .SubmitFindingAsync(request, auth, deadline: DateTime.UtcNow.AddSeconds(30));
                    ids.Add(response.Finding.Id);
                    Interlocked.Increment(ref _submitted);
                    return;
                }
                catch (Exception e) when (e is RpcException or HttpRequestException or System.Text.Json.JsonException or InvalidOperationException or KeyNotFoundException
                                          && DateTime.UtcNow < deadline)
                {
                    if (e is RpcException { StatusCode: StatusCode.InvalidArgument or StatusCode.PermissionDenied or StatusCode.AlreadyExists })
                    {
                        throw;
                    }
                    Interlocked.Increment(ref _retries);
                    Volatile.Write(ref _lastError, $"{DateTime.UtcNow:HH:mm:ss} {e.GetType().Name}: {e.Message}");
                    if (e is RpcException { StatusCode: StatusCode.Unauthenticated })
                    {
                        // The cached token expired (they live five minutes, and a fixture outlives that): get a new one.
                        _tokens.TryRemove(node, out var expired);
                    }
                    if (e is RpcException { StatusCode: StatusCode.Unavailable })
                    {
                        Interlocked.Increment(ref _unavailable);
                    }
                    await Task.Delay(250);
                }
            }
        });
        return [.. ids.Distinct()];
    }

    public async Task<T> QueryAsync<T>(string institute, Func<NodeDbContext, Task<T>> query)
    {
        await using var db = _databases[institute].Open();
        return await query(db);
    }

    /// <summary>
    /// After a fault: every finding stored once at every allowed peer and acknowledged with a signed
    /// receipt, nothing at fr, and every node's audit log verifying against its key.
    /// </summary>
    public async Task AssertIntactAsync(IReadOnlyList<string> ids, TimeSpan? timeout = null)
    {
        Assert.Equal(ids.Count, ids.Distinct().Count());
        var expected = ids.Count * Allowed.Length;
        var acknowledgedSoFar = 0;
        var unsent = 0;
        await Eventually.TrueAsync(async () =>
            {
                acknowledgedSoFar = await QueryAsync("uk", db => db.Decisions.CountAsync(
                    d => ids.Contains(d.FindingId) && Allowed.Contains(d.InstituteId) && d.Delivery == (int)DeliveryState.Acknowledged));
                unsent = await QueryAsync("uk", db => db.Outbox.CountAsync(o => o.SentAt == null && o.CancelledAt == null));
                return acknowledgedSoFar == expected;
            },
            () => $"uk has {expected} acknowledged disclosures (so far {acknowledgedSoFar}; {unsent} outbox rows unsent; uk said: {string.Join(" | ", this["uk"].LastOutput(5))})",
            timeout ?? TimeSpan.FromMinutes(4));

        foreach (var peer in Allowed)
        {
            // 0 lost and 0 duplicated: each finding stored once, and received (audited) once.
            var stored = await QueryAsync(peer, db => db.Findings.Where(f => ids.Contains(f.Id)).GroupBy(f => f.Id).Select(g => g.Count()).ToListAsync());
            Assert.Equal(ids.Count, stored.Count);
            Assert.All(stored, n => Assert.Equal(1, n));
            var received = await QueryAsync(peer, db => db.AuditEvents.Where(e => e.Kind == nameof(AuditEventKind.FindingReceived) && ids.Contains(e.FindingId!))
                .GroupBy(e => e.FindingId).Select(g => g.Count()).ToListAsync());
            Assert.Equal(ids.Count, received.Count);
            Assert.All(received, n => Assert.Equal(1, n));
        }
        // 0 to an unauthorised peer: nothing stored, nothing even sent.
        Assert.Equal(0, await QueryAsync("fr", db => db.Findings.CountAsync(f => ids.Contains(f.Id))));
        Assert.Equal(0, await QueryAsync("uk", db => db.Outbox.CountAsync(o => ids.Contains(o.FindingId!) && o.Recipient == "fr")));

        // Every acknowledgement is backed by the recipient's receipt, which opens and verifies.
        var acknowledged = await QueryAsync("uk", db => db.Outbox.AsNoTracking()
            .Where(o => ids.Contains(o.FindingId!) && o.Kind == (int)EnvelopeKind.Finding && o.Accepted == true).ToListAsync());
        Assert.Equal(expected, acknowledged.Select(o => (o.FindingId, o.Recipient)).Distinct().Count());
        var opener = Opener("uk");
        foreach (var row in acknowledged)
        {
            var receipt = opener.Open(row.Receipt ?? throw new Xunit.Sdk.XunitException($"no receipt for {row.MessageId}"));
            Assert.True(receipt.Opened is not null, receipt.Rejection?.ToString());
            Assert.Equal(row.Recipient, receipt.Opened.Header.Origin);
            Assert.Equal(row.MessageId, ReceiptPayload.Parser.ParseFrom(receipt.Opened.Payload).MessageId);
        }

        foreach (var institute in Institutes)
        {
            await AssertAuditVerifiesAsync(institute);
        }
    }

    private EnvelopeOpener Opener(string self)
    {
        var keys = Manifest.Keys[self];
        var encryption = ECDiffieHellman.Create();
        encryption.ImportPkcs8PrivateKey(keys.EncryptionPrivateKey, out _);
        var encryptionKeyId = KeyIds.Of(keys.EncryptionPublicKey);
        return new EnvelopeOpener(self,
            origin =>
            {
                if (!Manifest.Keys.TryGetValue(origin, out var peer))
                {
                    return null;
                }
                var signing = ECDsa.Create();
                signing.ImportSubjectPublicKeyInfo(peer.SigningPublicKey, out _);
                return (signing, KeyIds.Of(peer.SigningPublicKey));
            },
            keyId => keyId.Span.SequenceEqual(encryptionKeyId) ? encryption : null);
    }

    private async Task AssertAuditVerifiesAsync(string institute)
    {
        var node = _nodes[institute];
        var auth = await node.AuthAsync(TestClients.Auditor);
        var audit = new AuditService.AuditServiceClient(node.Channel);
        try
        {
            await audit.GetCheckpointAsync(new GetCheckpointRequest { Fresh = true }, auth);
        }
        catch (RpcException e) when (e.StatusCode == StatusCode.NotFound)
        {
            // An empty log has nothing to sign (fr, to whom nothing is ever sent): checked below.
        }
        var entries = new List<(long, byte[])>();
        var checkpoints = new List<string>();
        using (var call = audit.Export(new ExportAuditRequest(), auth))
        {
            await foreach (var message in call.ResponseStream.ReadAllAsync())
            {
                entries.AddRange(message.Records.Select(r => ((long)r.Index, r.EntryBytes.ToByteArray())));
                checkpoints.AddRange(message.Checkpoints);
            }
        }
        using var key = ECDsa.Create();
        key.ImportSubjectPublicKeyInfo(Manifest.Keys[institute].SigningPublicKey, out _);
        var witnesses = Institutes.Where(i => i != institute).Select(i => NoteKey.FromPublicKey(AuditLogFormat.Origin(i), Manifest.Keys[i].SigningPublicKey));
        var result = AuditLogVerifier.Verify(institute, key, entries, checkpoints, witnesses);
        Assert.True(result.Ok, $"{institute}'s audit log does not verify: {string.Join("; ", result.Problems)}");
        Assert.True(entries.Count == 0 || result.CheckpointsVerified > 0, $"{institute}: {entries.Count} entries and no checkpoint verified");
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
