using System.Runtime.Versioning;
using Exchange.Testing;
using Exchange.V1;
using Google.Protobuf;

namespace Exchange.Node.Tests;

/// <summary>
/// Files the node writes (the SQLite database and its -wal and -shm, Inspect uploads being
/// imported) and the folders it makes for them are its owner's alone from their first byte. SQLite
/// only: on PostgreSQL the database's files are the server's.
/// </summary>
[UnsupportedOSPlatform("windows")]
public sealed class DataDirectoryModeTests : IDisposable
{
    private readonly string _directory = Path.Combine(Path.GetTempPath(), "exchange-tests", Guid.NewGuid().ToString("N"));
    private readonly TestManifest _manifest = new TestManifest().Institute("uk").Institute("us").Group("g7", "uk", "us").Agreement("uk-us", "uk", "us", "RED");

    [Fact]
    public async Task Everything_the_node_makes_in_its_data_directory_is_its_owners_alone_while_it_runs_and_imports()
    {
        OwnerOnlyTree.AssertUmaskWouldLetOthersRead();
        // Not there yet: the node makes the folder as well as what goes in it.
        var data = Path.Combine(_directory, "data");
        await using var database = await TestDatabase.CreateAsync(TestDatabase.Sqlite, data);
        await using var node = Node(database, data);
        using var channel = node.CreateChannel();
        var findings = new FindingService.FindingServiceClient(channel);
        var auth = await node.AuthAsync(TestClients.Submitter);
        await findings.SubmitFindingAsync(SampleFindings.Valid(TlpLevel.Amber, institutes: ["us"]), auth);

        // An import half sent: its upload is spooled to the data directory until the last chunk.
        var log = File.ReadAllBytes(Path.Combine(AppContext.BaseDirectory, "samples", "01_log_formats.json"));
        using var call = findings.ImportInspectLog(auth);
        await call.RequestStream.WriteAsync(new ImportInspectLogRequest { Options = ImportOptions() });
        await call.RequestStream.WriteAsync(new ImportInspectLogRequest { Chunk = ByteString.CopyFrom(log, 0, 1000) });
        var imports = Path.Combine(data, "imports");
        await Eventually.TrueAsync(() => Task.FromResult(Directory.Exists(imports) && Directory.EnumerateFiles(imports, "*.upload").Any()), "an upload spooled to the imports folder");
        var entries = OwnerOnlyTree.Walk(data);
        await call.RequestStream.WriteAsync(new ImportInspectLogRequest { Chunk = ByteString.CopyFrom(log, 1000, log.Length - 1000) });
        await call.RequestStream.CompleteAsync();
        Assert.NotNull((await call.ResponseAsync).Finding);

        var names = entries.Select(e => Path.GetRelativePath(data, e.Path)).ToList();
        Assert.Contains("node.db", names);
        Assert.Contains("node.db-wal", names);
        Assert.Contains("node.db-shm", names);
        Assert.Contains(names, n => n.StartsWith("imports/", StringComparison.Ordinal) && n.EndsWith(".upload", StringComparison.Ordinal));
        OwnerOnlyTree.AssertOwnerOnly(entries);
    }

    [Fact]
    public async Task A_database_left_readable_by_others_by_an_earlier_version_is_made_owners_alone_at_the_next_start()
    {
        var data = Path.Combine(_directory, "data");
        await using var database = await TestDatabase.CreateAsync(TestDatabase.Sqlite, data);
        await using (var first = Node(database, data))
        {
            await first.AuthAsync(TestClients.Submitter);
        }
        var files = Directory.GetFiles(data, "node.db*");
        foreach (var file in files)
        {
            File.SetUnixFileMode(file, File.GetUnixFileMode(file) | UnixFileMode.GroupRead | UnixFileMode.OtherRead);
        }

        await using var second = Node(database, data);
        await second.AuthAsync(TestClients.Submitter);

        OwnerOnlyTree.AssertOwnerOnly(files.Select(f => (f, false, File.GetUnixFileMode(f))));
    }

    // Errors only: the warning of a database made owner-only at start is what the second test brings about.
    private NodeHost Node(TestDatabase database, string data) =>
        new("uk", _manifest.WriteTo(_directory), _manifest.Keys["uk"], database, _directory,
            settings: [new("Node:DataDirectory", data), new("Logging:LogLevel:Default", "Error")]);

    private static InspectImportOptions ImportOptions() => new()
    {
        FileName = "01_log_formats.json",
        Label = new Label { Level = TlpLevel.Green },
        RiskDomain = RiskDomain.Cyber,
        Recipients = { "g7" },
        DryRun = true,
        RequestId = Guid.NewGuid().ToString("N"),
    };

    public void Dispose()
    {
        try
        {
            Directory.Delete(_directory, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}
