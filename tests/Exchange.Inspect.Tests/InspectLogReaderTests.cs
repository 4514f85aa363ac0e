using System.IO.Compression;
using System.Text;
using CsCheck;
using Exchange.Inspect;
using Exchange.TestInputs;

namespace Exchange.Inspect.Tests;

/// <summary>Every sample log Inspect's own tests use, and the damaged, huge and odd ones it meets in the wild.</summary>
[Collection(nameof(MemoryMeasured))]
public sealed class InspectLogReaderTests
{
    private static string Sample(string name) => Path.Combine(AppContext.BaseDirectory, "samples", name);

    private static string Temp(string name) => Path.Combine(Path.GetTempPath(), "exchange-inspect-tests", Guid.NewGuid().ToString("N"), name);

    private static string Write(string name, byte[] content)
    {
        var path = Temp(name);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllBytes(path, content);
        return path;
    }

    private static List<(string Name, byte[] Content)> EntriesOf(string evalPath)
    {
        using var zip = ZipFile.OpenRead(evalPath);
        return zip.Entries.Select(e =>
        {
            using var stream = e.Open();
            using var copy = new MemoryStream();
            stream.CopyTo(copy);
            return (e.FullName, copy.ToArray());
        }).ToList();
    }

    [Fact]
    public void A_schema_2_json_log_reads_with_its_scores_times_and_counts()
    {
        var run = InspectLogReader.Read(Sample("01_log_formats.json"));

        Assert.Equal("json", run.Format);
        Assert.Equal(2, run.SchemaVersion);
        Assert.Equal("success", run.Status);
        Assert.Equal("BpiPFmbVcMCRUAXv8ovCTx", run.RunId);
        Assert.Equal("popularity", run.Task);
        Assert.Equal("ollama/llama3.1", run.Model);
        Assert.Equal("popularity", run.Dataset);
        Assert.Equal(100, run.DatasetSamples);
        Assert.Equal(1, run.TotalSamples);
        Assert.Equal(1, run.CompletedSamples);
        Assert.Equal("0.3.41.dev123+g9ad2119a.d20241015", run.InspectVersion);
        Assert.Equal(new DateTimeOffset(2024, 10, 15, 12, 53, 13, TimeSpan.FromHours(-4)), run.StartedAt);
        var score = Assert.Single(run.Scores);
        Assert.Equal("match", score.Scorer);
        Assert.Equal([("accuracy", 0.0), ("stderr", 0.0)], score.Metrics.Select(m => (m.Name, m.Value)));
        Assert.Equal(68, run.TotalTokens);
    }

    [Fact]
    public void The_same_run_as_an_eval_archive_reads_the_same()
    {
        var json = InspectLogReader.Read(Sample("01_log_formats.json"));
        var eval = InspectLogReader.Read(Sample("02_log_formats.eval"));

        Assert.Equal("eval", eval.Format);
        Assert.Equal(json with { Format = "eval", Scores = [] }, eval with { Scores = [] });
        Assert.Equal(json.Scores.Single().Metrics, eval.Scores.Single().Metrics);
    }

    [Fact]
    public void Zstd_compressed_entries_are_read()
    {
        var path = Write("zstd.eval", ZipWriter.Write(EntriesOf(Sample("02_log_formats.eval")), method: 93));
        var run = InspectLogReader.Read(path);
        Assert.Equal("BpiPFmbVcMCRUAXv8ovCTx", run.RunId);
        Assert.Equal(0.0, run.Scores.Single().Metrics.Single(m => m.Name == "accuracy").Value);
    }

    [Fact]
    public void A_crashed_run_without_a_header_is_read_from_its_journal_as_started()
    {
        var entries = EntriesOf(Sample("02_log_formats.eval")).Where(e => e.Name is "_journal/start.json" || e.Name.StartsWith("_journal/summaries/", StringComparison.Ordinal) || e.Name.StartsWith("samples/", StringComparison.Ordinal));
        var run = InspectLogReader.Read(Write("crashed.eval", ZipWriter.Write(entries, method: 8)));

        Assert.Equal("started", run.Status);
        Assert.True(run.FromJournal);
        Assert.Equal(1, run.CompletedSamples);
        Assert.Equal("popularity", run.Task);
        Assert.Empty(run.Scores);
    }

    [Fact]
    public void A_cancelled_run_says_so()
    {
        var run = InspectLogReader.Read(Sample("03_cancelled_popularity.json"));
        Assert.Equal("cancelled", run.Status);
        Assert.False(run.IsComplete);
        Assert.Equal(3, run.CompletedSamples);
        Assert.Equal(0.6666666666666666, run.Scores.Single().Metrics.Single(m => m.Name == "accuracy").Value);
    }

    [Fact]
    public void A_schema_1_log_with_a_bare_NaN_and_times_without_offset_reads()
    {
        var run = InspectLogReader.Read(Sample("05_v1_with_nan.json"));

        Assert.Equal(1, run.SchemaVersion);
        var score = Assert.Single(run.Scores);
        Assert.Equal("model_graded_fact", score.Scorer);
        Assert.True(double.IsNaN(score.Metrics.Single(m => m.Name == "accuracy").Value));
        Assert.Equal(0.0, score.Metrics.Single(m => m.Name == "bootstrap_std").Value);
        Assert.Equal(new DateTimeOffset(2024, 5, 5, 7, 59, 35, TimeSpan.Zero), run.StartedAt);
    }

    [Fact]
    public void Infinity_words_string_sample_ids_and_empty_times_are_handled()
    {
        var json = """
            {"version": 2, "status": "success",
             "eval": {"run_id": "r1", "task": "t", "model": "anthropic/claude", "created": "",
                      "dataset": {"name": "d", "samples": 3, "sample_ids": ["a", "b", 3]}},
             "samples": [{"id": "a", "scores": {"s": {"value": -Infinity}}}, {"id": 2, "scores": {"s": {"value": "NaN in a string stays"}}}],
             "results": {"total_samples": 3, "completed_samples": 3,
                         "scores": [{"name": "s", "scorer": "s", "metrics": {"mean": {"name": "mean", "value": Infinity}, "max": {"name": "max", "value": -Infinity}, "min": {"name": "min", "value": -1.5}}}]},
             "stats": {"started_at": "", "completed_at": "2025-01-01T00:00:00+02:00"}}
            """;
        var run = InspectLogReader.Read(Write("inf.json", Encoding.UTF8.GetBytes(json)));

        Assert.Equal(3, run.TotalSamples);
        Assert.Null(run.StartedAt);
        Assert.Null(run.Created);
        Assert.Equal(new DateTimeOffset(2024, 12, 31, 22, 0, 0, TimeSpan.Zero), run.CompletedAt);
        var metrics = run.Scores.Single().Metrics.ToDictionary(m => m.Name, m => m.Value);
        Assert.Equal(double.PositiveInfinity, metrics["mean"]);
        Assert.Equal(double.NegativeInfinity, metrics["max"]);
        Assert.Equal(-1.5, metrics["min"]);
    }

    [Fact]
    public void A_log_of_hundreds_of_megabytes_is_read_without_holding_its_samples()
    {
        var path = Temp("big.json");
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        using (var writer = new StreamWriter(path, false, new UTF8Encoding(false), 1 << 20))
        {
            writer.Write("""{"version": 2, "status": "success", "eval": {"run_id": "big", "task": "t", "model": "m/x"}, "samples": [""");
            var sample = "{\"id\": %ID%, \"input\": \"" + new string('x', 4000) + "\", \"scores\": {\"s\": {\"value\": NaN}}}";
            for (var i = 0; i < 50_000; i++)
            {
                writer.Write(i == 0 ? "" : ",");
                writer.Write(sample.Replace("%ID%", i % 2 == 0 ? i.ToString(System.Globalization.CultureInfo.InvariantCulture) : $"\"s{i}\""));
            }
            writer.Write("""], "results": {"total_samples": 50000, "completed_samples": 50000, "scores": [{"name": "s", "metrics": {"accuracy": {"name": "accuracy", "value": 0.5}}}]}}""");
        }
        Assert.True(new FileInfo(path).Length > 190_000_000);
        var before = GC.GetTotalMemory(forceFullCollection: true);
        long peak = 0;

        var run = InspectLogReader.Read(path, _ => peak = Math.Max(peak, GC.GetTotalMemory(false)));

        Assert.Equal(50_000, run.TotalSamples);
        Assert.Equal(0.5, run.Scores.Single().Metrics.Single().Value);
        Assert.True(peak - before < 64L * 1024 * 1024, $"the heap grew by {(peak - before) / 1024 / 1024} MiB while reading");
        File.Delete(path);
    }

    [Fact]
    public void A_truncated_json_log_is_refused_saying_so()
    {
        var bytes = File.ReadAllBytes(Sample("01_log_formats.json"));
        var e = Assert.Throws<InspectFormatException>(() => InspectLogReader.Read(Write("cut.json", bytes[..(bytes.Length / 2)])));
        Assert.Contains("truncated", e.Message);
    }

    [Fact]
    public void A_truncated_eval_archive_is_refused_saying_so()
    {
        var bytes = File.ReadAllBytes(Sample("02_log_formats.eval"));
        var e = Assert.Throws<InspectFormatException>(() => InspectLogReader.Read(Write("cut.eval", bytes[..(bytes.Length - 100)])));
        Assert.Contains("truncated", e.Message);
    }

    [Theory]
    [InlineData("[1, 2, 3]", "not an object")]
    [InlineData("{\"version\": 2, \"status\": \"success\"}", "no 'eval' section")]
    [InlineData("{\"version\": 2, \"status\": \"finished\", \"eval\": {}}", "status 'finished'")]
    [InlineData("{\"version\": 2, \"eval\": {\"task\": \"t\"} oops", "not valid JSON at byte")]
    [InlineData("", "empty")]
    public void Malformed_logs_are_refused_with_a_clear_error(string content, string expected)
    {
        var e = Assert.Throws<InspectFormatException>(() => InspectLogReader.Read(Write("bad.json", Encoding.UTF8.GetBytes(content))));
        Assert.Contains(expected, e.Message);
    }

    [Fact]
    public void An_archive_whose_header_is_damaged_is_refused_naming_the_entry()
    {
        var entries = EntriesOf(Sample("02_log_formats.eval")).Select(e => e.Name == "header.json" ? (e.Name, "{\"version\": 2, "u8.ToArray()) : e);
        var e = Assert.Throws<InspectFormatException>(() => InspectLogReader.Read(Write("damaged.eval", ZipWriter.Write(entries, method: 8))));
        Assert.Contains("header.json", e.Message);
    }

    [Theory]
    [InlineData("_journal/start.json")]
    [InlineData("samples/1_epoch_1.json")]
    [InlineData("header.json")]
    public void Damage_to_any_entry_of_an_archive_is_refused_even_in_parts_the_import_does_not_use(string entry)
    {
        var bytes = File.ReadAllBytes(Sample("02_log_formats.eval"));
        var at = LocalEntryDataOffset(bytes, entry) + 40;
        bytes[at] ^= 0x55;

        var e = Assert.Throws<InspectFormatException>(() => InspectLogReader.Read(Write("flipped.eval", bytes)));

        Assert.Contains(entry, e.Message);
    }

    // Where an entry's compressed bytes start, found from its local header.
    private static int LocalEntryDataOffset(byte[] zip, string name)
    {
        var nameBytes = Encoding.UTF8.GetBytes(name);
        for (var i = 0; i + 30 < zip.Length; i++)
        {
            if (BitConverter.ToUInt32(zip, i) == 0x04034b50 && zip.AsSpan(i + 30, Math.Min(nameBytes.Length, zip.Length - i - 30)).SequenceEqual(nameBytes))
            {
                return i + 30 + BitConverter.ToUInt16(zip, i + 26) + BitConverter.ToUInt16(zip, i + 28);
            }
        }
        throw new InvalidOperationException($"no entry {name}");
    }

    [Fact]
    public void Random_bytes_never_crash_the_reader()
    {
        Gen.Byte.Array[1, 400].Sample(bytes =>
        {
            var path = Write("random.bin", bytes);
            try
            {
                InspectLogReader.Read(path);
            }
            catch (InspectFormatException)
            {
            }
        }, iter: 300);
    }

    [Fact]
    public void Bare_words_are_quoted_only_outside_strings_whatever_the_chunking()
    {
        var json = """{"a": NaN, "b": "NaN -Infinity \" Infinity", "c": [-Infinity, Infinity, -1.5, -0], "d": "x\"NaN \\"}""";
        var expected = """{"a": "NaN", "b": "NaN -Infinity \" Infinity", "c": ["-Infinity", "Infinity", -1.5, -0], "d": "x\"NaN \\"}""";
        foreach (var chunk in new[] { 1, 2, 3, 7, 4096 })
        {
            using var stream = new NonFiniteLiteralStream(new ChunkedStream(Encoding.UTF8.GetBytes(json), chunk));
            using var reader = new StreamReader(stream);
            Assert.Equal(expected, reader.ReadToEnd());
        }
    }

    private sealed class ChunkedStream(byte[] data, int chunk) : MemoryStream(data)
    {
        public override int Read(byte[] buffer, int offset, int count) => base.Read(buffer, offset, Math.Min(count, chunk));

        public override int Read(Span<byte> buffer) => base.Read(buffer[..Math.Min(buffer.Length, chunk)]);
    }
}
