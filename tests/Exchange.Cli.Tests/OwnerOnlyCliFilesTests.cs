using System.Runtime.Versioning;
using Exchange.Envelopes;
using Exchange.Node.Secrets;
using Exchange.Testing;

namespace Exchange.Cli.Tests;

/// <summary>What the CLI writes that holds a secret is its user's alone from the first byte: the
/// stored login (client secret and token) and the folders made for it, and key-encryption keys.</summary>
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
}
