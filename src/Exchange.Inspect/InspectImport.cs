using System.Globalization;
using System.Text;
using Exchange.Domain;
using Exchange.Domain.Text;
using Exchange.V1;
using Google.Protobuf.WellKnownTypes;

namespace Exchange.Inspect;

/// <summary>What staff add to a log to make a finding: its label, audience and what the log cannot say.</summary>
public sealed record ImportSettings
{
    public required Label Label { get; init; }
    public required AccessPolicy Policy { get; init; }
    public required RiskDomain RiskDomain { get; init; }
    public EvaluationMethod Method { get; init; } = EvaluationMethod.AutomatedCapability;
    public ModelStage Stage { get; init; } = ModelStage.Deployed;
    public Severity Severity { get; init; } = Severity.Informational;
    public string? Title { get; init; }
    /// <summary>The model's developer, when the provider in the model name (openai/…) is not it.</summary>
    public string? Developer { get; init; }
    public bool AllowIncomplete { get; init; }
    public string FileName { get; init; } = "";
    public string FileSha256 { get; init; } = "";
    public long FileSize { get; init; }
}

/// <summary>Maps an Inspect run to the finding staff would otherwise type in.</summary>
public static class InspectImport
{
    private const int MaxMetrics = 200;
    private const int MaxNotes = 40;

    public static SubmitFindingRequest ToFinding(InspectRun run, ImportSettings settings, out IReadOnlyList<string> notes)
    {
        var remarks = Repairs(run.TextRepairs);
        if (!run.IsComplete && !settings.AllowIncomplete)
        {
            throw new IncompleteRunException(run.Status, run.Status switch
            {
                "cancelled" => "the run was cancelled before it finished; import it anyway with --allow-incomplete (it will be marked cancelled)",
                "error" => $"the run ended in an error ({Clip(run.ErrorMessage ?? "no message", 500)}); import it anyway with --allow-incomplete (it will be marked as an error)",
                _ => "the run never finished (only its journal is in the archive: it crashed or is still running); import it anyway with --allow-incomplete",
            });
        }
        var (provider, name) = SplitModel(run.Model);
        var metrics = new List<Metric>();
        foreach (var score in run.Scores)
        {
            var stderr = score.Metrics.FirstOrDefault(m => m.Name == "stderr" && double.IsFinite(m.Value));
            foreach (var metric in score.Metrics.Where(m => m.Name != "stderr"))
            {
                if (!double.IsFinite(metric.Value))
                {
                    remarks.Add($"{Clip(score.Scorer, 200)}/{Clip(metric.Name, 200)} was {Describe(metric.Value)} in the log and is left out");
                    continue;
                }
                var m = new Metric { Name = Clip(metric.Name, 200), Scorer = Clip(score.Scorer, 200), Value = metric.Value };
                if (stderr is not null)
                {
                    m.Stderr = stderr.Value;
                }
                metrics.Add(m);
            }
        }
        var status = run.Status switch
        {
            "success" => RunStatus.Success,
            "cancelled" => RunStatus.Cancelled,
            "error" => RunStatus.Error,
            _ => RunStatus.Started,
        };
        var headline = string.Join(", ", metrics.Take(3).Select(m => $"{m.Scorer}/{m.Name} {m.Value.ToString("0.###", CultureInfo.InvariantCulture)}"
            + (m.HasStderr ? $" ± {m.Stderr.ToString("0.###", CultureInfo.InvariantCulture)}" : "")));
        var incomplete = run.IsComplete ? "" : $" Status: {run.Status} (incomplete run).";
        var title = settings.Title ?? $"{run.Task}: {run.Model}" + (run.IsComplete ? "" : $" ({run.Status})");
        var dataset = run.Dataset.Length > 0 ? $"{run.Dataset}, " : "";
        var summary = $"Inspect run {run.RunId} of {run.Task} ({dataset}{run.CompletedSamples} of {run.TotalSamples} samples) on {run.Model}"
            + (headline.Length > 0 ? $": {headline}." : ".") + incomplete;

        var content = new FindingContent
        {
            Title = Clip(title, 200),
            Summary = Clip(summary, 4000),
            Model = new ModelUnderTest { Developer = Clip(settings.Developer ?? provider, 200), Name = Clip(name, 200), Version = "", Stage = settings.Stage },
            Evaluation = new Evaluation
            {
                Framework = "inspect_ai",
                FrameworkVersion = Clip(run.InspectVersion, 200),
                Task = Clip(run.Task, 200),
                Method = settings.Method,
                RiskDomain = settings.RiskDomain,
                Dataset = Clip(run.Dataset, 200),
                SampleCount = run.TotalSamples,
                CompletedSampleCount = run.CompletedSamples,
                Status = status,
                RunId = Clip(run.RunId, 200),
                StartedAt = run.StartedAt is { } s ? Timestamp.FromDateTimeOffset(s) : null,
                CompletedAt = run.CompletedAt is { } c && (run.StartedAt is null || c >= run.StartedAt) ? Timestamp.FromDateTimeOffset(c) : null,
            },
            Severity = settings.Severity,
        };
        content.Metrics.AddRange(metrics.Take(MaxMetrics));
        if (metrics.Count > MaxMetrics)
        {
            remarks.Add($"the log has {metrics.Count} metrics; the first {MaxMetrics} are kept, the most a finding holds");
        }
        if (settings.FileSha256.Length == 64)
        {
            // The log itself stays with the institute; the finding names it by hash.
            content.Artifacts.Add(new Artifact
            {
                Name = Clip(settings.FileName.Length > 0 ? settings.FileName : $"{run.RunId}.{run.Format}", 200),
                MediaType = run.Format == "eval" ? "application/zip" : "application/json",
                Sha256 = settings.FileSha256,
                SizeBytes = settings.FileSize,
            });
        }
        // Written last, so that it carries every remark, those of the mapping included.
        content.Narrative = Narrative(run, remarks);
        notes = remarks;
        return new SubmitFindingRequest { Content = content, Label = settings.Label, Policy = settings.Policy };
    }

    // Every value from the log is clipped here too: the narrative has a limit of its own (64 KiB).
    private static string Narrative(InspectRun run, List<string> remarks)
    {
        var text = new StringBuilder();
        string Short(string value) => Clip(value, 200);
        text.Append(CultureInfo.InvariantCulture, $"Imported from an Inspect {(run.Format == "eval" ? ".eval archive" : ".json log")} (schema {run.SchemaVersion}).\n");
        text.Append(CultureInfo.InvariantCulture, $"Task {Short(run.Task)}{(run.TaskFile.Length > 0 ? $" ({Short(run.TaskFile)})" : "")}, model {Short(run.Model)}{(run.InspectVersion.Length > 0 ? $", inspect_ai {Short(run.InspectVersion)}" : "")}.\n");
        text.Append(CultureInfo.InvariantCulture, $"Run {Short(run.RunId)}{(run.EvalId.Length > 0 ? $", eval {Short(run.EvalId)}" : "")}{(run.Revision.Length > 0 ? $", revision {Short(run.Revision)}" : "")}.\n");
        text.Append(CultureInfo.InvariantCulture, $"Samples: {run.CompletedSamples} completed of {run.TotalSamples}{(run.DatasetSamples > 0 ? $" (dataset of {run.DatasetSamples})" : "")}.\n");
        if (run.TotalTokens is { } tokens)
        {
            text.Append(CultureInfo.InvariantCulture, $"Model usage: {tokens} tokens.\n");
        }
        if (run.FromJournal)
        {
            text.Append("The archive had no header: the run crashed or was still running; this is read from its journal.\n");
        }
        if (run.ErrorMessage is { } error)
        {
            text.Append(CultureInfo.InvariantCulture, $"Error: {Clip(error, 2000)}\n");
        }
        foreach (var remark in remarks.Take(MaxNotes))
        {
            text.Append(CultureInfo.InvariantCulture, $"Note: {remark}.\n");
        }
        if (remarks.Count > MaxNotes)
        {
            text.Append(CultureInfo.InvariantCulture, $"And {remarks.Count - MaxNotes} more notes.\n");
        }
        return text.ToString();
    }

    // One note per field repaired, up to a few dozen; a log broken everywhere gets one more that counts the rest.
    private static List<string> Repairs(IReadOnlyList<TextRepair> repairs)
    {
        var notes = repairs.Take(MaxNotes)
            .Select(r => $"{Clip(r.Path, 200)} in the log was not valid Unicode text; {(r.Replaced == 1 ? "one character is" : $"{r.Replaced} characters are")} replaced with U+FFFD")
            .ToList();
        if (repairs.Count > MaxNotes)
        {
            notes.Add($"{repairs.Count - MaxNotes} more values in the log were not valid Unicode text and have U+FFFD in place of the bad characters");
        }
        return notes;
    }

    // "openai/gpt-4o" → provider openai, model gpt-4o; a name without a provider keeps it whole.
    private static (string Provider, string Name) SplitModel(string model)
    {
        var slash = model.IndexOf('/', StringComparison.Ordinal);
        return slash <= 0 ? ("unknown", model.Length > 0 ? model : "unknown") : (model[..slash], model[(slash + 1)..]);
    }

    private static string Describe(double value) => double.IsNaN(value) ? "NaN" : value > 0 ? "Infinity" : "-Infinity";

    private static string Clip(string text, int max) => TextCut.Clip(text, max);
}
