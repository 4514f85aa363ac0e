using System.Security.Cryptography;
using System.Text.Json;
using Exchange.Domain.Network;
using Exchange.Envelopes;
using Exchange.Testing;

namespace Exchange.EndToEnd.Tests;

/// <summary>
/// The container and Kubernetes files, checked offline (no container engine or cluster runs here):
/// deploy/compose/setup.sh makes a network whose pieces agree with each other, `docker-compose
/// config` accepts the Compose file with what setup.sh made, and `kubectl kustomize` builds the
/// example overlay.
/// </summary>
public sealed class DeployFilesTests : IDisposable
{
    private static readonly string Root = RepositoryPaths.Root;
    private static readonly string[] Institutes = ["uk", "us", "jp"];
    private readonly string _state = Path.Combine(Path.GetTempPath(), "exchange-compose-test", Guid.NewGuid().ToString("N")[..8]);

    [Fact]
    [System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
    public async Task Compose_setup_makes_keys_manifest_broker_and_database_secrets_that_agree_and_the_compose_file_validates()
    {
        var setup = await SetupAsync();
        Assert.True(setup.ExitCode == 0, $"setup.sh failed ({setup.ExitCode}): {setup.Error}{setup.Out}");

        // Each node will import keys whose public halves are the manifest's entry for it.
        var manifest = ManifestLoader.LoadFile(Path.Combine(_state, "manifest.json"));
        Assert.Equal(Institutes.Order(), manifest.Institutes.Select(i => i.Id).Order());
        foreach (var id in Institutes)
        {
            var path = Path.Combine(_state, $"keys-{id}.json");
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(path));
            var keys = InstituteKeyPairs.ReadPrivateKeys(path);
            Assert.Equal(manifest.FindInstitute(id)!.SigningKey, keys.SigningPublicKey);
            Assert.Equal(manifest.FindInstitute(id)!.EncryptionKey, keys.EncryptionPublicKey);
        }

        // The cluster's cookie is a file only its owner reads, not a command-line argument.
        Assert.Equal(UnixFileMode.UserRead, File.GetUnixFileMode(Path.Combine(_state, "erlang.cookie")));

        // Each node's settings carry its own broker user and database role, and nobody else's.
        var envs = Institutes.ToDictionary(id => id, id => ReadEnv(Path.Combine(_state, $"{id}.env")));
        using var credentials = JsonDocument.Parse(File.ReadAllText(Path.Combine(_state, "broker-credentials.json")));
        var init = File.ReadAllText(Path.Combine(_state, "postgres-init.sql"));
        foreach (var (id, env) in envs)
        {
            Assert.Equal(id, env["Node__InstituteId"]);
            Assert.Equal(credentials.RootElement.GetProperty(id).GetProperty("password").GetString(), env["Broker__Password"]);
            var dbPassword = env["Database__ConnectionString"].Split(';').Single(p => p.StartsWith("Password=")).Split('=', 2)[1];
            Assert.Contains($"CREATE ROLE exchange_{id} LOGIN PASSWORD '{dbPassword}';", init);
            Assert.Equal(["rabbit-1", "rabbit-2", "rabbit-3"], new[] { env["Broker__ClusterNodes__0"], env["Broker__ClusterNodes__1"], env["Broker__ClusterNodes__2"] });
        }
        Assert.Equal(Institutes.Length, envs.Values.Select(e => e["Broker__Password"]).Distinct().Count());
        Assert.Equal(Institutes.Length, envs.Values.Select(e => e["Identity__Clients__0__ClientSecret"]).Distinct().Count());

        // The broker: quorum queues, and an administrator whose hash is of the password printed for it.
        using var definitions = JsonDocument.Parse(File.ReadAllText(Path.Combine(_state, "definitions.json")));
        var queues = definitions.RootElement.GetProperty("queues").EnumerateArray().ToList();
        Assert.Equal(Institutes.Select(id => $"exchange.{id}.inbox").Order(), queues.Select(q => q.GetProperty("name").GetString()!).Order());
        Assert.All(queues, q => Assert.Equal("quorum", q.GetProperty("arguments").GetProperty("x-queue-type").GetString()));
        var admin = definitions.RootElement.GetProperty("users").EnumerateArray().Single(u => u.GetProperty("name").GetString() == "admin");
        var adminPassword = File.ReadAllLines(Path.Combine(_state, "clients.txt")).Single(l => l.StartsWith("rabbitmq ")).Split(' ')[3];
        var hash = Convert.FromBase64String(admin.GetProperty("password_hash").GetString()!);
        Assert.Equal(hash[4..], SHA256.HashData([.. hash[..4], .. System.Text.Encoding.UTF8.GetBytes(adminPassword)]));

        var config = await ProcessRunner.RunAsync("env", [$"EXCHANGE_COMPOSE_STATE={_state}", "docker-compose", "-f", "deploy/compose/compose.yaml", "config", "--services"], Root, TimeSpan.FromMinutes(1));
        Assert.True(config.ExitCode == 0, $"docker-compose config failed ({config.ExitCode}): {config.Error}{config.Out}");
        Assert.Equal(["cli", "node-jp", "node-uk", "node-us", "postgres", "rabbit-1", "rabbit-2", "rabbit-3"], config.Out.Split('\n', StringSplitOptions.RemoveEmptyEntries).Order());

        // A second run must not replace keys that may be the only copy.
        var before = File.ReadAllBytes(Path.Combine(_state, "keys-uk.json"));
        var again = await SetupAsync();
        Assert.Equal(2, again.ExitCode);
        Assert.Equal(before, File.ReadAllBytes(Path.Combine(_state, "keys-uk.json")));
    }

    [Fact]
    public async Task The_compose_file_does_not_validate_without_what_setup_makes()
    {
        // The check above can fail: with no state, the env files the services name are missing.
        var config = await ProcessRunner.RunAsync("env", [$"EXCHANGE_COMPOSE_STATE={_state}", "docker-compose", "-f", "deploy/compose/compose.yaml", "config", "-q"], Root, TimeSpan.FromMinutes(1));
        Assert.NotEqual(0, config.ExitCode);
        Assert.Contains("env file", config.Error, StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public async Task The_kubernetes_overlay_builds_a_replicated_node_with_probes_on_the_health_port()
    {
        var build = await ProcessRunner.RunAsync("kubectl", ["kustomize", "deploy/k8s/example"], Root, TimeSpan.FromMinutes(1));
        Assert.True(build.ExitCode == 0, $"kubectl kustomize failed ({build.ExitCode}): {build.Error}");
        Assert.Contains("kind: Deployment", build.Out);
        Assert.Contains("kind: Service", build.Out);
        Assert.Matches(@"replicas: [2-9]", build.Out);
        Assert.Contains("readinessProbe:", build.Out);
        Assert.Contains("livenessProbe:", build.Out);
        Assert.Contains("/healthz/ready", build.Out);
    }

    private Task<(int ExitCode, string Out, string Error)> SetupAsync() =>
        ProcessRunner.RunAsync("env", [$"EXCHANGE_COMPOSE_STATE={_state}", "EXCHANGE_COMPOSE_NO_BUILD=1", "bash", Path.Combine(Root, "deploy/compose/setup.sh")], Root, TimeSpan.FromMinutes(2));

    private static Dictionary<string, string> ReadEnv(string path) =>
        File.ReadAllLines(path).Where(l => l.Contains('=')).Select(l => l.Split('=', 2)).ToDictionary(p => p[0], p => p[1]);

    public void Dispose()
    {
        if (Directory.Exists(_state))
        {
            Directory.Delete(_state, recursive: true);
        }
    }
}
