using System.Diagnostics;
using System.Globalization;
using Exchange.Envelopes;
using Exchange.LoadTest;
using Exchange.Testing;
using Exchange.V1;
using Google.Protobuf;
using Google.Protobuf.WellKnownTypes;
using Grpc.Core;

// exchange load test: N node processes on the real RabbitMQ, each finding addressed to every other
// institute, then the raw broker doing the same number of deliveries of the same size.
// `feed [--subscribers N] [--findings M] [--database D] [--amber-share F]`: the subscription feed instead.
if (args is ["feed", .. var feedArgs])
{
    var feed = ParseFeed(feedArgs);
    return await FeedLoad.RunAsync(feed.Subscribers, feed.Findings, feed.Database, feed.AmberShare);
}
var options = Parse(args);
var invariant = CultureInfo.InvariantCulture;
var ids = Enumerable.Range(0, options.Institutes).Select(i => $"n{i}").ToArray();
var manifest = new TestManifest();
foreach (var id in ids)
{
    manifest.Institute(id);
}
for (var a = 0; a < ids.Length; a++)
{
    for (var b = a + 1; b < ids.Length; b++)
    {
        manifest.Agreement($"{ids[a]}-{ids[b]}", ids[a], ids[b], "AMBER");
    }
}
var directory = Path.Combine(Path.GetTempPath(), "exchange-load", Guid.NewGuid().ToString("N")[..8]);
Console.WriteLine($"Machine: {Environment.ProcessorCount} cores, {MemoryGiB():0.#} GiB; {options.Institutes} institutes, {options.Findings} findings " +
                  $"({options.Findings * (options.Institutes - 1)} deliveries), {(options.Rate > 0 ? $"{options.Rate}/s" : $"full speed, {options.Concurrency} concurrent submits")}, {options.Database}");

await using var broker = await RabbitMqTestBroker.CreateAsync(manifest.Load());
var databases = new List<TestDatabase>();
var nodes = new Dictionary<string, NodeProcess>();
try
{
    var manifestPath = manifest.WriteTo(directory);
    foreach (var id in ids)
    {
        var database = await TestDatabase.CreateAsync(options.Database, Path.Combine(directory, id));
        databases.Add(database);
        nodes[id] = new NodeProcess(id, manifestPath, manifest.Keys[id], database.Provider, database.ConnectionString, Path.Combine(directory, id),
            [.. broker.NodeSettings(id), new("Audit:CheckpointInterval", "00:00:30")]);
    }
    await Task.WhenAll(nodes.Values.Select(n => n.StartAsync()));

    var warm = await RunAsync(nodes, ids, options.Warmup, options with { Rate = 0 });
    Console.WriteLine($"Warm-up: {warm.Deliveries} deliveries acknowledged");

    var before = nodes.ToDictionary(n => n.Key, n => n.Value.Usage());
    var run = await RunAsync(nodes, ids, options.Findings, options);
    var after = nodes.ToDictionary(n => n.Key, n => n.Value.Usage());

    var latencies = run.Latencies.Order().ToArray();
    double Percentile(double p) => latencies[Math.Min(latencies.Length - 1, (int)Math.Ceiling(p * latencies.Length) - 1)];
    var findingsPerSecond = options.Findings / run.Elapsed.TotalSeconds;
    var deliveriesPerSecond = run.Deliveries / run.Elapsed.TotalSeconds;
    Console.WriteLine();
    Console.WriteLine($"Exchange: {options.Findings} findings, {run.Deliveries} deliveries acknowledged in {run.Elapsed.TotalSeconds:0.00} s");
    Console.WriteLine($"  {findingsPerSecond:0.0} findings/s, {deliveriesPerSecond:0.0} deliveries/s");
    Console.WriteLine($"  submit -> acknowledged: p50 {Percentile(0.50):0} ms, p95 {Percentile(0.95):0} ms, p99 {Percentile(0.99):0} ms, max {latencies[^1]:0} ms");
    foreach (var id in ids)
    {
        var cpu = after[id].Cpu - before[id].Cpu;
        Console.WriteLine($"  node {id} (pid {nodes[id].ProcessId}): CPU {cpu.TotalSeconds:0.00} s ({cpu.TotalSeconds / run.Elapsed.TotalSeconds * 100:0}% of one core), peak memory {after[id].PeakBytes / 1024.0 / 1024:0} MiB");
    }

    var nodeCpu = ids.Aggregate(TimeSpan.Zero, (sum, id) => sum + (after[id].Cpu - before[id].Cpu));
    Console.WriteLine($"  node CPU per delivery: {nodeCpu.TotalMilliseconds / run.Deliveries:0.00} ms (all nodes, measured run)");

    // The baseline runs on a machine with nothing else to do: nodes still alive (their JIT,
    // checkpoints, polling) took a third or more off the raw figure and flattered every ratio.
    foreach (var node in nodes.Values)
    {
        await node.DisposeAsync();
    }
    nodes.Clear();
    var envelopeBytes = SampleEnvelopeBytes(manifest, ids);
    var messageBytes = (envelopeBytes + 2) / 3 * 4 + 700;
    // The raw run is short (about a second), so one run swings with whatever else the machine is
    // doing; the median of three is the denominator.
    var rawRuns = new List<(double PerSecond, TimeSpan Elapsed)>();
    for (var i = 0; i < 3; i++)
    {
        rawRuns.Add(await RawBaseline.RunAsync(() => broker.ConnectAsAdminAsync(), options.Institutes, run.Deliveries, messageBytes));
    }
    var (rawPerSecond, rawElapsed) = rawRuns.OrderBy(r => r.PerSecond).ElementAt(1);
    Console.WriteLine();
    Console.WriteLine($"Raw RabbitMQ.Client, nodes stopped: {run.Deliveries} persistent {messageBytes}-byte messages to {options.Institutes} quorum queues, confirms and acks, in {rawElapsed.TotalSeconds:0.00} s " +
                      $"(median of 3 runs: {string.Join(", ", rawRuns.Select(r => $"{r.PerSecond:0} msg/s"))})");
    Console.WriteLine($"  {rawPerSecond:0.0} messages/s ({rawPerSecond / (options.Institutes - 1):0.0} findings/s at {options.Institutes - 1} deliveries each)");
    Console.WriteLine();
    Console.WriteLine($"Ratio exchange / raw (deliveries/s): {deliveriesPerSecond / rawPerSecond:0.000}");
}
catch
{
    foreach (var node in nodes.Values)
    {
        Console.Error.WriteLine($"--- node {node.InstituteId}, last log lines:");
        Console.Error.WriteLine(string.Join(Environment.NewLine, node.Output.TakeLast(40)));
    }
    throw;
}
finally
{
    foreach (var node in nodes.Values)
    {
        await node.DisposeAsync();
    }
    foreach (var database in databases)
    {
        try
        {
            await database.DisposeAsync();
        }
        catch (Exception e)
        {
            // The figures are printed already; a database the test role may not drop is left for the operator.
            Console.Error.WriteLine($"warning: could not drop the test database ({e.GetType().Name}: {e.Message})");
        }
    }
    try
    {
        Directory.Delete(directory, recursive: true);
    }
    catch (IOException)
    {
    }
}
return 0;

static async Task<(int Deliveries, TimeSpan Elapsed, List<double> Latencies)> RunAsync(Dictionary<string, NodeProcess> nodes, string[] ids, int findings, LoadOptions options)
{
    var auth = new Dictionary<string, Metadata>();
    foreach (var id in ids)
    {
        auth[id] = await nodes[id].AuthAsync();
    }
    var submitted = new System.Collections.Concurrent.ConcurrentDictionary<string, (string Origin, DateTimeOffset At)>();
    var gate = new SemaphoreSlim(options.Concurrency);
    var started = DateTimeOffset.UtcNow;
    var clock = Stopwatch.StartNew();
    var tasks = new List<Task>();
    for (var i = 0; i < findings; i++)
    {
        if (options.Rate > 0)
        {
            var due = TimeSpan.FromSeconds(i / options.Rate);
            if (due > clock.Elapsed)
            {
                await Task.Delay(due - clock.Elapsed);
            }
        }
        var origin = ids[i % ids.Length];
        await gate.WaitAsync();
        tasks.Add(Task.Run(async () =>
        {
            try
            {
                var request = SampleFindings.Valid(TlpLevel.Amber, RiskDomain.Cyber, institutes: [.. ids.Where(x => x != origin)]);
                var at = DateTimeOffset.UtcNow;
                var response = await new FindingService.FindingServiceClient(nodes[origin].Channel).SubmitFindingAsync(request, auth[origin]);
                submitted[response.Finding.Id] = (origin, at);
            }
            finally
            {
                gate.Release();
            }
        }));
    }
    await Task.WhenAll(tasks);

    var expected = findings * (ids.Length - 1);
    var acknowledged = new Dictionary<(string, string), DateTimeOffset>();
    // Each poll continues where the last one stopped, so watching costs the nodes little.
    var tokens = ids.ToDictionary(id => id, _ => "");
    var auditors = new Dictionary<string, Metadata>();
    foreach (var id in ids)
    {
        auditors[id] = await nodes[id].AuthAsync(TestClients.Auditor);
    }
    var deadline = DateTime.UtcNow + TimeSpan.FromMinutes(10);
    while (acknowledged.Count < expected)
    {
        if (DateTime.UtcNow > deadline)
        {
            throw new TimeoutException($"only {acknowledged.Count} of {expected} deliveries acknowledged");
        }
        await Task.Delay(250);
        foreach (var id in ids)
        {
            var audit = new AuditService.AuditServiceClient(nodes[id].Channel);
            QueryAuditResponse page;
            do
            {
                var request = new QueryAuditRequest { Kinds = { AuditEventKind.DisclosureAcknowledged }, From = Timestamp.FromDateTimeOffset(started), PageSize = 1000, PageToken = tokens[id] };
                page = await audit.QueryAsync(request, auditors[id]);
                foreach (var record in page.Records.Where(r => submitted.ContainsKey(r.Entry.Event.FindingId)))
                {
                    acknowledged[(record.Entry.Event.FindingId, record.Entry.Event.Counterparty)] = record.Entry.Event.OccurredAt.ToDateTimeOffset();
                }
                if (page.Records.Count > 0)
                {
                    tokens[id] = page.Records[^1].Index.ToString(CultureInfo.InvariantCulture);
                }
            }
            while (page.NextPageToken.Length > 0);
        }
    }
    var elapsed = acknowledged.Values.Max() - submitted.Values.Min(s => s.At);
    var latencies = acknowledged.Select(a => (a.Value - submitted[a.Key.Item1].At).TotalMilliseconds).ToList();
    return (acknowledged.Count, elapsed, latencies);
}

static int SampleEnvelopeBytes(TestManifest manifest, string[] ids)
{
    var request = SampleFindings.Valid(TlpLevel.Amber, RiskDomain.Cyber, institutes: [.. ids.Skip(1)]);
    var finding = new Finding { Id = $"{ids[0]}-{Guid.NewGuid():N}", OriginInstitute = ids[0], Version = 1, Content = request.Content, Label = request.Label, Policy = request.Policy };
    using var signing = System.Security.Cryptography.ECDsa.Create();
    signing.ImportPkcs8PrivateKey(manifest.Keys[ids[0]].SigningPrivateKey, out _);
    using var recipient = System.Security.Cryptography.ECDiffieHellman.Create();
    recipient.ImportSubjectPublicKeyInfo(manifest.Keys[ids[1]].EncryptionPublicKey, out _);
    var header = new EnvelopeHeader { MessageId = Guid.NewGuid().ToString("N"), Origin = ids[0], Recipient = ids[1], Kind = EnvelopeKind.Finding, FindingId = finding.Id, FindingVersion = 1, Label = TlpLevel.Amber };
    return new EnvelopeSealer(signing, KeyIds.Of(manifest.Keys[ids[0]].SigningPublicKey))
        .Seal(header, new FindingPayload { Finding = finding }.ToByteArray(), recipient, KeyIds.Of(manifest.Keys[ids[1]].EncryptionPublicKey)).Length;
}

static double MemoryGiB()
{
    var line = File.Exists("/proc/meminfo") ? File.ReadLines("/proc/meminfo").FirstOrDefault(l => l.StartsWith("MemTotal:", StringComparison.Ordinal)) : null;
    return line is null ? 0 : long.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], CultureInfo.InvariantCulture) / 1024.0 / 1024;
}

static LoadOptions Parse(string[] args)
{
    var values = new Dictionary<string, string>(StringComparer.Ordinal);
    for (var i = 0; i < args.Length; i++)
    {
        if (!args[i].StartsWith("--", StringComparison.Ordinal) || i + 1 >= args.Length)
        {
            Fail<int>($"unexpected argument '{args[i]}'");
        }
        values[args[i][2..]] = args[++i];
    }
    int Int(string name, int fallback, int min) =>
        !values.TryGetValue(name, out var text) ? fallback
        : int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var v) && v >= min ? v
        : Fail<int>($"--{name}: '{text}' is not a whole number of at least {min}");
    var rate = values.TryGetValue("rate", out var r) ? (double.TryParse(r, NumberStyles.Float, CultureInfo.InvariantCulture, out var rv) && rv >= 0 ? rv : Fail<double>($"--rate: '{r}' is not a rate")) : 0;
    var database = values.GetValueOrDefault("database", TestDatabase.Sqlite);
    if (database is not (TestDatabase.Sqlite or TestDatabase.Postgres))
    {
        Fail<int>("--database: Sqlite or Postgres");
    }
    foreach (var unknown in values.Keys.Except(["institutes", "findings", "concurrency", "rate", "database", "warmup"]))
    {
        Fail<int>($"--{unknown}: unknown option (institutes, findings, concurrency, rate, database, warmup)");
    }
    return new LoadOptions(Int("institutes", 5, 2), Int("findings", 2000, 1), Int("concurrency", 32, 1), rate, database, Int("warmup", 50, 0));
}

static (int Subscribers, int Findings, string Database, double AmberShare) ParseFeed(string[] args)
{
    var values = new Dictionary<string, string>(StringComparer.Ordinal);
    for (var i = 0; i + 1 < args.Length; i += 2)
    {
        values[args[i].TrimStart('-')] = args[i + 1];
    }
    if (args.Length % 2 != 0 || values.Keys.Except(["subscribers", "findings", "database", "amber-share"]).FirstOrDefault() is { } unknown)
    {
        return Fail<(int, int, string, double)>("feed options: --subscribers N --findings M --database Sqlite|Postgres --amber-share 0..1");
    }
    int Int(string name, int fallback) => values.TryGetValue(name, out var text)
        ? int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var v) && v > 0 ? v : Fail<int>($"--{name}: '{text}' is not a positive whole number")
        : fallback;
    var share = values.TryGetValue("amber-share", out var s) ? double.TryParse(s, NumberStyles.Float, CultureInfo.InvariantCulture, out var sv) && sv is >= 0 and <= 1 ? sv : Fail<double>("--amber-share: between 0 and 1") : 0.5;
    var database = values.GetValueOrDefault("database", TestDatabase.Sqlite);
    return database is TestDatabase.Sqlite or TestDatabase.Postgres
        ? (Int("subscribers", 50), Int("findings", 2000), database, share)
        : Fail<(int, int, string, double)>("--database: Sqlite or Postgres");
}

static T Fail<T>(string message)
{
    Console.Error.WriteLine($"load test: {message}");
    Environment.Exit(2);
    return default!;
}
