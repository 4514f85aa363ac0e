using Exchange.Testing;

namespace Exchange.Cli.Tests;

/// <summary>A node of institute "uk" (partners us and jp) for the CLI to talk to, in process.</summary>
public class CliFixture : IAsyncLifetime
{
    protected virtual string Provider => TestDatabase.Sqlite;

    public string ManifestPath => Path.Combine(Directory, "manifest.json");

    public string Directory { get; } = Path.Combine(Path.GetTempPath(), "exchange-cli-tests", Guid.NewGuid().ToString("N"));
    public NodeHost Node { get; private set; } = null!;
    public TestManifest Manifest { get; private set; } = null!;
    private TestDatabase _database = null!;

    public async Task InitializeAsync()
    {
        Manifest = new TestManifest().Institute("uk").Institute("us").Institute("jp")
            .Group("g7", "uk", "us", "jp")
            .Agreement("uk-us", "uk", "us", "RED");
        var manifest = Manifest;
        _database = await TestDatabase.CreateAsync(Provider, Directory);
        Node = new NodeHost("uk", manifest.WriteTo(Directory), manifest.Keys["uk"], _database, Directory);
        _ = Node.Server;
    }

    /// <summary>Runs `exchange ...` with its own credentials folder, as a user at a terminal would.</summary>
    public Task<CliRun> RunAsync(string configDirectory, params string[] args) =>
        RunThroughAsync(() => Node.Server.CreateHandler(), configDirectory, args);

    /// <summary>As <see cref="RunAsync"/>, with the connection to the node made by <paramref name="handler"/>.</summary>
    public async Task<CliRun> RunThroughAsync(Func<HttpMessageHandler> handler, string configDirectory, params string[] args)
    {
        var output = new StringWriter();
        var error = new StringWriter();
        var context = new CliContext { Out = output, Error = error, ConfigDirectory = configDirectory, HttpHandlerFactory = handler };
        var code = await CliApp.RunAsync(args, context);
        return new CliRun(code, output.ToString(), error.ToString());
    }

    public async Task WithDatabaseAsync(Func<Exchange.Node.Persistence.NodeDbContext, Task> action)
    {
        await using var scope = Microsoft.Extensions.DependencyInjection.ServiceProviderServiceExtensions.CreateAsyncScope(Node.Services);
        await action(Microsoft.Extensions.DependencyInjection.ServiceProviderServiceExtensions.GetRequiredService<Exchange.Node.Persistence.NodeDbContext>(scope.ServiceProvider));
    }

    public async Task DisposeAsync()
    {
        await Node.DisposeAsync();
        await _database.DisposeAsync();
    }
}

public sealed class PostgresCliFixture : CliFixture
{
    protected override string Provider => TestDatabase.Postgres;
}

public sealed record CliRun(int ExitCode, string Out, string Error);
