using Exchange.Domain.Findings;
using Exchange.Inspect;
using Exchange.V1;

namespace Exchange.Inspect.Tests;

public sealed class InspectImportTests
{
    private static string Sample(string name) => Path.Combine(AppContext.BaseDirectory, "samples", name);

    private static ImportSettings Settings(bool allowIncomplete = false) => new()
    {
        Label = new Label { Level = TlpLevel.Green },
        Policy = new AccessPolicy { RecipientGroups = { "network" } },
        RiskDomain = RiskDomain.Societal,
        AllowIncomplete = allowIncomplete,
        FileName = "log.json",
        FileSha256 = new string('a', 64),
        FileSize = 11469,
    };

    private static void AssertValid(SubmitFindingRequest request)
    {
        request.RequestId = "r";
        var violations = new SubmissionValidator(FindingLimits.Default, manifest: null).Validate(request);
        Assert.True(violations.Count == 0, string.Join("; ", violations.Select(v => $"{v.Field}: {v.Description}")));
    }

    [Fact]
    public void A_finished_run_maps_to_a_valid_finding_with_model_task_metrics_and_provenance()
    {
        var finding = InspectImport.ToFinding(InspectLogReader.Read(Sample("01_log_formats.json")), Settings(), out var notes);
        var c = finding.Content;

        AssertValid(finding);
        Assert.Empty(notes);
        Assert.Equal("popularity: ollama/llama3.1", c.Title);
        Assert.Equal("ollama", c.Model.Developer);
        Assert.Equal("llama3.1", c.Model.Name);
        Assert.Equal("inspect_ai", c.Evaluation.Framework);
        Assert.Equal("0.3.41.dev123+g9ad2119a.d20241015", c.Evaluation.FrameworkVersion);
        Assert.Equal("popularity", c.Evaluation.Task);
        Assert.Equal("popularity", c.Evaluation.Dataset);
        Assert.Equal(1, c.Evaluation.SampleCount);
        Assert.Equal(RunStatus.Success, c.Evaluation.Status);
        Assert.Equal("BpiPFmbVcMCRUAXv8ovCTx", c.Evaluation.RunId);
        Assert.Equal(RiskDomain.Societal, c.Evaluation.RiskDomain);
        var metric = Assert.Single(c.Metrics);
        Assert.Equal(("accuracy", "match", 0.0, 0.0), (metric.Name, metric.Scorer, metric.Value, metric.Stderr));
        Assert.Equal(new string('a', 64), c.Artifacts.Single().Sha256);
        Assert.Empty(c.Artifacts.Single().InlineContent);
        Assert.Equal(TlpLevel.Green, finding.Label.Level);
    }

    [Fact]
    public void A_cancelled_run_is_refused_unless_allowed_and_then_marked_cancelled()
    {
        var run = InspectLogReader.Read(Sample("03_cancelled_popularity.json"));

        var e = Assert.Throws<IncompleteRunException>(() => InspectImport.ToFinding(run, Settings(), out _));
        var finding = InspectImport.ToFinding(run, Settings(allowIncomplete: true), out _);

        Assert.Contains("cancelled", e.Message);
        Assert.Contains("--allow-incomplete", e.Message);
        AssertValid(finding);
        Assert.Equal(RunStatus.Cancelled, finding.Content.Evaluation.Status);
        Assert.Contains("(cancelled)", finding.Content.Title);
        Assert.Contains("incomplete run", finding.Content.Summary);
        Assert.Equal(0.6666666666666666, finding.Content.Metrics.Single().Value);
        Assert.Equal(0.33333333333333337, finding.Content.Metrics.Single().Stderr);
    }

    [Fact]
    public void A_NaN_metric_is_left_out_and_said_so_so_that_the_finding_stays_valid()
    {
        var finding = InspectImport.ToFinding(InspectLogReader.Read(Sample("05_v1_with_nan.json")), Settings(), out var notes);

        AssertValid(finding);
        Assert.Equal(["bootstrap_std"], finding.Content.Metrics.Select(m => m.Name));
        Assert.Contains(notes, n => n.Contains("model_graded_fact/accuracy was NaN"));
        Assert.Contains("accuracy was NaN", finding.Content.Narrative);
        Assert.Equal("openai", finding.Content.Model.Developer);
        Assert.Equal("gpt-4", finding.Content.Model.Name);
    }

    [Fact]
    public void Every_sample_log_maps_to_a_valid_finding_when_incomplete_runs_are_allowed()
    {
        foreach (var file in Directory.GetFiles(Path.Combine(AppContext.BaseDirectory, "samples")).Where(f => !f.EndsWith(".md", StringComparison.Ordinal)))
        {
            var finding = InspectImport.ToFinding(InspectLogReader.Read(file), Settings(allowIncomplete: true), out _);
            AssertValid(finding);
        }
    }
}
