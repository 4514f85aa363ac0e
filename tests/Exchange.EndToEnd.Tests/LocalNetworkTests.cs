using System.Text.Json;
using Exchange.Testing;

namespace Exchange.EndToEnd.Tests;

/// <summary>
/// The operator's path, as the README gives it: deploy/local/up.sh brings up five institutes on the
/// real RabbitMQ and PostgreSQL, a finding submitted with the CLI at one reaches exactly the
/// institutes its policy allows, `exchange audit verify` passes at every one, and down.sh takes it
/// all away.
/// </summary>
[Collection(RabbitMqCollection.Name)]
public sealed class LocalNetworkTests
{
    private static readonly string Root = RepositoryPaths.Root;
    private static readonly string Cli = Path.Combine(Root, "src/Exchange.Cli/bin/Release/net10.0/exchange.dll");

    private readonly string _state = Path.Combine(Path.GetTempPath(), "exchange-local-test", Guid.NewGuid().ToString("N")[..8]);
    private readonly string _home = Path.Combine(Path.GetTempPath(), "exchange-local-home", Guid.NewGuid().ToString("N")[..8]);

    private sealed record Institute(string Id, string Url, string StaffSecret, string AuditorSecret);

    [Fact]
    public async Task Five_institutes_come_up_a_finding_reaches_exactly_its_allowed_peers_and_every_audit_log_verifies()
    {
        Directory.CreateDirectory(_home);
        var port = 20000 + Random.Shared.Next(0, 90) * 100;
        try
        {
            var up = await Script("up.sh", TimeSpan.FromMinutes(6), $"EXCHANGE_LOCAL_PORT={port}", "EXCHANGE_LOCAL_NO_BUILD=1", "5");
            Assert.True(up.ExitCode == 0, $"up.sh failed ({up.ExitCode}): {up.Error}{up.Out}");
            var institutes = File.ReadAllLines(Path.Combine(_state, "clients.txt"))
                .Select(line => line.Split(' '))
                .Select(f => new Institute(f[0], f[1], f[3], f[5]))
                .ToList();
            Assert.Equal(5, institutes.Count);
            // No secret on a command line, which every user of the machine can read (/proc/PID/cmdline).
            var secrets = institutes.SelectMany(i => new[] { i.StaffSecret, i.AuditorSecret })
                .Concat(JsonDocument.Parse(File.ReadAllText(Path.Combine(_state, "broker-credentials.json"))).RootElement.EnumerateObject().Select(c => c.Value.GetProperty("password").GetString()!))
                .ToList();
            foreach (var institute in institutes)
            {
                var commandLine = File.ReadAllText($"/proc/{File.ReadAllText(Path.Combine(_state, institute.Id, "pid")).Trim()}/cmdline");
                Assert.DoesNotContain(secrets, secret => commandLine.Contains(secret, StringComparison.Ordinal));
            }
            var origin = institutes[0];
            var sample = Path.Combine(Root, "deploy/samples/finding.amber.json");

            using var preview = JsonDocument.Parse(await CliOk(origin.Url, "staff", origin.StaffSecret, "findings", "preview", "--file", sample, "--output", "json"));
            var allowed = preview.RootElement.GetProperty("decisions").EnumerateArray()
                .Where(d => d.GetProperty("outcome").GetString() == "DISCLOSURE_OUTCOME_ALLOW")
                .Select(d => d.GetProperty("instituteId").GetString()!).ToHashSet();
            var denied = institutes.Skip(1).Select(i => i.Id).Except(allowed).ToList();
            // The sample policy names some of the five and not others: both sides are checked.
            Assert.NotEmpty(allowed);
            Assert.NotEmpty(denied);

            using var submitted = JsonDocument.Parse(await CliOk(origin.Url, "staff", origin.StaffSecret, "findings", "submit", "--file", sample, "--output", "json"));
            var id = submitted.RootElement.GetProperty("finding").GetProperty("id").GetString()!;

            foreach (var peer in institutes.Where(i => allowed.Contains(i.Id)))
            {
                await Eventually.TrueAsync(async () => (await ListAsync(peer)).Contains(id), $"{peer.Id} received {id}", TimeSpan.FromMinutes(2));
            }
            foreach (var peer in institutes.Where(i => denied.Contains(i.Id)))
            {
                Assert.DoesNotContain(id, await ListAsync(peer));
            }
            foreach (var institute in institutes)
            {
                var verified = await CliOk(institute.Url, "auditor", institute.AuditorSecret,
                    "audit", "verify", "--manifest", Path.Combine(_state, "manifest.json"), "--institute", institute.Id);
                Assert.Contains("verified", verified);
            }
        }
        finally
        {
            var down = await Script("down.sh", TimeSpan.FromMinutes(2));
            Assert.True(down.ExitCode == 0, $"down.sh failed: {down.Error}{down.Out}");
            Assert.False(Directory.Exists(_state), "down.sh left its state behind");
            Directory.Delete(_home, recursive: true);
        }
    }

    private async Task<List<string>> ListAsync(Institute institute)
    {
        using var list = JsonDocument.Parse(await CliOk(institute.Url, "staff", institute.StaffSecret, "findings", "list", "--output", "json"));
        return list.RootElement.TryGetProperty("findings", out var findings)
            ? findings.EnumerateArray().Select(f => f.GetProperty("id").GetString()!).ToList()
            : [];
    }

    private Task<(int ExitCode, string Out, string Error)> Script(string name, TimeSpan timeout, params string[] arguments) =>
        ProcessRunner.RunAsync("env", [$"EXCHANGE_LOCAL_DIR={_state}", .. arguments.Where(a => a.Contains('=')), "bash", Path.Combine(Root, "deploy/local", name),
            .. arguments.Where(a => !a.Contains('='))], Root, timeout);

    private async Task<string> CliOk(string node, string clientId, string secret, params string[] arguments)
    {
        var (code, output, error) = await ProcessRunner.RunAsync("env",
            [$"HOME={_home}", $"EXCHANGE_CLIENT_ID={clientId}", $"EXCHANGE_CLIENT_SECRET={secret}", "dotnet", Cli, .. arguments, "--node", node],
            Root, TimeSpan.FromMinutes(1));
        Assert.True(code == 0, $"exchange {string.Join(' ', arguments)} at {node} failed ({code}): {error}{output}");
        return output;
    }
}
