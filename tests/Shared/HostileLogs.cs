using System.Text;

namespace Exchange.TestInputs;

/// <summary>
/// One generated Inspect log made to hurt a reader, and what a bounded reader does with it.
/// </summary>
/// <param name="Name">What it is, e.g. "giant string in a sample".</param>
/// <param name="Extension">"json" or "eval".</param>
/// <param name="Write">Writes the file (streaming: nothing of its size is held).</param>
/// <param name="Refusal">A phrase of the refusal a bounded reader gives; null when it reads the log.</param>
internal sealed record HostileLog(string Name, string Extension, Action<Stream> Write, string? Refusal)
{
    public override string ToString() => Name;

    /// <summary>Writes the log to a new file under <paramref name="folder"/> and returns its path.</summary>
    public string WriteTo(string folder)
    {
        Directory.CreateDirectory(folder);
        var path = Path.Combine(folder, $"{string.Concat(Name.Split(Path.GetInvalidFileNameChars().Append(' ').ToArray()))}.{Extension}");
        using var file = new FileStream(path, FileMode.Create, FileAccess.Write, FileShare.None, 1 << 20);
        Write(file);
        return path;
    }
}

/// <summary>
/// Inspect logs built to exhaust a reader that holds what it reads: giant strings, numbers and
/// names, deep nesting, huge arrays and maps, invalid text, and zip bombs of every kind, each about
/// <c>size</c> bytes (the bombs inflate to many times that), plus ordinary logs of the same size as a
/// baseline. Shared by the Inspect tests and the hostile-input benchmark.
/// </summary>
internal static class HostileLogs
{
    private const string Stats = """, "stats": {"started_at": "2026-01-01T00:00:00+00:00", "completed_at": "2026-01-01T00:10:00+00:00", "model_usage": {"prov/model": {"total_tokens": 15}}}""";
    private const string Results = """, "results": {"total_samples": 4, "completed_samples": 4, "scores": [{"name": "s", "scorer": "s", "metrics": {"accuracy": {"name": "accuracy", "value": 0.5}}}]}""";

    /// <summary>Ordinary logs of about <paramref name="size"/> bytes: what the hostile ones are measured against.</summary>
    public static IReadOnlyList<HostileLog> Baselines(long size) =>
    [
        new("normal log", "json", s => Log(s, samples: o => Samples(o, size, 4000)), null),
        new("normal archive", "eval", s => Archive(s, size, method: 93), null),
    ];

    public static IReadOnlyList<HostileLog> All(long size) =>
    [
        new("giant string in a sample", "json", s => Log(s, samples: o => { Write(o, "[{\"id\": 1, \"input\": \""); Repeat(o, "x", size); Write(o, "\"}]"); }), null),
        new("giant string in the task name", "json", s => Log(s, task: o => { Write(o, "\""); Repeat(o, "t", size); Write(o, "\""); }), "eval.task"),
        new("giant number in a sample", "json", s => Log(s, samples: o => { Write(o, "[{\"id\": "); Repeat(o, "9", size); Write(o, "}]"); }), null),
        new("giant number in the results", "json", s => Log(s, results: o => { Write(o, ", \"results\": {\"total_samples\": "); Repeat(o, "9", size); Write(o, "}"); }), "results.total_samples"),
        new("giant property name in a sample", "json", s => Log(s, samples: o => { Write(o, "[{\""); Repeat(o, "k", size); Write(o, "\": 1}]"); }), null),
        new("giant run of whitespace", "json", s => Log(s, samples: o => { Write(o, "["); Repeat(o, " ", size); Write(o, "]"); }), null),
        new("deep nesting in a sample", "json", s => Log(s, samples: o => { Repeat(o, "[", size / 2); Repeat(o, "]", size / 2); }), "deeper than 256 levels"),
        new("huge array of sample ids", "json", s => Log(s, sampleIds: o => { Write(o, "[0"); Repeat(o, ",1234567", size); Write(o, "]"); }), null),
        new("huge array of scores", "json", s => Log(s, results: o => { Write(o, ", \"results\": {\"scores\": [{}"); Repeat(o, ",{}", size); Write(o, "]}"); }), "more than 10,000 values"),
        new("huge map of model usage", "json", s => Log(s, stats: o => { Write(o, ", \"stats\": {\"model_usage\": {\"m\": {}"); RepeatNumbered(o, ", \"m{0}\": {{}}", size / 16); Write(o, "}}"); }), "more than 10,000 values"),
        new("lone surrogates everywhere", "json", s => Log(s, task: o => Write(o, "\"task\\ud83d\""), model: "\"prov/\\ude00model\"",
            samples: o => { Write(o, "[{\"input\": \""); Repeat(o, "\\ud83d", size); Write(o, "\"}]"); }), null),
        new("invalid UTF-8 in the task name", "json", s => Log(s, task: o => { Write(o, "\"task"); o.Write([0xFF, 0xC0, 0xED, 0xA0, 0xBD]); Write(o, "\""); }), null),
        new("deflate bomb that lies about its size", "eval", s => Bomb(s, size * 16, method: 8, declared: 1024), "inflates past the 1,024 bytes"),
        new("zstd bomb that lies about its size", "eval", s => Bomb(s, size * 16, method: 93, declared: 1024), "inflates past the 1,024 bytes"),
        new("zip entries declaring 20 GiB", "eval", s => HonestBomb(s), "decompress to 20.0 GiB"),
        new("zstd frame asking for a 128 MiB window", "eval", s => Window(s, size), "needs a zstd window"),
        new("giant string in an archive's header", "eval", s => GiantHeader(s, size), "eval.task"),
        new("zip directory of 20 MiB", "eval", s => BigDirectory(s), "zip directory is"),
        new("zip directory just under the limit, of long names", "eval", s => LongNames(s), null),
        new("zip directory just under the limit, of long extra fields", "eval", s => LongExtraFields(s), null),
        new("zip directory of 65,534 entries", "eval", s => ManyEntries(s), null),
        new("two entries of one name", "eval", s => Duplicate(s), "two entries named 'header.json'"),
    ];

    private static void Log(Stream o, Action<Stream>? task = null, string model = "\"prov/model\"", Action<Stream>? sampleIds = null,
        Action<Stream>? samples = null, Action<Stream>? results = null, Action<Stream>? stats = null)
    {
        Write(o, "{\"version\": 2, \"status\": \"success\", \"eval\": {\"run_id\": \"hostile\", \"task\": ");
        if (task is null)
        {
            Write(o, "\"hostile_task\"");
        }
        else
        {
            task(o);
        }
        Write(o, $", \"model\": {model}, \"dataset\": {{\"name\": \"d\", \"samples\": 4, \"sample_ids\": ");
        if (sampleIds is null)
        {
            Write(o, "[1, 2, 3, 4]");
        }
        else
        {
            sampleIds(o);
        }
        Write(o, "}, \"packages\": {\"inspect_ai\": \"0.3.999\"}}, \"samples\": ");
        if (samples is null)
        {
            Write(o, "[]");
        }
        else
        {
            samples(o);
        }
        (results ?? (r => Write(r, Results)))(o);
        (stats ?? (r => Write(r, Stats)))(o);
        Write(o, "}");
    }

    // Samples of about `each` bytes of text until `size` is reached, with NaN scores as Inspect writes them.
    private static void Samples(Stream o, long size, int each)
    {
        var text = new string('x', each - 80);
        Write(o, "[");
        for (long written = 0, i = 0; written < size; i++)
        {
            var sample = $"{(i == 0 ? "" : ",")}{{\"id\": {i}, \"input\": \"{text}\", \"scores\": {{\"s\": {{\"value\": NaN}}}}}}";
            Write(o, sample);
            written += sample.Length;
        }
        Write(o, "]");
    }

    private static byte[] Header(string task = "hostile_task") =>
        Encoding.UTF8.GetBytes($"{{\"version\": 2, \"status\": \"success\", \"eval\": {{\"run_id\": \"hostile\", \"task\": \"{task}\", \"model\": \"prov/model\"}}{Results}{Stats}}}");

    private static ZipEntry Stored(string name, byte[] content, ushort method = 8) =>
        new(name, method, ZipWriter.Compress(content, method), System.IO.Hashing.Crc32.HashToUInt32(content), content.Length);

    private static void Archive(Stream o, long size, ushort method)
    {
        var sample = Encoding.UTF8.GetBytes($"{{\"id\": 1, \"input\": \"{new string('x', 4000)}\"}}");
        var entries = new List<ZipEntry> { Stored("header.json", Header(), method) };
        // Distinct samples, so that they compress as real ones do rather than to nothing.
        var random = new Random(1);
        for (long written = 0, i = 0; written < size; i++)
        {
            var content = (byte[])sample.Clone();
            for (var k = 20; k < content.Length - 4; k += 1 + random.Next(4))
            {
                content[k] = (byte)('a' + random.Next(26));
            }
            var entry = Stored($"samples/{i}_epoch_1.json", content, method);
            entries.Add(entry);
            written += entry.Data.Length;
        }
        ZipWriter.Write(o, entries);
    }

    private static void Bomb(Stream o, long inflated, ushort method, long declared)
    {
        var (data, crc, _) = ZipWriter.Compress(new byte[1 << 20], inflated >> 20, method);
        ZipWriter.Write(o, [Stored("header.json", Header()), new ZipEntry("samples/1_epoch_1.json", method, data, crc, declared)]);
    }

    private static void HonestBomb(Stream o)
    {
        var entries = new List<ZipEntry> { Stored("header.json", Header()) };
        for (var i = 0; i < 5; i++)
        {
            entries.Add(new ZipEntry($"samples/{i}_epoch_1.json", 8, [0x03, 0x00], 0, 4L * 1024 * 1024 * 1024 - 1));
        }
        ZipWriter.Write(o, entries);
    }

    private static void Window(Stream o, long size)
    {
        var block = new byte[1 << 20];
        new Random(2).NextBytes(block);
        // Compressed with a 128 MiB window, the frame asks the decoder for that much, whatever it holds.
        var (data, crc, inflated) = ZipWriter.Compress(block, Math.Max(size >> 20, 2), 93, zstdWindowLog: 27);
        ZipWriter.Write(o, [Stored("header.json", Header()), new ZipEntry("samples/1_epoch_1.json", 93, data, crc, inflated)]);
    }

    private static void GiantHeader(Stream o, long size)
    {
        var prefix = Encoding.UTF8.GetBytes("{\"version\": 2, \"status\": \"success\", \"eval\": {\"task\": \"");
        var (data, crc, inflated) = ZipWriter.Compress([.. prefix, .. Enumerable.Repeat((byte)'t', (int)Math.Min(size, 64 << 20) - prefix.Length)], 1, 93);
        ZipWriter.Write(o, [new ZipEntry("header.json", 93, data, crc, inflated)]);
    }

    private static void BigDirectory(Stream o) =>
        ZipWriter.Write(o, Enumerable.Range(0, 330).Select(i => Stored($"samples/{i}.json", "{}"u8.ToArray()) with { CentralExtra = 65_000 }).Prepend(Stored("header.json", Header())));

    // 16.3 MB of directory under the 16 MiB limit: 250 names of 64,900 bytes.
    private static void LongNames(Stream o) =>
        ZipWriter.Write(o, Enumerable.Range(0, 250).Select(i => Stored($"samples/{new string('a', 64_900)}{i}.json", "{}"u8.ToArray(), method: 0)).Prepend(Stored("header.json", Header())));

    private static void LongExtraFields(Stream o) =>
        ZipWriter.Write(o, Enumerable.Range(0, 255).Select(i => Stored($"samples/{i}.json", "{}"u8.ToArray(), method: 0) with { CentralExtra = 65_000 }).Prepend(Stored("header.json", Header())));

    // The most entries a zip without ZIP64 holds (65,535 marks ZIP64).
    private static void ManyEntries(Stream o) =>
        ZipWriter.Write(o, Enumerable.Range(0, 65_533).Select(i => Stored($"samples/{i}_epoch_1.json", "{}"u8.ToArray(), method: 0)).Prepend(Stored("header.json", Header())));

    private static void Duplicate(Stream o) => ZipWriter.Write(o, [Stored("header.json", Header()), Stored("header.json", Header("other"))]);

    private static void Write(Stream o, string text) => o.Write(Encoding.UTF8.GetBytes(text));

    private static void Repeat(Stream o, string text, long totalBytes)
    {
        var chunk = Encoding.UTF8.GetBytes(string.Concat(Enumerable.Repeat(text, Math.Max(1, 65536 / text.Length))));
        var count = totalBytes / text.Length;
        var perChunk = chunk.Length / text.Length;
        for (long i = 0; i < count; i += perChunk)
        {
            o.Write(chunk, 0, (int)Math.Min(perChunk, count - i) * text.Length);
        }
    }

    private static void RepeatNumbered(Stream o, string format, long count)
    {
        for (long i = 0; i < count; i++)
        {
            Write(o, string.Format(System.Globalization.CultureInfo.InvariantCulture, format, i));
        }
    }
}
