using Exchange.Testing;

namespace Exchange.Node.Tests;

/// <summary>A client written in JavaScript from protos/ alone calls a node listening on a real port.</summary>
public sealed class CrossLanguageClientTests : IAsyncLifetime
{
    private readonly string _directory = Path.Combine(Path.GetTempPath(), "exchange-js", Guid.NewGuid().ToString("N"));
    private TestDatabase _database = null!;
    private NodeHost _node = null!;

    public async Task InitializeAsync()
    {
        var manifest = new TestManifest().Institute("uk").Institute("us").Agreement("uk-us", "uk", "us", "RED");
        _database = await TestDatabase.CreateAsync(TestDatabase.Sqlite, _directory);
        _node = new NodeHost("uk", manifest.WriteTo(_directory), manifest.Keys["uk"], _database, _directory).ListenOnLoopback();
    }

    [Fact]
    public async Task A_javascript_client_built_from_the_protos_submits_reads_and_is_refused_correctly()
    {
        var clientDirectory = RepositoryPaths.Combine("tests", "clients", "node");
        Assert.True(Directory.Exists(Path.Combine(clientDirectory, "node_modules")),
            "tests/clients/node has no node_modules: run the suite through tests/run.sh, which installs them");

        var (code, output, error) = await ProcessRunner.RunAsync("node",
            ["client.mjs", _node.Address!.ToString(), TestClients.Submitter, TestClients.Secret(TestClients.Submitter)],
            clientDirectory, TimeSpan.FromSeconds(60));

        Assert.True(code == 0, $"the JavaScript client failed ({code}): {error}{output}");
        Assert.Contains("\"ok\":true", output);
    }

    public async Task DisposeAsync()
    {
        await _node.DisposeAsync();
        await _database.DisposeAsync();
    }
}
