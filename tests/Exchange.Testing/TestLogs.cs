using Microsoft.Extensions.Logging;
using Serilog;

namespace Exchange.Testing;

/// <summary>
/// Where the nodes that tests host in this process write their logs: one file per node under
/// <c>EXCHANGE_TEST_LOGS</c> (tests/run.sh sets it; otherwise a folder under the temp directory), so a
/// passing run's console shows progress and counts only, and a failing one can print the lines that
/// matter (tests/services/failed-tests.py does).
/// </summary>
public static class TestLogs
{
    public static string Directory { get; } = Environment.GetEnvironmentVariable("EXCHANGE_TEST_LOGS") is { Length: > 0 } configured
        ? configured
        : Path.Combine(Path.GetTempPath(), "exchange-test-logs", Environment.ProcessId.ToString(System.Globalization.CultureInfo.InvariantCulture));

    /// <summary>Sends a node's logs to its own file (named after the institute and a short unique suffix) instead of the console.</summary>
    public static ILoggingBuilder ToFile(this ILoggingBuilder logging, string name)
    {
        System.IO.Directory.CreateDirectory(Directory);
        var path = Path.Combine(Directory, $"{name}-{Guid.NewGuid().ToString("N")[..8]}.log");
        var logger = new LoggerConfiguration()
            .MinimumLevel.Verbose()
            .WriteTo.File(path, outputTemplate: "{Timestamp:HH:mm:ss.fff} {Level:u3} {SourceContext}: {Message:lj}{NewLine}{Exception}", shared: true)
            .CreateLogger();
        logging.ClearProviders();
        logging.AddSerilog(logger, dispose: true);
        return logging;
    }
}
