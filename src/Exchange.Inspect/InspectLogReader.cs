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
    private static readonly JsonShape Metric = JsonShape.Object(("name", JsonShape.Value), ("value", JsonShape.Value));

    // Only what the finding is made of: samples, messages, task arguments and the rest are passed
    // over as they stream, whatever they hold; sample ids are only counted.
    private static readonly JsonShape Log = JsonShape.Object(
        ("version", JsonShape.Value),
        ("status", JsonShape.Value),
        ("eval", JsonShape.Object(
            ("run_id", JsonShape.Value), ("eval_id", JsonShape.Value), ("task", JsonShape.Value), ("task_file", JsonShape.Value),
            ("model", JsonShape.Value), ("created", JsonShape.Value),
            ("dataset", JsonShape.Object(("name", JsonShape.Value), ("samples", JsonShape.Value), ("sample_ids", JsonShape.Count))),
            ("config", JsonShape.Object(("limit", JsonShape.Value))),
            ("packages", JsonShape.Object(("inspect_ai", JsonShape.Value))),
            ("revision", JsonShape.Object(("commit", JsonShape.Value))))),
        ("results", JsonShape.Object(
            ("total_samples", JsonShape.Value), ("completed_samples", JsonShape.Value),
            ("scores", JsonShape.Array(JsonShape.Object(("name", JsonShape.Value), ("scorer", JsonShape.Value), ("metrics", JsonShape.Map(Metric))))),
            ("scorer", JsonShape.Object(("name", JsonShape.Value))),
            ("metrics", JsonShape.Map(Metric)))),
        ("stats", JsonShape.Object(
            ("started_at", JsonShape.Value), ("completed_at", JsonShape.Value),
            ("model_usage", JsonShape.Map(JsonShape.Object(("total_tokens", JsonShape.Value)))))),
        ("error", JsonShape.Object(("message", JsonShape.Value))));

    /// <summary>Reads the log at <paramref name="path"/>; see <see cref="Read(Stream, Action{long}?, InspectLimits?, CancellationToken)"/>.</summary>
    public static InspectRun Read(string path, Action<long>? progress = null, InspectLimits? limits = null, CancellationToken cancellationToken = default)
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
            return Read(file, progress, limits, cancellationToken);
        }
    }

    /// <summary>
    /// Reads from a seekable stream (a file): a zip archive by its magic number, JSON otherwise. The
    /// memory and work it takes are bounded by <paramref name="limits"/> (default
    /// <see cref="InspectLimits.Default"/>), not by the file.
    /// </summary>
    /// <param name="progress">Called with the bytes of the file read so far.</param>
    /// <exception cref="InspectFormatException">Not a readable Inspect log, or beyond a limit; the message says what and where.</exception>
    /// <exception cref="OperationCanceledException"><paramref name="cancellationToken"/> was cancelled.</exception>
    public static InspectRun Read(Stream stream, Action<long>? progress = null, InspectLimits? limits = null, CancellationToken cancellationToken = default)
    {
        limits ??= InspectLimits.Default;
        if (stream.Length == 0)
        {
            throw new InspectFormatException("the file is empty");
        }
        return EvalArchive.LooksLikeZip(stream)
            ? ReadEval(stream, progress, limits, cancellationToken)
            : ReadJson(stream, progress, limits, cancellationToken);
    }

    private static InspectRun ReadJson(Stream stream, Action<long>? progress, InspectLimits limits, CancellationToken cancellationToken)
    {
        using var literals = new NonFiniteLiteralStream(stream);
        var log = SelectiveJsonReader.Read(literals, Log, limits, progress, cancellationToken);
        return Build(log, "json", fromJournal: false, journalSamples: 0);
    }

    private static InspectRun ReadEval(Stream stream, Action<long>? progress, InspectLimits limits, CancellationToken cancellationToken)
    {
        var archive = EvalArchive.Open(stream, limits);
        archive.Verify(progress, cancellationToken);
        if (archive.Find("header.json") is var header and >= 0)
        {
            return Build(ReadEntry(archive, header, Log, limits, cancellationToken), "eval", fromJournal: false, journalSamples: 0);
        }
        var start = archive.Find("_journal/start.json");
        if (start < 0)
        {
            throw new InspectFormatException("the .eval archive has neither header.json nor _journal/start.json: not an Inspect log");
        }
        // The run crashed before writing its header: what started, and how many samples finished.
        var completed = 0L;
        foreach (var summary in archive.StartingWith("_journal/summaries/"))
        {
            completed += Number(ReadEntry(archive, summary, JsonShape.Count, limits, cancellationToken).Root) is { } count ? (long)count : 0;
        }
        var journal = ReadEntry(archive, start, Log, limits, cancellationToken);
        if (journal.Root is JsonObject started)
        {
            started.TryAdd("status", JsonValue.Create("started"));
        }
        return Build(journal, "eval", fromJournal: true, journalSamples: completed);
    }

    private static SelectedJson ReadEntry(EvalArchive archive, int entry, JsonShape shape, InspectLimits limits, CancellationToken cancellationToken)
    {
        try
        {
            using var literals = new NonFiniteLiteralStream(archive.OpenEntry(entry));
            return SelectiveJsonReader.Read(literals, shape, limits, cancellationToken: cancellationToken);
        }
        catch (InspectFormatException e)
        {
            throw new InspectFormatException($"{archive.NameOf(entry)} in the .eval archive: {e.Message}", e);
        }
        catch (InvalidDataException e)
        {
            throw new InspectFormatException($"{archive.NameOf(entry)} in the .eval archive cannot be decompressed: {e.Message}", e);
        }
    }

    private static InspectRun Build(SelectedJson log, string format, bool fromJournal, long journalSamples)
    {
        if (log.Root is not JsonObject parts)
        {
            throw new InspectFormatException("the file is JSON but not an object: not an Inspect log");
        }
        if (parts["eval"] is not JsonObject eval)
        {
            throw new InspectFormatException("not an Inspect log: there is no 'eval' section");
        }
        var status = Text(parts["status"]);
        if (status is not ("started" or "success" or "cancelled" or "error"))
        {
            throw new InspectFormatException($"not an Inspect log: status '{status}' is not started, success, cancelled or error");
        }
        var results = parts["results"] as JsonObject;
        var stats = parts["stats"] as JsonObject;
        var dataset = eval["dataset"] as JsonObject;
        var sampleIds = Number(dataset?["sample_ids"]) ?? 0;
        var datasetSamples = Number(dataset?["samples"]) ?? 0;
        var total = Number(results?["total_samples"]) ?? (sampleIds > 0 ? sampleIds : Number((eval["config"] as JsonObject)?["limit"]) ?? 0);
        return new InspectRun
        {
            Format = format,
            SchemaVersion = (int)(Number(parts["version"]) ?? 0),
            Status = status,
            ErrorMessage = Text((parts["error"] as JsonObject)?["message"]),
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
            TextRepairs = log.Repairs.Count == 0 ? [] : log.Repairs,
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
