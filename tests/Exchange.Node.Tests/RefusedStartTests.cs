using System.Net;
using System.Net.Sockets;
using System.Text.Json.Nodes;
using Exchange.Domain.Policy;
using Exchange.Envelopes;
using Exchange.Node.Startup;
using Exchange.Testing;
using Exchange.V1;
using Npgsql;

namespace Exchange.Node.Tests;

/// <summary>
/// The node as its operator meets it, a process of its own: every way it can refuse to start ends
/// with one message naming the entry and the fix, exit code 2 and no stack trace; a manifest whose
/// agreement has ended is not one of them.
/// </summary>
public sealed class RefusedStartTests : IDisposable
{
    private static readonly TimeSpan Limit = TimeSpan.FromMinutes(2);
    private readonly string _directory = Path.Combine(Path.GetTempPath(), "exchange-tests", Guid.NewGuid().ToString("N"));

    private static TestManifest Network() => new TestManifest().Institute("uk").Institute("us").Institute("jp").Agreement("uk-us", "uk", "us", "RED");

    /// <summary>One way to refuse a start: what to change, and what the one message must name.</summary>
    public sealed record Refusal(string Name, Dictionary<string, string?> Settings, Func<JsonObject, string>? Manifest, string Entry, string Problem)
    {
        public override string ToString() => Name;
    }

    private static Refusal Setting(string key, string? value, string entry, string problem) => new($"{key}={value}", new() { [key] = value }, null, entry, problem);

    private static Refusal Settings(string name, Dictionary<string, string?> settings, string entry, string problem) => new(name, settings, null, entry, problem);

    private static Refusal Manifest(string name, Func<JsonObject, string> change, string entry, string problem) => new(name, [], change, entry, problem);

    private static string WrongPassword => new NpgsqlConnectionStringBuilder(PostgresTestDatabase.AdminConnectionString) { Password = "not-the-password" }.ConnectionString;

    public static TheoryData<Refusal> Refusals() =>
    [
        // Settings, one of each kind: required, malformed, out of range, not convertible, inconsistent.
        Setting("Node:InstituteId", "", "invalid setting", "Node:InstituteId is required"),
        Setting("Node:InstituteId", "UK!", "invalid setting", "Node:InstituteId must be lower-case"),
        Setting("Node:InstituteId", "fr", "Node:InstituteId", "'fr' is not an institute of the manifest"),
        Setting("Node:ManifestPath", "/nonexistent/manifest.json", "Node:ManifestPath", "cannot read the manifest file '/nonexistent/manifest.json'"),
        Setting("Node:HealthPort", "eighty", "Node:HealthPort", "whole number"),
        Setting("Node:HealthPort", "70000", "invalid setting", "Node:HealthPort must be a port number"),
        Setting("Node:InitialKeysPath", "/nonexistent/keys.json", "Node:InitialKeysPath", "cannot be read"),
        Setting("Node:DataDirectory", "/proc/exchange-cannot-be-here", "Node:DataDirectory", "cannot be created"),
        Setting("Database:Provider", "Mysql", "Database:Provider", "one of Sqlite, Postgres"),
        Settings("Database:Provider=Postgres without a connection string", new() { ["Database:Provider"] = "Postgres", ["Database:ConnectionString"] = "" },
            "invalid setting", "Database:ConnectionString is required"),
        Settings("a PostgreSQL that does not answer", new()
        {
            ["Database:Provider"] = "Postgres", ["Database:ConnectionString"] = "Host=127.0.0.1;Port=1;Database=x;Username=x;Password=x;Timeout=2",
            ["Database:StartupWait"] = "00:00:01",
        }, "Database:ConnectionString", "did not answer within Database:StartupWait"),
        Settings("a PostgreSQL that refuses the password", new() { ["Database:Provider"] = "Postgres", ["Database:ConnectionString"] = WrongPassword },
            "Database:ConnectionString", "password authentication failed"),
        Setting("Broker:Transport", "Kafka", "Broker:Transport", "one of RabbitMq, InMemory"),
        Settings("RabbitMQ without a broker user", new() { ["Broker:Transport"] = "RabbitMq", ["Broker:Username"] = "", ["Broker:Password"] = "" },
            "invalid setting", "Broker:Username and Broker:Password are required"),
        Setting("Broker:OutboxBatchSize", "0", "invalid setting", "Broker:OutboxBatchSize must be between 1 and 5000"),
        Setting("Broker:SendTimeout", "soon", "Broker:SendTimeout", "a duration"),
        Setting("Audit:CheckpointInterval", "00:00:00", "invalid setting", "Audit:CheckpointInterval must be positive"),
        Setting("Identity:AccessTokenLifetime", "02:00:00", "invalid setting", "at most one hour"),
        Setting("Identity:Clients:0:ClientSecret", "short", "invalid setting", "ClientSecret is shorter than 16 characters"),
        Setting("Identity:Clients:1:ClientId", TestClients.Submitter, "invalid setting", $"client '{TestClients.Submitter}' is configured more than once"),
        Setting("Subscriptions:PageSize", "0", "invalid setting", "Subscriptions:PageSize must be between 1 and 5000"),
        Setting("Findings:Imports:IdleTimeout", "00:00:00", "invalid setting", "Findings:Imports:IdleTimeout must be more than 00:00:00"),
        Setting("Telemetry:OtlpEndpoint", "collector:4318", "Telemetry:OtlpEndpoint", "not an absolute http:// or https:// URI"),
        Setting("DataProtection:CertificatePath", "/nonexistent/keyring.pfx", "DataProtection:CertificatePath", "cannot be used as the key-encryption key"),
        // Addresses and certificates, met only once the server binds.
        Setting("urls", $"http://0.0.0.0:{NodeHost.FreePort()}", "urls / Kestrel:Endpoints", "plain HTTP"),
        Settings("an https endpoint whose certificate file is missing", new()
        {
            ["Kestrel:Endpoints:Grpc:Url"] = $"https://127.0.0.1:{NodeHost.FreePort()}", ["Kestrel:Endpoints:Grpc:Certificate:Path"] = "/nonexistent/node.pfx",
        }, "Kestrel certificate", "/nonexistent/node.pfx"),
        // The manifest: unreadable, invalid, or not agreeing with the node's keys.
        Manifest("a manifest that is not JSON", _ => "{ \"formatVersion\": 1, \"name\": ", "the network manifest", "not valid JSON"),
        Manifest("a manifest without institutes", _ => """{ "formatVersion": 1, "name": "x" }""", "the network manifest", "institutes: at least one institute is required"),
        Manifest("an agreement of an institute with itself", m => AddAgreement(m, "selfish", "uk", "uk"), "the network manifest", "agreement 'selfish': an institute cannot make an agreement with itself"),
        Manifest("an agreement with an institute not in the manifest", m => AddAgreement(m, "uk-atlantis", "uk", "atlantis"), "the network manifest", "party 'atlantis' is not an institute"),
        Manifest("an unknown field", m =>
        {
            m["agreemnts"] = new JsonArray();
            return m.ToJsonString();
        }, "the network manifest", "agreemnts"),
        Manifest("keys that differ from the node's", m =>
        {
            m["institutes"]![0]!["signingKey"] = Convert.ToBase64String(InstituteKeyPairs.Generate().SigningPublicKey);
            return m.ToJsonString();
        }, "institute 'uk' in the manifest", "the keys of this node differ from the manifest's entry"),
    ];

    [Theory]
    [MemberData(nameof(Refusals))]
    public async Task A_refused_start_ends_with_one_message_naming_the_entry_and_the_fix_and_exit_code_2(Refusal refusal)
    {
        var network = Network();
        var directory = Path.Combine(_directory, Guid.NewGuid().ToString("N")[..8]);
        Directory.CreateDirectory(directory);
        var manifestPath = network.WriteTo(directory);
        if (refusal.Manifest is { } change)
        {
            File.WriteAllText(manifestPath, change(JsonNode.Parse(network.ToJson())!.AsObject()));
        }
        await using var node = Process(network, manifestPath, directory, refusal.Settings);

        var exitCode = await node.RunUntilExitAsync(Limit);

        var output = node.LastOutput(500);
        var report = string.Join(Environment.NewLine, output);
        Assert.True(exitCode == RefusedStart.ExitCode, $"exit code {exitCode}, not {RefusedStart.ExitCode}:{Environment.NewLine}{report}");
        var message = Assert.Single(output, line => line.StartsWith(RefusedStart.Prefix, StringComparison.Ordinal));
        Assert.Contains(refusal.Entry, message);
        Assert.Contains(refusal.Problem, report);
        Assert.Contains(output, line => line.StartsWith("Fix: ", StringComparison.Ordinal));
        Assert.DoesNotContain(output, line => line.TrimStart().StartsWith("at ", StringComparison.Ordinal) && line.Contains('(', StringComparison.Ordinal));
        Assert.DoesNotContain("Unhandled exception", report);
        Assert.DoesNotContain("Exception:", report);
    }

    [Fact]
    public async Task A_refused_start_on_an_address_in_use_names_it()
    {
        using var holder = new TcpListener(IPAddress.Loopback, 0);
        holder.Start();
        var port = ((IPEndPoint)holder.LocalEndpoint).Port;
        var network = Network();
        Directory.CreateDirectory(_directory);
        await using var node = Process(network, network.WriteTo(_directory), _directory, new() { ["urls"] = $"http://127.0.0.1:{port}" });

        var exitCode = await node.RunUntilExitAsync(Limit);

        var output = node.LastOutput(500);
        Assert.Equal(RefusedStart.ExitCode, exitCode);
        var message = Assert.Single(output, line => line.StartsWith(RefusedStart.Prefix, StringComparison.Ordinal));
        Assert.Contains($"127.0.0.1:{port}: address already in use", message);
        Assert.DoesNotContain(output, line => line.TrimStart().StartsWith("at ", StringComparison.Ordinal));
    }

    // The day an agreement ends is not the day every node that restarts goes down: the node starts,
    // says once which agreement ended, and the policy denies by it with its reason and date.
    [Fact]
    public async Task A_node_whose_manifest_lists_an_ended_agreement_starts_warns_once_and_denies_by_it()
    {
        var ended = DateTimeOffset.UtcNow.AddDays(-3);
        var network = Network().Agreement("uk-jp", "uk", "jp", "RED", from: ended.AddYears(-2), to: ended);
        Directory.CreateDirectory(_directory);
        await using var node = Process(network, network.WriteTo(_directory), _directory, []);

        await node.StartAsync(Limit);

        var output = node.LastOutput(500);
        Assert.Single(output, line => line.Contains("Agreement 'uk-jp'", StringComparison.Ordinal) && line.Contains($"ended on {ended:yyyy-MM-dd}", StringComparison.Ordinal));
        Assert.DoesNotContain(output, line => line.Contains("Agreement 'uk-us'", StringComparison.Ordinal));
        var request = SampleFindings.Valid(TlpLevel.Amber, RiskDomain.Cyber, institutes: ["us", "jp"]);
        var preview = await new FindingService.FindingServiceClient(node.Channel).PreviewDisclosureAsync(
            new PreviewDisclosureRequest { Content = request.Content, Label = request.Label, Policy = request.Policy }, await node.AuthAsync());
        var jp = preview.Decisions.Single(d => d.InstituteId == "jp");
        Assert.Equal(DisclosureOutcome.Deny, jp.Outcome);
        Assert.Equal((Reasons.DenyAgreementEnded, "uk-jp"), (jp.Reasons[0].Code, jp.Reasons[0].AgreementId));
        Assert.Contains($"ended on {ended:yyyy-MM-dd}", jp.Reasons[0].Detail);
        Assert.Equal(DisclosureOutcome.Allow, preview.Decisions.Single(d => d.InstituteId == "us").Outcome);
    }

    private static string AddAgreement(JsonObject manifest, string id, string a, string b)
    {
        ((JsonArray)manifest["agreements"]!).Add(new JsonObject
        {
            ["id"] = id, ["parties"] = new JsonArray(a, b), ["maxLabel"] = "AMBER", ["riskDomains"] = new JsonArray(),
            ["validFrom"] = "2025-01-01T00:00:00Z", ["validTo"] = "2035-01-01T00:00:00Z",
        });
        return manifest.ToJsonString();
    }

    private static NodeProcess Process(TestManifest network, string manifestPath, string directory, Dictionary<string, string?> settings) =>
        new("uk", manifestPath, network.Keys["uk"], TestDatabase.Sqlite, $"Data Source={Path.Combine(directory, "node.db")}", directory,
            new Dictionary<string, string?> { ["Broker:Transport"] = "InMemory" }.Concat(settings));

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
