using System.CommandLine;
using System.Runtime.Versioning;
using System.Text.RegularExpressions;
using Exchange.Envelopes;
using Exchange.Node.Secrets;
using Exchange.Testing;

namespace Exchange.Cli.Tests;

/// <summary>What the CLI writes is its user's alone from the first byte: the stored login (client
/// secret and token) and the folders made for it, and every file a command writes at the user's word
/// (exports, checkpoints, cursors, keys, broker passwords), generated over the command tree.</summary>
[UnsupportedOSPlatform("windows")]
public sealed class OwnerOnlyCliFilesTests(CliFixture fixture) : IClassFixture<CliFixture>
{
    [Fact]
    public async Task A_login_leaves_the_credentials_and_every_folder_made_for_them_owner_only()
    {
        OwnerOnlyTree.AssertUmaskWouldLetOthersRead();
        // A home with no .config yet: login makes .config and .config/exchange as well as the file.
        var home = Path.Combine(fixture.Directory, "home-" + Guid.NewGuid().ToString("N"));
        var config = Path.Combine(home, ".config", "exchange");

        var login = await fixture.RunAsync(config, "login", "--node", "http://localhost/", "--client-id", TestClients.Reader, "--client-secret", TestClients.Secret(TestClients.Reader));
        var list = await fixture.RunAsync(config, "findings", "list");

        Assert.Equal(0, login.ExitCode);
        Assert.Equal(0, list.ExitCode);
        var entries = OwnerOnlyTree.Walk(home);
        Assert.Equal([".", ".config", ".config/exchange", ".config/exchange/credentials.json"], entries.Select(e => Path.GetRelativePath(home, e.Path)).Order(StringComparer.Ordinal));
        OwnerOnlyTree.AssertOwnerOnly(entries);
    }

    [Fact]
    public async Task A_login_whose_home_folder_does_not_exist_yet_makes_it_owner_only_and_writes_nothing_in_the_current_folder()
    {
        OwnerOnlyTree.AssertUmaskWouldLetOthersRead();
        var root = Path.Combine(fixture.Directory, "process-" + Guid.NewGuid().ToString("N"));
        var home = Path.Combine(root, "home");
        var current = Path.Combine(root, "current");
        Directory.CreateDirectory(current);
        var manifest = new TestManifest().Institute("uk").Institute("us");
        await using var database = await TestDatabase.CreateAsync(TestDatabase.Sqlite, root);
        await using var node = new NodeHost("uk", manifest.WriteTo(root), manifest.Keys["uk"], database, root).ListenOnLoopback();

        // The CLI as its own process, with the environment a container user may have: HOME set, not made.
        var login = await ProcessRunner.RunAsync("env",
            ["-u", "XDG_CONFIG_HOME", "-u", "EXCHANGE_CONFIG_DIR", $"HOME={home}", "dotnet", Path.Combine(AppContext.BaseDirectory, "exchange.dll"),
             "login", "--node", node.Address!.ToString(), "--client-id", TestClients.Reader, "--client-secret", TestClients.Secret(TestClients.Reader)],
            current, TimeSpan.FromMinutes(1));

        Assert.True(login.ExitCode == 0, login.Error);
        Assert.Empty(Directory.EnumerateFileSystemEntries(current));
        Assert.True(File.Exists(Path.Combine(home, ".config", "exchange", "credentials.json")));
        OwnerOnlyTree.AssertOwnerOnly(OwnerOnlyTree.Walk(home));
    }

    [Fact]
    public async Task A_data_protection_certificate_is_written_owner_only_a_node_accepts_it_and_it_is_never_overwritten()
    {
        OwnerOnlyTree.AssertUmaskWouldLetOthersRead();
        var folder = Path.Combine(fixture.Directory, "kek-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(folder);
        var path = Path.Combine(folder, "data-protection.pem");

        var made = await fixture.RunAsync(folder, "keys", "data-protection-certificate", "--out", path);
        var before = File.ReadAllBytes(path);
        var again = await fixture.RunAsync(folder, "keys", "data-protection-certificate", "--out", path);

        Assert.Equal(0, made.ExitCode);
        Assert.Contains("DataProtection:CertificatePath=", made.Out);
        Assert.Equal(OwnerOnlyFile.FilePermissions, File.GetUnixFileMode(path));
        Assert.Null(KeyEncryptionKey.Load(new KeyEncryptionOptions { CertificatePath = path }, isDevelopment: false).Problem);
        Assert.Equal(4, again.ExitCode);
        Assert.Contains("--out", again.Error);
        Assert.Equal(before, File.ReadAllBytes(path));
        Assert.Equal(["data-protection.pem"], Directory.GetFiles(folder).Select(Path.GetFileName));
    }

    /// <summary>One option through which a command writes a file, with what else the command needs.</summary>
    /// <param name="Earlier">What the file holds before the command runs (one left open to others), or null when the command never overwrites.</param>
    private sealed record Writer(string[] Command, string Option, string[] Rest, string? Earlier)
    {
        public string Name => $"{string.Join(' ', Command)} {Option}";
    }

    private Writer[] Writers() =>
    [
        new(["audit", "export"], "--out", [], "earlier"),
        new(["audit", "checkpoint"], "--out", ["--fresh"], "earlier"),
        new(["subscribe"], "--cursor-file", ["--limit", "1"], "0"),
        new(["broker", "definitions"], "--credentials-out", ["--manifest", fixture.ManifestPath], "earlier"),
        new(["keys", "generate"], "--out", ["--institute", "uk"], null),
        new(["keys", "data-protection-certificate"], "--out", [], null),
    ];

    // An option that names a file to write: --out, --<what>-out, the cursor file, or one described as writing or saving.
    private static bool WritesAFile(Option option) =>
        option.Name == "--out" || option.Name.EndsWith("-out", StringComparison.Ordinal) || option.Name == "--cursor-file"
        || Regex.IsMatch(option.Description ?? "", @"\b(write|writes|save|saves)\b", RegexOptions.IgnoreCase);

    [Fact]
    public async Task Every_file_a_command_writes_is_owner_only_whatever_the_umask_and_replaces_an_earlier_one_open_to_others()
    {
        OwnerOnlyTree.AssertUmaskWouldLetOthersRead();
        var folder = Path.Combine(fixture.Directory, "written-" + Guid.NewGuid().ToString("N"));
        var config = Path.Combine(fixture.Directory, "config-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(folder);
        var login = await fixture.RunAsync(config, "login", "--node", "http://localhost/", "--client-id", TestClients.Everything, "--client-secret", TestClients.Secret(TestClients.Everything));
        Assert.True(login.ExitCode == 0, login.Error);
        // Something in the log and the feed for the export and the cursor to hold.
        var submitted = await fixture.RunAsync(config, "findings", "submit", "--file", "samples/finding.green.json");
        Assert.True(submitted.ExitCode == 0, submitted.Error);
        var writers = Writers();

        var options = CommandTree.All().SelectMany(c => c.Command.Options.Where(WritesAFile).Select(o => $"{string.Join(' ', c.Path)} {o.Name}"));
        Assert.Equal(options.Order(StringComparer.Ordinal), writers.Select(w => w.Name).Order(StringComparer.Ordinal));
        foreach (var writer in writers)
        {
            var path = Path.Combine(folder, writer.Name.Replace(' ', '-'));
            if (writer.Earlier is { } earlier)
            {
                File.WriteAllText(path, earlier);
                File.SetUnixFileMode(path, File.GetUnixFileMode(path) | UnixFileMode.GroupRead | UnixFileMode.OtherRead);
            }

            var run = await fixture.RunAsync(config, [.. writer.Command, writer.Option, path, .. writer.Rest]);

            Assert.True(run.ExitCode == 0, $"exchange {writer.Name}: exit {run.ExitCode}: {run.Error}");
            Assert.True(File.GetUnixFileMode(path) == OwnerOnlyFile.FilePermissions, $"exchange {writer.Name} left {OwnerOnlyTree.Octal(File.GetUnixFileMode(path))}");
            Assert.NotEqual(writer.Earlier, File.ReadAllText(path));
        }
        // Nothing else: no temporary file left beside them.
        Assert.Equal(writers.Length, Directory.GetFiles(folder).Length);
    }
}
