using System.Text;
using System.Text.Json;
using Exchange.Testing;

namespace Exchange.Cli.Tests;

/// <summary>`exchange import inspect` against a real node: what staff type to share an Inspect run.</summary>
public sealed class ImportInspectCliTests(CliFixture fixture) : IClassFixture<CliFixture>
{
    private const string Node = "http://localhost/";
    private readonly string _config = Path.Combine(fixture.Directory, "config-" + Guid.NewGuid().ToString("N"));

    private async Task<CliRun> Exchange(params string[] args)
    {
        if (!File.Exists(Path.Combine(_config, "credentials.json")))
        {
            await fixture.RunAsync(_config, "login", "--node", Node, "--client-id", TestClients.Everything, "--client-secret", TestClients.Secret(TestClients.Everything));
        }
        return await fixture.RunAsync(_config, args);
    }

    private Task<int> FindingCountAsync()
    {
        var count = 0;
        return fixture.WithDatabaseAsync(async db => count = await Microsoft.EntityFrameworkCore.EntityFrameworkQueryableExtensions.CountAsync(db.Findings))
            .ContinueWith(_ => count, TaskScheduler.Default);
    }

    [Fact]
    public async Task A_dry_run_shows_the_finding_and_its_recipients_and_submits_nothing()
    {
        var before = await FindingCountAsync();

        var run = await Exchange("import", "inspect", "inspect/01_log_formats.json", "--label", "GREEN", "--to", "g7", "--risk-domain", "cyber", "--dry-run");

        Assert.True(run.ExitCode == 0, run.Error);
        Assert.StartsWith("DRY RUN: nothing below has been submitted", run.Out);
        Assert.Contains("inspect_ai", run.Out);
        Assert.Contains("group:g7", run.Out);
        Assert.Matches(@"us\s+ALLOW", run.Out);
        Assert.Contains("nothing was submitted", run.Out);
        Assert.Equal(before, await FindingCountAsync());
    }

    [Fact]
    public async Task An_import_submits_the_finding_staff_can_then_read()
    {
        var import = await Exchange("import", "inspect", "inspect/02_log_formats.eval", "--label", "AMBER", "--to", "us", "--risk-domain", "cyber",
            "--severity", "high", "--title", "Log formats check", "-o", "json");
        Assert.True(import.ExitCode == 0, import.Error);
        var id = JsonDocument.Parse(import.Out).RootElement.GetProperty("submitted").GetProperty("finding").GetProperty("id").GetString()!;

        var get = await Exchange("findings", "get", id);

        Assert.Contains("Log formats check", get.Out);
        Assert.Contains("02_log_formats.eval", get.Out);
        Assert.Matches(@"us\s+ALLOW", get.Out);
    }

    [Fact]
    public async Task A_cancelled_run_is_refused_naming_the_flag_that_imports_it()
    {
        var refused = await Exchange("import", "inspect", "inspect/03_cancelled_popularity.json", "--label", "GREEN", "--to", "g7", "--risk-domain", "cyber");
        var allowed = await Exchange("import", "inspect", "inspect/03_cancelled_popularity.json", "--label", "GREEN", "--to", "g7", "--risk-domain", "cyber", "--allow-incomplete", "--dry-run");

        Assert.NotEqual(0, refused.ExitCode);
        Assert.Contains("cancelled", refused.Error);
        Assert.Contains("--allow-incomplete", refused.Error);
        Assert.Equal(0, allowed.ExitCode);
        Assert.Contains("(cancelled)", allowed.Out);
    }

    [Fact]
    public async Task A_truncated_log_is_refused_naming_the_file_and_nothing_is_stored()
    {
        var bytes = File.ReadAllBytes("inspect/02_log_formats.eval");
        var path = Path.Combine(fixture.Directory, $"cut-{Guid.NewGuid():N}.eval");
        File.WriteAllBytes(path, bytes[..(bytes.Length / 2)]);
        var before = await FindingCountAsync();

        var run = await Exchange("import", "inspect", path, "--label", "GREEN", "--to", "g7", "--risk-domain", "cyber");

        Assert.Equal(ExitCodes.InvalidInput, run.ExitCode);
        Assert.Contains($"{path}: not a complete .eval archive", run.Error);
        Assert.DoesNotContain("   at ", run.Error);
        Assert.Equal(before, await FindingCountAsync());
    }

    [Fact]
    public async Task Options_are_named_when_wrong()
    {
        var label = await Exchange("import", "inspect", "inspect/01_log_formats.json", "--label", "PURPLE", "--to", "g7", "--risk-domain", "cyber");
        var to = await Exchange("import", "inspect", "inspect/01_log_formats.json", "--label", "GREEN", "--to", "atlantis", "--risk-domain", "cyber");
        var file = await Exchange("import", "inspect", "inspect/missing.json", "--label", "GREEN", "--to", "g7", "--risk-domain", "cyber");

        Assert.Equal(ExitCodes.Usage, label.ExitCode);
        Assert.Contains("--label: 'PURPLE' is not one of", label.Error);
        Assert.Equal(ExitCodes.InvalidInput, to.ExitCode);
        Assert.Contains("--to: 'atlantis' is neither an institute nor a group", to.Error);
        Assert.Equal(ExitCodes.Usage, file.ExitCode);
        Assert.Contains("no file 'inspect/missing.json'", file.Error);
    }

    [Fact]
    public async Task A_large_log_shows_its_upload_progress()
    {
        var path = Path.Combine(fixture.Directory, $"large-{Guid.NewGuid():N}.json");
        using (var writer = new StreamWriter(path, false, new UTF8Encoding(false)))
        {
            writer.Write("""{"version": 2, "status": "success", "eval": {"run_id": "r1", "task": "big", "model": "acme/m1", "created": "2026-11-01T10:00:00+00:00"}, "samples": [""");
            for (var i = 0; i < 3000; i++)
            {
                writer.Write((i == 0 ? "" : ",") + "{\"id\": " + i + ", \"input\": \"" + new string('x', 4000) + "\"}");
            }
            writer.Write("""], "results": {"total_samples": 3000, "completed_samples": 3000, "scores": [{"name": "match", "metrics": {"accuracy": {"name": "accuracy", "value": 0.25}}}]}}""");
        }

        var run = await Exchange("import", "inspect", path, "--label", "GREEN", "--to", "g7", "--risk-domain", "cyber", "--dry-run");

        Assert.True(run.ExitCode == 0, run.Error);
        var lines = run.Error.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Contains(lines, l => l.Contains("uploading large-") && l.Contains("  0%"));
        Assert.Contains(lines, l => l.Contains("100%"));
        Assert.InRange(lines.Count(l => l.Contains('%')), 3, 11);
        Assert.Contains("accuracy", run.Out);
    }
}
