using System.IO.Compression;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Exchange.Domain.Findings;
using Exchange.TestInputs;
using Exchange.V1;

namespace Exchange.Inspect.Tests;

/// <summary>
/// Text that is not valid Unicode anywhere in a log, and text cut where a character straddles a
/// limit: generated over every string of every sample log, and over every field that is clipped.
/// </summary>
public sealed class InvalidTextTests
{
    private const string Mark = "@@HOSTILE@@";
    private static readonly UTF8Encoding Strict = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    // As written in the file: escapes that leave a surrogate unpaired, and bytes that are not UTF-8.
    private static readonly byte[][] Invalid =
    [
        "\\ud83d"u8.ToArray(), "\\ude00"u8.ToArray(), "\\ude00\\ud83d"u8.ToArray(), "x\\ud83dx"u8.ToArray(),
        [0xFF], [0xED, 0xA0, 0xBD], [0xE2, 0x82],
    ];

    // Clusters of several UTF-16 units each: an emoji, a family joined by ZWJ, a flag, a letter with
    // a combining accent, a Hangul syllable of conjoining jamo, a thumbs-up with a skin tone.
    private static readonly string[] Graphemes = ["\U0001F600", "\U0001F468\u200D\U0001F469\u200D\U0001F467", "\U0001F1EF\U0001F1F5", "e\u0301", "\u1112\u1161\u11AB", "\U0001F44D\U0001F3FD"];

    private static readonly ImportSettings Settings = new()
    {
        Label = new Label { Level = TlpLevel.Green },
        Policy = new AccessPolicy { RecipientGroups = { "network" } },
        RiskDomain = RiskDomain.Cyber,
        AllowIncomplete = true,
        FileName = "log.json",
        FileSha256 = new string('a', 64),
        FileSize = 1,
    };

    private static string Sample(string name) => Path.Combine(AppContext.BaseDirectory, "samples", name);

    public static TheoryData<string> Samples() => ["01_log_formats.json", "03_cancelled_popularity.json", "05_v1_with_nan.json", "02_log_formats.eval"];

    [Theory]
    [MemberData(nameof(Samples))]
    public void Invalid_text_in_any_string_of_a_log_is_replaced_and_the_finding_says_where(string sample)
    {
        var document = Document(sample);
        var paths = Strings(document).Select(s => s.Path).ToList();
        Assert.NotEmpty(paths);
        foreach (var path in paths)
        {
            foreach (var bad in Invalid)
            {
                var copy = document.DeepClone();
                var value = Strings(copy).Single(s => s.Path == path).Node;
                value.ReplaceWith(JsonValue.Create(value.GetValue<string>() + Mark));
                var bytes = Pack(sample, Replace(Encoding.UTF8.GetBytes(copy.ToJsonString()), bad));
                if (path == "status")
                {
                    // A word from a closed list: anything else is not an Inspect log.
                    Assert.Contains("status", Assert.Throws<InspectFormatException>(() => InspectLogReader.Read(new MemoryStream(bytes))).Message);
                    continue;
                }
                var run = InspectLogReader.Read(new MemoryStream(bytes));
                var finding = InspectImport.ToFinding(run, Settings, out var notes);

                var repaired = run.TextRepairs.Any(r => r.Path == path);
                var texts = RunStrings(run).Concat(ProtoStrings.All(finding).Select(s => s.Value)).Concat(notes).ToList();
                Assert.All(texts, t => Strict.GetByteCount(t));
                if (texts.Any(t => t.Contains('\uFFFD')))
                {
                    Assert.True(repaired, $"{sample}: {path} came out with U+FFFD and no repair named it");
                    Assert.Contains(notes, n => n.StartsWith(path + " in the log was not valid Unicode text", StringComparison.Ordinal));
                    Assert.Contains($"Note: {path} in the log was not valid Unicode text", finding.Content.Narrative);
                }
                Assert.True(repaired == run.TextRepairs.Count > 0, $"{sample}: {path}: repairs {string.Join(", ", run.TextRepairs)}");
            }
        }
    }

    public static TheoryData<string, int> ClippedFields() => new()
    {
        { "eval.task", 200 }, { "eval.model", 200 }, { "eval.dataset.name", 200 }, { "eval.run_id", 200 },
        { "eval.packages.inspect_ai", 200 }, { "eval.task_file", 200 }, { "error.message", 2000 },
        { "results.scores[0].name", 200 }, { "results.scores[0].metrics.accuracy.name", 200 },
    };

    [Theory]
    [MemberData(nameof(ClippedFields))]
    public void Text_is_cut_between_graphemes_wherever_the_limit_falls(string path, int limit)
    {
        var document = Document("03_cancelled_popularity.json");
        document["error"] = new JsonObject { ["message"] = "boom" };
        foreach (var grapheme in Graphemes)
        {
            for (var before = limit - 12; before <= limit + 2; before++)
            {
                var copy = document.DeepClone();
                var text = new string('t', before) + grapheme + "tail";
                var node = Strings(copy).Single(s => s.Path == path).Node;
                node.ReplaceWith(JsonValue.Create(path == "eval.model" ? "prov/" + text : text));

                var finding = InspectImport.ToFinding(InspectLogReader.Read(new MemoryStream(Encoding.UTF8.GetBytes(copy.ToJsonString()))), Settings, out _);

                foreach (var (field, value) in ProtoStrings.All(finding))
                {
                    Strict.GetByteCount(value);
                    Assert.DoesNotContain('\uFFFD', value);
                    // Wherever the run of t's shows, what follows it is the whole cluster, the ellipsis of a cut, or nothing.
                    var run = value.IndexOf(new string('t', 100), StringComparison.Ordinal);
                    if (run >= 0)
                    {
                        var after = value[(value.IndexOf(new string('t', before), run, StringComparison.Ordinal) is var full and >= 0 ? full + before : value.Length)..];
                        Assert.True(after.Length == 0 || after.StartsWith('…') || after.StartsWith(grapheme, StringComparison.Ordinal),
                            $"{field} cuts {Escape(grapheme)} after {before} characters in {path}: ...{Escape(after[..Math.Min(after.Length, 8)])}");
                    }
                }
            }
        }
    }

    [Fact]
    public void The_lone_surrogate_found_in_a_task_name_is_replaced_and_the_finding_says_so()
    {
        var run = InspectLogReader.Read(Path.Combine(AppContext.BaseDirectory, "cases", "inspect-lone-surrogate-in-task-name.json"));
        var finding = InspectImport.ToFinding(run, Settings, out var notes);

        Assert.Equal("case09_task_\uFFFD_half", finding.Content.Evaluation.Task);
        Assert.Equal(["eval.task in the log was not valid Unicode text; one character is replaced with U+FFFD"], notes);
        Assert.Contains("Note: eval.task in the log was not valid Unicode text", finding.Content.Narrative);
        finding.RequestId = "r";
        Assert.Empty(new SubmissionValidator(FindingLimits.Default, manifest: null).Validate(finding));
    }

    [Fact]
    public void The_emoji_found_at_the_cut_of_a_task_name_is_left_out_whole()
    {
        var run = InspectLogReader.Read(Path.Combine(AppContext.BaseDirectory, "cases", "inspect-emoji-at-clip-point.json"));
        var finding = InspectImport.ToFinding(run, Settings, out _);

        Assert.Equal(new string('t', 198) + "…", finding.Content.Evaluation.Task);
        Assert.DoesNotContain(ProtoStrings.All(finding), s => s.Value.Contains('\uFFFD'));
    }

    private static string Escape(string text) => string.Concat(text.Select(c => c < 128 ? c.ToString() : $"\\u{(int)c:x4}"));

    // The sample as a JSON document (its bare NaN words quoted, as the reader sees them); for an
    // archive, its header.
    private static JsonNode Document(string sample)
    {
        byte[] bytes;
        if (sample.EndsWith(".eval", StringComparison.Ordinal))
        {
            using var zip = ZipFile.OpenRead(Sample(sample));
            using var header = zip.GetEntry("header.json")!.Open();
            using var copy = new MemoryStream();
            header.CopyTo(copy);
            bytes = copy.ToArray();
        }
        else
        {
            bytes = File.ReadAllBytes(Sample(sample));
        }
        using var literals = new NonFiniteLiteralStream(new MemoryStream(bytes));
        return JsonNode.Parse(literals)!;
    }

    // A .json sample is the document itself; an .eval sample gets it back as its header.
    private static byte[] Pack(string sample, byte[] document)
    {
        if (!sample.EndsWith(".eval", StringComparison.Ordinal))
        {
            return document;
        }
        using var zip = ZipFile.OpenRead(Sample(sample));
        return ZipWriter.Write(zip.Entries.Select(e =>
        {
            using var content = e.Open();
            using var copy = new MemoryStream();
            content.CopyTo(copy);
            return (e.FullName, e.FullName == "header.json" ? document : copy.ToArray());
        }).ToList(), method: 8);
    }

    private static byte[] Replace(byte[] json, byte[] bad)
    {
        var mark = Encoding.UTF8.GetBytes(Mark);
        var at = json.AsSpan().IndexOf(mark);
        return [.. json[..at], .. bad, .. json[(at + mark.Length)..]];
    }

    // Every string value with its path, named as the reader names them: eval.dataset.name, results.scores[0].name.
    private static IEnumerable<(string Path, JsonValue Node)> Strings(JsonNode node, string path = "")
    {
        switch (node)
        {
            case JsonObject obj:
                foreach (var (name, child) in obj.ToList())
                {
                    foreach (var found in child is null ? [] : Strings(child, path.Length == 0 ? name : $"{path}.{name}"))
                    {
                        yield return found;
                    }
                }
                break;
            case JsonArray array:
                for (var i = 0; i < array.Count; i++)
                {
                    foreach (var found in array[i] is { } child ? Strings(child, $"{path}[{i}]") : [])
                    {
                        yield return found;
                    }
                }
                break;
            case JsonValue value when value.GetValueKind() == JsonValueKind.String:
                yield return (path, value);
                break;
        }
    }

    private static IEnumerable<string> RunStrings(InspectRun run) =>
        new[] { run.Task, run.TaskFile, run.Model, run.Dataset, run.RunId, run.EvalId, run.InspectVersion, run.Revision, run.ErrorMessage ?? "", run.Status }
            .Concat(run.Scores.SelectMany(s => s.Metrics.Select(m => m.Name).Append(s.Scorer)))
            .Concat(run.TextRepairs.Select(r => r.Path));
}
