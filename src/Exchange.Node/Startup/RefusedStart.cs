namespace Exchange.Node.Startup;

/// <summary>
/// The one way a node reports a start it refuses. Every refusal (bad setting, bad manifest, keys
/// that differ from the manifest, plain HTTP beyond loopback, a database it cannot use, an address
/// in use) ends as one message on standard error, naming the entry and the fix, and exit code
/// <see cref="ExitCode"/>, without a stack trace. Anything else that stops the node is a fault:
/// it is printed whole, with exit code 1.
/// </summary>
public static class RefusedStart
{
    /// <summary>The exit code of a refused start: 2, as the CLI's usage errors (README, exit codes).</summary>
    public const int ExitCode = 2;

    public const string Prefix = "Exchange.Node did not start. ";

    /// <summary>Runs the node (its whole life: compose, start, serve, stop) and returns the process exit code.</summary>
    public static async Task<int> RunAsync(TextWriter error, Func<Task<int>> node)
    {
        try
        {
            return await node();
        }
        // WebApplicationFactory stops the entry point with this once it has the host: not ours to report.
        catch (Exception e) when (e is not HostAbortedException)
        {
            if (StartRefusals.Explain(e) is { } refusal)
            {
                await error.WriteLineAsync(Prefix + refusal.Message);
                return ExitCode;
            }
            await error.WriteLineAsync($"Exchange.Node failed: {e}");
            return 1;
        }
    }
}
