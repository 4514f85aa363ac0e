using System.Diagnostics;
using System.Globalization;
using Exchange.HostileBench;
using Exchange.TestInputs;

// exchange hostile-input benchmark: for each generated log (ordinary ones of the same size first, as
// the baseline), a fresh node process, N concurrent dry-run imports of the log, and the node's peak
// resident memory over its idle state. `[--size-mb S] [--concurrency N] [--heap-limit-mb H] [--only NAME]`.
var options = BenchOptions.Parse(args);
var folder = Path.Combine(Path.GetTempPath(), "exchange-hostile-bench", Guid.NewGuid().ToString("N")[..8]);
Directory.CreateDirectory(folder);
var size = options.SizeMiB << 20;
Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
    $"Machine: {Environment.ProcessorCount} cores, {Machine.MemoryGiB():0.#} GiB; node: server GC, heap limit {(options.HeapLimitMiB > 0 ? $"{options.HeapLimitMiB} MiB" : "none")}; " +
    $"{options.Concurrency} concurrent imports per log; logs of {options.SizeMiB} MiB"));
Console.WriteLine();
Console.WriteLine($"{"log",-42} {"file",8} {"idle",7} {"peak",7} {"per import",11} {"x normal",9}  outcome");

var results = new List<ImportRun>();
try
{
    foreach (var log in HostileLogs.Baselines(size).Concat(HostileLogs.All(size)).Where(l => options.Only is null || l.Name.Contains(options.Only, StringComparison.Ordinal)))
    {
        var path = log.WriteTo(folder);
        var run = await ImportRun.MeasureAsync(log, path, options, folder);
        File.Delete(path);
        results.Add(run);
        var normal = results.FirstOrDefault(r => r.Log.Name == "normal log");
        var ratio = normal is { PerImportMiB: > 0 } ? $"{run.PerImportMiB / normal.PerImportMiB:0.00}" : "-";
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"{log.Name,-42} {run.FileMiB,6:0.0}Mi {run.IdleMiB,5:0}Mi {run.PeakMiB,5:0}Mi {run.PerImportMiB,9:0.0}Mi {ratio,9}  {run.Outcome}"));
    }
}
finally
{
    Directory.Delete(folder, recursive: true);
}
return 0;
