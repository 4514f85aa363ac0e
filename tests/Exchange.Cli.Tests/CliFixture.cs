using Exchange.Testing;

namespace Exchange.Cli.Tests;

/// <summary>A node of institute "uk" (partners us and jp) for the CLI to talk to, in process.</summary>
public sealed class CliFixture : IAsyncLifetime
{
    public string Directory { get; } = Path.Combine(Path.GetTempPath(), "exchange-cli-tests", Guid.NewGuid().ToString("N"));
    public NodeHost Node { get; private set; } = null!;
    private TestDatabase _database = null!;

    public async Task InitializeAsync()
    {
        var manifest = new TestManifest().Institute("uk").Institute("us").Institute("jp")
            .Group("g7", "uk", "us", "jp")
            .Agreement("uk-us", "uk", "us", "RED");
        _database = await TestDatabase.CreateAsync(TestDatabase.Sqlite, Directory);
        Node = new NodeHost("uk", manifest.WriteTo(Directory), manifest.Keys["uk"], _database, Directory);
        _ = Node.Server;
    }

    /// <summary>Runs `exchange ...` with its own credentials folder, as a user at a terminal would.</summary>
    public async Task<CliRun> RunAsync(string configDirectory, params string[] args)
    {
        var output = new StringWriter();
        var error = new StringWriter();
        var context = new CliContext { Out = output, Error = error, ConfigDirectory = configDirectory, HttpHandlerFactory = () => Node.Server.CreateHandler() };
        var code = await CliApp.RunAsync(args, context);
        return new CliRun(code, output.ToString(), error.ToString());
    }

    public async Task DisposeAsync()
    {
        await Node.DisposeAsync();
        await _database.DisposeAsync();
    }
}

public sealed record CliRun(int ExitCode, string Out, string Error);
