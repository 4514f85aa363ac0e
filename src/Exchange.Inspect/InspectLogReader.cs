using System.Globalization;
using System.Text.Json.Nodes;

namespace Exchange.Inspect;

/// <summary>
/// Reads an Inspect eval log — a .json log (schema 1 or 2) or a zip-based .eval archive (with its
/// header, or only its journal when the run crashed) — into an <see cref="InspectRun"/>, without
/// loading the samples.
/// </summary>
public static class InspectLogReader
{
    private static readonly HashSet<string> Kept = ["version", "status", "eval", "results", "stats", "error"];

    public static InspectRun Read(string path, Action<long>? progress = null)
    {
        FileStream file;
        try
        {
            file = File.OpenRead(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new InspectFormatException($"cannot read '{path}': {e.Message}", e);
        }
        using (file)
        {
            return Read(file, progress);
        }
    }

    /// <summary>Reads from a seekable stream (a file): a zip archive by its magic number, JSON otherwise.</summary>
    public static InspectRun Read(Stream stream, Action<long>? progress = null)
    {
        if (stream.Length == 0)
        {
            throw new InspectFormatException("the file is empty");
        }
        return EvalArchive.LooksLikeZip(stream) ? ReadEval(stream, progress) : ReadJson(stream, "json", progress);
    }

    private static InspectRun ReadJson(Stream stream, string format, Action<long>? progress)
    {
        using var literals = new NonFiniteLiteralStream(stream);
        var parts = TopLevelJson.Read(literals, Kept, progress);
        return Build(parts, format, fromJournal: false, journalSamples: 0);
    }

    private static InspectRun ReadEval(Stream stream, Action<long>? progress)
    {
        var archive = EvalArchive.Open(stream);
        archive.Verify(progress);
        if (archive.Contains("header.json"))
        {
            using var header = archive.OpenEntry("header.json");
            return ReadEntry(header, "header.json", parts => Build(parts, "eval", fromJournal: false, journalSamples: 0));
        }
        if (!archive.Contains("_journal/start.json"))
        {
            throw new InspectFormatException("the .eval archive has neither header.json nor _journal/start.json: not an Inspect log");
        }
        // The run crashed before writing its header: what started, and how many samples finished.
        var summaries = archive.Names.Count(n => n.StartsWith("_journal/summaries/", StringComparison.Ordinal));
        var completed = summaries > 0 ? CountSummaries(archive) : 0;
        using var start = archive.OpenEntry("_journal/start.json");
        return ReadEntry(start, "_journal/start.json", parts =>
        {
            parts.TryAdd("status", JsonValue.Create("started"));
            return Build(parts, "eval", fromJournal: true, journalSamples: completed);
        });
    }

    private static int CountSummaries(EvalArchive archive)
    {
        var count = 0;
        foreach (var name in archive.Names.Where(n => n.StartsWith("_journal/summaries/", StringComparison.Ordinal)))
        {
            using var entry = new NonFiniteLiteralStream(archive.OpenEntry(name));
            try
            {
                count += JsonNode.Parse(entry) is JsonArray items ? items.Count : 0;
            }
            catch (System.Text.Json.JsonException e)
            {
                throw new InspectFormatException($"{name} in the .eval archive is not valid JSON: {e.Message}", e);
            }
        }
        return count;
    }

    private static InspectRun ReadEntry(Stream entry, string name, Func<Dictionary<string, JsonNode?>, InspectRun> build)
    {
        try
        {
            using var literals = new NonFiniteLiteralStream(entry);
            return build(TopLevelJson.Read(literals, Kept));
        }
        catch (InspectFormatException e)
        {
            throw new InspectFormatException($"{name} in the .eval archive: {e.Message}", e);
        }
        catch (InvalidDataException e)
        {
            throw new InspectFormatException($"{name} in the .eval archive cannot be decompressed: {e.Message}", e);
        }
    }

    private static InspectRun Build(Dictionary<string, JsonNode?> parts, string format, bool fromJournal, int journalSamples)
    {
        if (parts.GetValueOrDefault("eval") is not JsonObject eval)
        {
            throw new InspectFormatException("not an Inspect log: there is no 'eval' section");
        }
        var status = Text(parts.GetValueOrDefault("status"));
        if (status is not ("started" or "success" or "cancelled" or "error"))
        {
            throw new InspectFormatException($"not an Inspect log: status '{status}' is not started, success, cancelled or error");
        }
        var results = parts.GetValueOrDefault("results") as JsonObject;
        var stats = parts.GetValueOrDefault("stats") as JsonObject;
        var dataset = eval["dataset"] as JsonObject;
        var sampleIds = (dataset?["sample_ids"] as JsonArray)?.Count ?? 0;
        var datasetSamples = Number(dataset?["samples"]) ?? 0;
        var total = Number(results?["total_samples"]) ?? (sampleIds > 0 ? sampleIds : Number((eval["config"] as JsonObject)?["limit"]) ?? 0);
        return new InspectRun
        {
            Format = format,
            SchemaVersion = (int)(Number(parts.GetValueOrDefault("version")) ?? 0),
            Status = status,
            ErrorMessage = Text((parts.GetValueOrDefault("error") as JsonObject)?["message"]),
            RunId = Text(eval["run_id"]) ?? "",
            EvalId = Text(eval["eval_id"]) ?? "",
            Task = Text(eval["task"]) ?? "",
            TaskFile = Text(eval["task_file"]) ?? "",
            Model = Text(eval["model"]) ?? "",
            Dataset = Text(dataset?["name"]) ?? "",
            DatasetSamples = (long)datasetSamples,
            TotalSamples = (long)total,
            // Schema 1 logs do not count completed samples; a successful run completed all of them.
            CompletedSamples = (long)(Number(results?["completed_samples"]) ?? (status == "success" ? total : journalSamples)),
            InspectVersion = Text((eval["packages"] as JsonObject)?["inspect_ai"]) ?? "",
            Revision = Text((eval["revision"] as JsonObject)?["commit"]) ?? "",
            Created = Time(eval["created"]),
            StartedAt = Time(stats?["started_at"]),
            CompletedAt = Time(stats?["completed_at"]),
            Scores = Scores(results),
            TotalTokens = (stats?["model_usage"] as JsonObject)?.Sum(m => (long)(Number((m.Value as JsonObject)?["total_tokens"]) ?? 0)),
            FromJournal = fromJournal,
        };
    }

    // Schema 2: results.scores[] each with its metrics; schema 1: results.scorer and results.metrics.
    private static List<InspectScore> Scores(JsonObject? results)
    {
        if (results is null)
        {
            return [];
        }
        if (results["scores"] is JsonArray scores)
        {
            return scores.OfType<JsonObject>()
                .Select(s => new InspectScore(Text(s["name"]) ?? Text(s["scorer"]) ?? "score", Metrics(s["metrics"] as JsonObject)))
                .ToList();
        }
        if (results["metrics"] is JsonObject metrics)
        {
            return [new InspectScore(Text((results["scorer"] as JsonObject)?["name"]) ?? "score", Metrics(metrics))];
        }
        return [];
    }

    private static List<InspectMetric> Metrics(JsonObject? metrics) =>
        metrics?.Select(m => new InspectMetric(Text((m.Value as JsonObject)?["name"]) ?? m.Key, Number((m.Value as JsonObject)?["value"]) ?? double.NaN)).ToList() ?? [];

    private static string? Text(JsonNode? node) =>
        node is JsonValue value && value.TryGetValue<string>(out var text) ? text : null;

    // Numbers as numbers, or as the quoted words NaN / Infinity / -Infinity.
    private static double? Number(JsonNode? node)
    {
        if (node is not JsonValue value)
        {
            return null;
        }
        if (value.TryGetValue<long>(out var whole))
        {
            return whole;
        }
        if (value.TryGetValue<double>(out var number))
        {
            return number;
        }
        return value.TryGetValue<string>(out var text) && double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var parsed) ? parsed : null;
    }

    // Inspect writes times with or without an offset (none means UTC), and "" for none.
    private static DateTimeOffset? Time(JsonNode? node) =>
        Text(node) is { Length: > 0 } text && DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var time) ? time : null;
}
