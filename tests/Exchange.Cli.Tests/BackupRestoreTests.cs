using System.Text.Json;
using Exchange.Testing;
using Exchange.Transparency;
using Npgsql;

namespace Exchange.Cli.Tests;

/// <summary>
/// Backup and restore of a node's database with the database's own tools, as the README tells
/// operators: taken while the node runs, restored under a new database, the node started on it
/// has every finding, its audit log verifies, and it goes on extending the checkpoint it signed
/// before the backup.
/// </summary>
public abstract class BackupRestoreTests : IAsyncLifetime
{
    private readonly string _directory = Path.Combine(Path.GetTempPath(), "exchange-backup-tests", Guid.NewGuid().ToString("N"));
    private readonly TestManifest _manifest = new TestManifest().Institute("uk").Institute("us")
        .Group("g7", "uk", "us")
        .Agreement("uk-us", "uk", "us", "RED");
    private readonly List<IAsyncDisposable> _owned = [];

    protected abstract string Provider { get; }

    /// <summary>Copies the running node's database to <paramref name="backup"/> with the provider's own tool.</summary>
    protected abstract Task BackupAsync(TestDatabase database, string backup);

    /// <summary>Restores <paramref name="backup"/> into a database that did not exist before.</summary>
    protected abstract Task<TestDatabase> RestoreAsync(string backup, string directory);

    public Task InitializeAsync()
    {
        Directory.CreateDirectory(_directory);
        return Task.CompletedTask;
    }

    public async Task DisposeAsync()
    {
        foreach (var owned in Enumerable.Reverse(_owned))
        {
            await owned.DisposeAsync();
        }
        Directory.Delete(_directory, recursive: true);
    }

    private NodeHost Start(TestDatabase database, string directory)
    {
        var node = new NodeHost("uk", _manifest.WriteTo(_directory), _manifest.Keys["uk"], database, directory);
        _ = node.Server;
        return node;
    }

    private async Task<CliRun> Cli(NodeHost node, params string[] args)
    {
        var output = new StringWriter();
        var error = new StringWriter();
        var context = new CliContext { Out = output, Error = error, ConfigDirectory = Path.Combine(_directory, "cli"), HttpHandlerFactory = () => node.Server.CreateHandler() };
        var code = await CliApp.RunAsync([.. args, "--node", "http://localhost/"], context);
        return new CliRun(code, output.ToString(), error.ToString());
    }

    private async Task<string> CliOk(NodeHost node, params string[] args)
    {
        var run = await Cli(node, args);
        Assert.True(run.ExitCode == 0, $"exchange {string.Join(' ', args)} failed ({run.ExitCode}): {run.Error}{run.Out}");
        return run.Out;
    }

    [Fact]
    public async Task A_node_restored_from_a_backup_taken_while_it_ran_has_every_finding_verifies_its_log_and_extends_its_old_checkpoint()
    {
        var manifest = Path.Combine(_directory, "manifest.json");
        var before = Path.Combine(_directory, "before");
        Directory.CreateDirectory(before);
        var original = await TestDatabase.CreateAsync(Provider, before);
        _owned.Add(original);
        var node = Start(original, before);
        _owned.Add(node);
        await CliOk(node, "login", "--client-id", TestClients.Everything, "--client-secret", TestClients.Secret(TestClients.Everything));
        var ids = new List<string>();
        for (var i = 0; i < 3; i++)
        {
            using var submitted = JsonDocument.Parse(await CliOk(node, "findings", "submit", "--file", "samples/finding.amber.json", "-o", "json"));
            ids.Add(submitted.RootElement.GetProperty("finding").GetProperty("id").GetString()!);
        }
        var note = Path.Combine(_directory, "checkpoint.note");
        await CliOk(node, "audit", "checkpoint", "--fresh", "--out", note);
        Assert.True(SignedNote.TryParse(await File.ReadAllTextAsync(note), out var signed, out var problem), problem);
        Assert.True(Checkpoint.TryParse(signed!.Text, out var checkpoint, out problem), problem);

        // Taken while the node runs: its dispatcher and audit worker go on writing meanwhile.
        var backup = Path.Combine(_directory, "node.backup");
        await BackupAsync(original, backup);
        await node.DisposeAsync();

        var after = Path.Combine(_directory, "after");
        Directory.CreateDirectory(after);
        var restored = await RestoreAsync(backup, after);
        _owned.Add(restored);
        var again = Start(restored, after);
        _owned.Add(again);
        await CliOk(again, "login", "--client-id", TestClients.Everything, "--client-secret", TestClients.Secret(TestClients.Everything));

        var list = await CliOk(again, "findings", "list", "-o", "json");
        Assert.All(ids, id => Assert.Contains(id, list));
        Assert.Contains("entries verified against", await CliOk(again, "audit", "verify", "--manifest", manifest));
        await CliOk(again, "findings", "submit", "--file", "samples/finding.green.json");
        var extends = await CliOk(again, "audit", "consistency", "--from", checkpoint!.Size.ToString(),
            "--root", Convert.ToBase64String(checkpoint.RootHash), "--manifest", manifest);
        Assert.Contains($"extends size {checkpoint.Size} unchanged: verified", extends);
    }

    protected static async Task RunOkAsync(string program, params string[] arguments)
    {
        var (code, output, error) = await ProcessRunner.RunAsync(program, arguments, Path.GetTempPath(), TimeSpan.FromMinutes(2));
        Assert.True(code == 0, $"{program} {string.Join(' ', arguments)} failed ({code}): {error}{output}");
    }
}

public sealed class BackupRestoreTests_on_Sqlite : BackupRestoreTests
{
    protected override string Provider => TestDatabase.Sqlite;

    // sqlite3's .backup uses SQLite's online backup: a consistent copy while the node writes (WAL).
    protected override Task BackupAsync(TestDatabase database, string backup) =>
        RunOkAsync("sqlite3", new Microsoft.Data.Sqlite.SqliteConnectionStringBuilder(database.ConnectionString).DataSource, $".backup '{backup}'");

    protected override async Task<TestDatabase> RestoreAsync(string backup, string directory)
    {
        var database = await TestDatabase.CreateAsync(TestDatabase.Sqlite, directory);
        File.Copy(backup, new Microsoft.Data.Sqlite.SqliteConnectionStringBuilder(database.ConnectionString).DataSource);
        return database;
    }
}

public sealed class BackupRestoreTests_on_Postgres : BackupRestoreTests
{
    protected override string Provider => TestDatabase.Postgres;

    // pg_dump takes one snapshot of the database, consistent while the node writes.
    protected override Task BackupAsync(TestDatabase database, string backup)
    {
        var c = new NpgsqlConnectionStringBuilder(database.ConnectionString);
        return RunOkAsync("env", $"PGPASSWORD={c.Password}", "pg_dump", "-h", c.Host!, "-p", c.Port.ToString(), "-U", c.Username!, "-Fc", "-f", backup, c.Database!);
    }

    protected override async Task<TestDatabase> RestoreAsync(string backup, string directory)
    {
        var database = await TestDatabase.CreateAsync(TestDatabase.Postgres, directory);
        var c = new NpgsqlConnectionStringBuilder(database.ConnectionString);
        await RunOkAsync("env", $"PGPASSWORD={c.Password}", "pg_restore", "-h", c.Host!, "-p", c.Port.ToString(), "-U", c.Username!, "--no-owner", "--exit-on-error", "-d", c.Database!, backup);
        return database;
    }
}
