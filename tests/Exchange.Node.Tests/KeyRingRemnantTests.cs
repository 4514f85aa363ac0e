using System.Text;
using System.Text.RegularExpressions;
using Exchange.Testing;
using Exchange.V1;
using Grpc.Net.Client;
using Microsoft.AspNetCore.TestHost;
using Microsoft.EntityFrameworkCore;

namespace Exchange.Node.Tests;

/// <summary>
/// A key ring written in clear, then encrypted at the next start (KeyRingEncryptor), leaves no clear
/// master key in the database's live files: the update alone would leave the old row's bytes in
/// PostgreSQL's heap file until a vacuum, and a copy of those files would open every finding,
/// private key and token. (What was written before stays in backups and PostgreSQL's WAL: the
/// README says so.)
/// </summary>
public sealed partial class KeyRingRemnantTests : IDisposable
{
    private readonly string _directory = Path.Combine(Path.GetTempPath(), "exchange-tests", Guid.NewGuid().ToString("N"));
    private readonly TestManifest _manifest = new TestManifest().Institute("uk").Institute("us").Agreement("uk-us", "uk", "us", "RED");

    [GeneratedRegex("<value>([A-Za-z0-9+/=]{40,})</value>")]
    private static partial Regex MasterKey();

    [Theory]
    [InlineData(TestDatabase.Sqlite)]
    [InlineData(TestDatabase.Postgres)]
    public async Task After_the_ring_is_encrypted_no_clear_master_key_is_left_in_the_database_file(string provider)
    {
        await using var database = await TestDatabase.CreateAsync(provider, _directory);
        await using (var development = Node(database, ("DataProtection:CertificatePath", "")))
        await using (var app = development.CreateApplication(environment: "Development", logs: false))
        {
            await app.StartAsync();
            using var channel = GrpcChannel.ForAddress("http://localhost", new GrpcChannelOptions { HttpHandler = app.GetTestServer().CreateHandler() });
            await app.StopAsync();
        }
        List<string> clearKeys;
        await using (var db = database.Open())
        {
            clearKeys = [.. (await db.DataProtectionKeys.Select(k => k.Xml!).ToListAsync()).Select(x => MasterKey().Match(x)).Where(m => m.Success).Select(m => m.Groups[1].Value)];
        }
        Assert.NotEmpty(clearKeys);
        // The search below finds the clear key where it is: in the file the Development node left.
        Assert.Contains(await FilesAsync(database), f => clearKeys.Any(k => Encoding.ASCII.GetString(File.ReadAllBytes(f)).Contains(k, StringComparison.Ordinal)));

        // The next start, with the certificate, encrypts the ring; then the node is stopped and its files copied.
        await using (var node = Node(database))
        {
            _ = node.Server;
        }
        await using (var db = database.Open())
        {
            Assert.All(await db.DataProtectionKeys.Select(k => k.Xml!).ToListAsync(), xml => Assert.DoesNotMatch(MasterKey(), xml));
        }
        var files = await FilesAsync(database);
        var found = files.Where(f => clearKeys.Any(k => Encoding.ASCII.GetString(File.ReadAllBytes(f)).Contains(k, StringComparison.Ordinal))).Select(Path.GetFileName).ToList();
        Assert.True(found.Count == 0, $"the clear master key is still in {string.Join(", ", found)} after the ring was encrypted");
    }

    /// <summary>The files that hold the key ring table: SQLite's database and WAL; PostgreSQL's heap file of the table, after a checkpoint.</summary>
    private async Task<List<string>> FilesAsync(TestDatabase database)
    {
        if (database.Provider == TestDatabase.Sqlite)
        {
            Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
            return [.. Directory.EnumerateFiles(_directory, "node.db*")];
        }
        string relative;
        await using (var db = database.Open())
        {
            relative = await db.Database.SqlQueryRaw<string>("SELECT pg_relation_filepath('\"DataProtectionKeys\"') AS \"Value\"").SingleAsync();
        }
        var (_, dataDirectory, _) = await ProcessRunner.RunAsync("su", ["postgres", "-c", "psql -qAt -c CHECKPOINT -c 'SHOW data_directory'"], "/", TimeSpan.FromSeconds(60));
        return [Path.Combine(dataDirectory.Trim(), relative)];
    }

    private NodeHost Node(TestDatabase database, params (string Key, string Value)[] settings) =>
        new("uk", _manifest.WriteTo(_directory), _manifest.Keys["uk"], database, _directory,
            settings: settings.Append((Key: "Logging:LogLevel:Default", Value: "Error")).Select(s => new KeyValuePair<string, string?>(s.Key, s.Value)));

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
