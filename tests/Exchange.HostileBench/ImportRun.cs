using System.Globalization;
using Exchange.Testing;
using Exchange.TestInputs;
using Exchange.V1;
using Google.Protobuf;
using Grpc.Core;

namespace Exchange.HostileBench;

/// <summary>One log imported by N clients at once into a fresh node process, and the node's memory meanwhile.</summary>
internal sealed record ImportRun(HostileLog Log, double FileMiB, double IdleMiB, double PeakMiB, double PerImportMiB, string Outcome)
{
    private const int ChunkBytes = 1 << 20;

    public static async Task<ImportRun> MeasureAsync(HostileLog log, string path, BenchOptions options, string folder)
    {
        var directory = Path.Combine(folder, "node-" + Guid.NewGuid().ToString("N")[..8]);
        Directory.CreateDirectory(directory);
        var manifest = new TestManifest().Institute("uk").Institute("us").Group("g7", "uk", "us").Agreement("uk-us", "uk", "us", "AMBER");
        var environment = options.HeapLimitMiB > 0
            ? new Dictionary<string, string> { ["DOTNET_GCHeapHardLimit"] = (options.HeapLimitMiB << 20).ToString("X", CultureInfo.InvariantCulture) }
            : [];
        await using var node = new NodeProcess("uk", manifest.WriteTo(directory), manifest.Keys["uk"], TestDatabase.Sqlite,
            $"Data Source={Path.Combine(directory, "node.db")}", directory,
            [new("Broker:Transport", "InMemory"), new("Findings:Imports:MaxConcurrent", options.Concurrency.ToString(CultureInfo.InvariantCulture))], environment);
        await node.StartAsync();
        var auth = await node.AuthAsync(TestClients.Submitter);
        var client = new FindingService.FindingServiceClient(node.Channel);

        // Warm: one ordinary import first, so that what is measured is the log, not the first call.
        var warm = HostileLogs.Baselines(1 << 20)[0].WriteTo(directory);
        await ImportAsync(client, auth, warm);
        await Task.Delay(1000);
        var idle = Machine.Memory(node.ProcessId).Rss;
        Machine.ResetPeak(node.ProcessId);

        var outcomes = await Task.WhenAll(Enumerable.Range(0, options.Concurrency).Select(_ => ImportAsync(client, auth, path)));
        var alive = node.Usage().PeakBytes > 0;
        var peak = alive ? Machine.Memory(node.ProcessId).Peak : 0;
        var outcome = alive ? string.Join("; ", outcomes.Distinct()) : $"the node died: {string.Join(" | ", node.LastOutput(3))}";
        const double MiB = 1 << 20;
        return new ImportRun(log, new FileInfo(path).Length / MiB, idle / MiB, peak / MiB, alive ? (peak - idle) / MiB / options.Concurrency : double.NaN, outcome);
    }

    // As the CLI does it: options first, then the file in 1 MiB chunks; a dry run, so nothing is stored.
    private static async Task<string> ImportAsync(FindingService.FindingServiceClient client, Metadata auth, string path)
    {
        try
        {
            using var call = client.ImportInspectLog(auth, deadline: DateTime.UtcNow.AddMinutes(10));
            try
            {
                await call.RequestStream.WriteAsync(new ImportInspectLogRequest
                {
                    Options = new InspectImportOptions { FileName = Path.GetFileName(path), Label = new Label { Level = TlpLevel.Green }, RiskDomain = RiskDomain.Cyber, Recipients = { "g7" }, DryRun = true, AllowIncomplete = true },
                });
                await using var file = File.OpenRead(path);
                var buffer = new byte[ChunkBytes];
                int read;
                while ((read = await file.ReadAsync(buffer)) > 0)
                {
                    await call.RequestStream.WriteAsync(new ImportInspectLogRequest { Chunk = ByteString.CopyFrom(buffer, 0, read) });
                }
                await call.RequestStream.CompleteAsync();
            }
            catch (Exception e) when (e is RpcException or InvalidOperationException or IOException)
            {
                // The node ended the call early; ResponseAsync carries its status.
            }
            var response = await call.ResponseAsync;
            return response.Notes.Count > 0 ? $"read, {response.Notes.Count} notes" : "read";
        }
        catch (RpcException e)
        {
            var detail = e.Status.Detail.Length > 90 ? e.Status.Detail[..90] + "…" : e.Status.Detail;
            return $"{e.StatusCode}: {detail}";
        }
    }
}
