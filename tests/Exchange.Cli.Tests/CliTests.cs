using System.Text.Json;
using Exchange.Testing;
using Exchange.V1;
using Google.Protobuf.WellKnownTypes;

namespace Exchange.Cli.Tests;

/// <summary>The `exchange` command against a real node: what staff type, and what they read back.</summary>
public sealed class CliTests(CliFixture fixture) : IClassFixture<CliFixture>
{
    private const string Node = "http://localhost/";
    private readonly string _config = Path.Combine(fixture.Directory, "config-" + Guid.NewGuid().ToString("N"));

    private Task<CliRun> Exchange(params string[] args) => fixture.RunAsync(_config, args);

    private Task<CliRun> Login(string client) =>
        Exchange("login", "--node", Node, "--client-id", client, "--client-secret", TestClients.Secret(client));

    [Fact]
    public async Task Staff_log_in_submit_list_read_and_withdraw_a_finding()
    {
        Assert.Equal(0, (await Login(TestClients.Everything)).ExitCode);

        var submit = await Exchange("findings", "submit", "--file", "samples/finding.amber.json", "-o", "json");
        Assert.Equal(0, submit.ExitCode);
        var id = JsonDocument.Parse(submit.Out).RootElement.GetProperty("finding").GetProperty("id").GetString()!;

        var list = await Exchange("findings", "list", "--label", "AMBER");
        var get = await Exchange("findings", "get", id);
        var withdraw = await Exchange("findings", "withdraw", id, "--reason", "scoring bug");

        Assert.Contains(id, list.Out);
        Assert.Contains("Uplift on capture-the-flag tasks", get.Out);
        Assert.Contains("us", get.Out);
        Assert.Matches(@"us\s+ALLOW\s+(PENDING|SENT)", get.Out);
        Assert.Equal(0, withdraw.ExitCode);
        Assert.Contains($"withdrawn {id}", withdraw.Out);
        Assert.Contains("WITHDRAWN", (await Exchange("findings", "get", id)).Out);
    }

    [Fact]
    public async Task A_partner_polling_with_since_gets_what_this_node_received_since_then_whenever_its_origin_submitted_it()
    {
        await Login(TestClients.Reader);
        // us submitted it ten days ago; it reached this node only now (an outage, a backlog).
        var finding = TestEnvelopes.FindingFrom("us", SampleFindings.Valid(TlpLevel.Green, institutes: ["uk"]));
        finding.SubmittedAt = Timestamp.FromDateTimeOffset(DateTimeOffset.UtcNow.AddDays(-10));
        await fixture.Node.DeliverAsync(new TestEnvelopes(fixture.Manifest).Finding(finding, "uk"));
        var fiveDaysAgo = DateTimeOffset.UtcNow.AddDays(-5).ToString("O");

        var since = await Exchange("findings", "list", "--since", fiveDaysAgo, "-o", "json");
        var until = await Exchange("findings", "list", "--until", fiveDaysAgo, "-o", "json");
        var help = await Exchange("findings", "list", "--help");

        Assert.Contains(finding.Id, since.Out);
        Assert.DoesNotContain(finding.Id, until.Out);
        Assert.Contains("received by this node", help.Out);
    }

    [Fact]
    public async Task Preview_shows_every_institute_with_the_decision_and_reason_and_sends_nothing()
    {
        await Login(TestClients.Submitter);
        var preview = await Exchange("findings", "preview", "--file", "samples/finding.red.json");

        Assert.Equal(0, preview.ExitCode);
        Assert.Matches(@"us\s+ALLOW\s+tlp\.red\s+allow\.agreement \[uk-us\]", preview.Out);
        Assert.Matches(@"jp\s+DENY\s+tlp\.red\s+deny\.not-in-audience", preview.Out);
        Assert.Contains("nothing was sent", preview.Out);
        var list = await Exchange("findings", "list", "--label", "RED", "-o", "json");
        Assert.DoesNotContain("Novel exploit chain", list.Out);
    }

    [Fact]
    public async Task A_rejected_finding_names_every_bad_field_and_exits_with_invalid_input()
    {
        await Login(TestClients.Submitter);
        var file = Path.Combine(fixture.Directory, $"bad-{Guid.NewGuid():N}.json");
        var text = File.ReadAllText("samples/finding.green.json")
            .Replace("\"title\": \"Refusal rates under multilingual prompts\"", "\"title\": \"\"")
            .Replace("\"TLP_LEVEL_GREEN\"", "\"TLP_LEVEL_UNSPECIFIED\"");
        File.WriteAllText(file, text);

        var run = await Exchange("findings", "submit", "--file", file);

        Assert.Equal(ExitCodes.InvalidInput, run.ExitCode);
        Assert.Contains("content.title: is required", run.Error);
        Assert.Contains("label.level: is required", run.Error);
        Assert.DoesNotContain("   at ", run.Error);
    }

    [Fact]
    public async Task A_misspelt_field_in_the_file_is_named()
    {
        await Login(TestClients.Submitter);
        var file = Path.Combine(fixture.Directory, $"typo-{Guid.NewGuid():N}.json");
        File.WriteAllText(file, File.ReadAllText("samples/finding.green.json").Replace("\"summary\"", "\"sumary\""));

        var run = await Exchange("findings", "submit", "--file", file);

        Assert.Equal(ExitCodes.InvalidInput, run.ExitCode);
        Assert.Contains("sumary", run.Error);
        Assert.Contains("--file", run.Error);
    }

    [Fact]
    public async Task A_missing_scope_is_named()
    {
        await Login(TestClients.Reader);
        var run = await Exchange("findings", "submit", "--file", "samples/finding.green.json");
        Assert.Equal(ExitCodes.NotAuthorized, run.ExitCode);
        Assert.Contains("findings:submit", run.Error);
    }

    [Fact]
    public async Task Without_a_login_the_user_is_told_how_to_log_in()
    {
        var run = await Exchange("findings", "list", "--node", Node);
        Assert.Equal(ExitCodes.NotAuthorized, run.ExitCode);
        Assert.Contains("exchange login", run.Error);
    }

    [Fact]
    public async Task A_wrong_secret_is_refused_with_the_servers_reason()
    {
        var run = await Exchange("login", "--node", Node, "--client-id", TestClients.Reader, "--client-secret", "not-the-secret-at-all");
        Assert.Equal(ExitCodes.NotAuthorized, run.ExitCode);
        Assert.Contains("invalid_client", run.Error);
    }

    [Fact]
    public async Task A_missing_required_option_is_named()
    {
        var run = await Exchange("findings", "submit");
        Assert.NotEqual(0, run.ExitCode);
        Assert.Contains("--file", run.Error);
    }

    [Fact]
    public async Task A_bad_label_filter_is_named()
    {
        await Login(TestClients.Reader);
        var run = await Exchange("findings", "list", "--label", "PURPLE");
        Assert.Equal(ExitCodes.Usage, run.ExitCode);
        Assert.Contains("--label: 'PURPLE'", run.Error);
    }

    [Fact]
    public async Task An_unknown_finding_exits_with_not_found()
    {
        await Login(TestClients.Reader);
        var run = await Exchange("findings", "get", "uk-nothing-here");
        Assert.Equal(ExitCodes.NotFound, run.ExitCode);
        Assert.Contains("uk-nothing-here", run.Error);
    }

    [Fact]
    [System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
    public async Task The_credentials_file_is_readable_only_by_its_owner()
    {
        await Login(TestClients.Reader);
        var mode = File.GetUnixFileMode(Path.Combine(_config, "credentials.json"));
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, mode);
    }

    [Fact]
    public async Task Network_show_lists_institutes_groups_and_agreements()
    {
        await Login(TestClients.Reader);
        var run = await Exchange("network", "show");
        Assert.Equal(0, run.ExitCode);
        Assert.Contains("uk (this node)", run.Out);
        Assert.Matches(@"uk-us\s+uk–us\s+RED\s+all", run.Out);
        Assert.Contains("g7", run.Out);
    }

    [Fact]
    [System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
    public async Task Keys_generate_writes_owner_only_private_keys_that_match_the_printed_public_keys_and_never_overwrites()
    {
        var path = Path.Combine(fixture.Directory, $"keys-{Guid.NewGuid():N}.json");

        var run = await Exchange("keys", "generate", "--institute", "sg", "--out", path, "-o", "json");

        Assert.Equal(0, run.ExitCode);
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(path));
        var printed = JsonDocument.Parse(run.Out).RootElement;
        var keys = global::Exchange.Envelopes.InstituteKeyPairs.ReadPrivateKeys(path);
        Assert.Equal("sg", printed.GetProperty("instituteId").GetString());
        Assert.Equal(Convert.ToBase64String(keys.SigningPublicKey), printed.GetProperty("signingKey").GetString());
        Assert.Equal(Convert.ToBase64String(keys.EncryptionPublicKey), printed.GetProperty("encryptionKey").GetString());

        var again = await Exchange("keys", "generate", "--institute", "sg", "--out", path);
        Assert.Equal(ExitCodes.InvalidInput, again.ExitCode);
        Assert.Contains("--out", again.Error);
        Assert.Equal(keys.SigningPrivateKey, global::Exchange.Envelopes.InstituteKeyPairs.ReadPrivateKeys(path).SigningPrivateKey);
    }
}
