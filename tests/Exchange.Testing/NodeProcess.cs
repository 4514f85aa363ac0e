using System.Diagnostics;
using System.Net;
using Exchange.Envelopes;
using Grpc.Core;
using Grpc.Net.Client;

namespace Exchange.Testing;

/// <summary>
/// A node as its own operating-system process (the built Exchange.Node), for load tests and fault
/// tests that kill it. Stopped by its process id, never by name: a leftover node from an earlier
/// run would otherwise take the next run's messages.
/// </summary>
public sealed class NodeProcess : IAsyncDisposable
{
    private readonly ProcessStartInfo _start;
    private readonly HttpClient _http = new(new SocketsHttpHandler()) { DefaultRequestVersion = HttpVersion.Version20, DefaultVersionPolicy = HttpVersionPolicy.RequestVersionExact };
    private Process? _process;

    /// <param name="environment">Environment variables for the process (e.g. DOTNET_GCHeapHardLimit), beside the inherited ones.</param>
    public NodeProcess(string instituteId, string manifestPath, InstituteKeyPairs keys, string database, string connectionString, string dataDirectory,
        IEnumerable<KeyValuePair<string, string?>> settings, IEnumerable<KeyValuePair<string, string>>? environment = null)
    {
        InstituteId = instituteId;
        DataDirectory = dataDirectory;
        Directory.CreateDirectory(dataDirectory);
        var keysPath = Path.Combine(dataDirectory, "initial-keys.json");
        keys.WritePrivateKeys(keysPath, overwrite: true);
        var port = NodeHost.FreePort();
        Address = new Uri($"http://127.0.0.1:{port}/");
        var binary = NodeBinary();
        _start = new ProcessStartInfo("dotnet") { WorkingDirectory = Path.GetDirectoryName(binary)!, RedirectStandardOutput = true, RedirectStandardError = true };
        _start.ArgumentList.Add(binary);
        foreach (var (name, value) in environment ?? [])
        {
            _start.Environment[name] = value;
        }
        var all = new Dictionary<string, string?>
        {
            ["urls"] = Address.ToString().TrimEnd('/'),
            ["Node:InstituteId"] = instituteId,
            ["Node:ManifestPath"] = manifestPath,
            ["Node:DataDirectory"] = dataDirectory,
            ["Node:InitialKeysPath"] = keysPath,
            ["DataProtection:CertificatePath"] = TestKeyEncryption.CertificatePath,
            ["Database:Provider"] = database,
            ["Database:ConnectionString"] = connectionString,
            ["Identity:RequireHttps"] = "false",
            ["Logging:LogLevel:Default"] = "Warning",
        };
        foreach (var (key, value) in TestClients.Settings().Concat(settings))
        {
            all[key] = value;
        }
        foreach (var (key, value) in all)
        {
            _start.ArgumentList.Add($"--{key}={value}");
        }
        Channel = GrpcChannel.ForAddress(Address, new GrpcChannelOptions { HttpClient = _http, DisposeHttpClient = false });
    }

    public string InstituteId { get; }
    public string DataDirectory { get; }
    public Uri Address { get; }
    public GrpcChannel Channel { get; }
    public int ProcessId => _process?.Id ?? 0;

    /// <summary>Log lines the process wrote (warnings and errors), for a failing test to show.</summary>
    public List<string> Output { get; } = [];

    public async Task StartAsync(TimeSpan? timeout = null)
    {
        _process = Process.Start(_start) ?? throw new InvalidOperationException("cannot start the node");
        _process.OutputDataReceived += (_, e) => Record(e.Data);
        _process.ErrorDataReceived += (_, e) => Record(e.Data);
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();
        var deadline = DateTime.UtcNow + (timeout ?? TimeSpan.FromSeconds(60));
        while (DateTime.UtcNow < deadline)
        {
            if (_process.HasExited)
            {
                throw new InvalidOperationException($"node {InstituteId} exited with {_process.ExitCode}: {string.Join(Environment.NewLine, Output.TakeLast(30))}");
            }
            try
            {
                if (await _http.GetStringAsync(new Uri(Address, "/healthz/ready")) == "Healthy")
                {
                    return;
                }
            }
            catch (HttpRequestException)
            {
            }
            await Task.Delay(200);
        }
        throw new TimeoutException($"node {InstituteId} did not become healthy: {string.Join(Environment.NewLine, Output.TakeLast(30))}");
    }

    /// <summary>
    /// Starts the node and waits for it to exit by itself, as a refused start does; returns its
    /// exit code, with everything it wrote in <see cref="Output"/>. A node still running after
    /// <paramref name="timeout"/> is killed and reported.
    /// </summary>
    public async Task<int> RunUntilExitAsync(TimeSpan timeout)
    {
        _process = Process.Start(_start) ?? throw new InvalidOperationException("cannot start the node");
        _process.OutputDataReceived += (_, e) => Record(e.Data);
        _process.ErrorDataReceived += (_, e) => Record(e.Data);
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();
        using var cancel = new CancellationTokenSource(timeout);
        try
        {
            await _process.WaitForExitAsync(cancel.Token);
        }
        catch (OperationCanceledException)
        {
            await KillAsync();
            throw new TimeoutException($"node {InstituteId} was still running after {timeout}: {string.Join(Environment.NewLine, LastOutput(30))}");
        }
        // The exit can be seen before the last lines are read: the parameterless wait drains them.
        await _process.WaitForExitAsync(CancellationToken.None);
        return _process.ExitCode;
    }

    /// <summary>SIGKILL: no shutdown, no flushing; what a crash looks like.</summary>
    public async Task KillAsync()
    {
        if (_process is { HasExited: false })
        {
            _process.Kill(entireProcessTree: true);
            await _process.WaitForExitAsync();
        }
    }

    public async Task<Metadata> AuthAsync(string clientId = TestClients.Everything)
    {
        using var response = await _http.PostAsync(new Uri(Address, "/connect/token"), new FormUrlEncodedContent(new Dictionary<string, string>
        {
            ["grant_type"] = "client_credentials",
            ["client_id"] = clientId,
            ["client_secret"] = TestClients.Secret(clientId),
        }));
        var json = System.Text.Json.JsonDocument.Parse(await response.Content.ReadAsStringAsync()).RootElement;
        return new Metadata { { "authorization", $"Bearer {json.GetProperty("access_token").GetString()}" } };
    }

    /// <summary>CPU time used so far and the peak resident memory, read from the kernel.</summary>
    public (TimeSpan Cpu, long PeakBytes) Usage()
    {
        if (_process is null || _process.HasExited)
        {
            return (TimeSpan.Zero, 0);
        }
        _process.Refresh();
        long peak = 0;
        var status = $"/proc/{_process.Id}/status";
        if (File.Exists(status))
        {
            var line = File.ReadLines(status).FirstOrDefault(l => l.StartsWith("VmHWM:", StringComparison.Ordinal));
            if (line is not null && long.TryParse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], out var kb))
            {
                peak = kb * 1024;
            }
        }
        return (_process.TotalProcessorTime, peak);
    }

    public async ValueTask DisposeAsync()
    {
        if (_process is { HasExited: false })
        {
            _process.Kill(entireProcessTree: true);
            await _process.WaitForExitAsync();
        }
        _process?.Dispose();
        Channel.Dispose();
        _http.Dispose();
    }

    /// <summary>The last lines of <see cref="Output"/>, taken under its lock (the process may be writing).</summary>
    public string[] LastOutput(int count)
    {
        lock (Output)
        {
            return [.. Output.TakeLast(count)];
        }
    }

    private void Record(string? line)
    {
        if (line is null)
        {
            return;
        }
        lock (Output)
        {
            Output.Add(line);
            if (Output.Count > 500)
            {
                Output.RemoveAt(0);
            }
        }
    }

    // The node built beside these tests, in the same configuration.
    private static string NodeBinary()
    {
        var configuration = AppContext.BaseDirectory.Contains($"{Path.DirectorySeparatorChar}Release{Path.DirectorySeparatorChar}", StringComparison.Ordinal) ? "Release" : "Debug";
        var path = RepositoryPaths.Combine("src", "Exchange.Node", "bin", configuration, "net10.0", "Exchange.Node.dll");
        return File.Exists(path) ? path : throw new FileNotFoundException($"build the node first: {path} is missing");
    }
}
