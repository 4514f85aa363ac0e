namespace Exchange.Inspect;

/// <summary>
/// How much of a log the reader holds or does at most, whatever the file says: the bound on its
/// memory and work per import. A log that needs more is refused with an
/// <see cref="InspectFormatException"/> that names the limit, never read at any cost.
/// </summary>
public sealed record InspectLimits
{
    public static InspectLimits Default { get; } = new();

    /// <summary>
    /// The longest single JSON token (string, number or property name, in bytes as written) that the
    /// reader keeps: 1 MiB. Longer tokens in the parts it does not keep (samples, messages) are
    /// skipped as they stream, whatever their length.
    /// </summary>
    public int MaxValueBytes { get; init; } = 1024 * 1024;

    /// <summary>All the values kept from one document (header, results, stats): 10,000.</summary>
    public int MaxKeptValues { get; init; } = 10_000;

    /// <summary>The bytes of those kept values together, as written: 4 MiB.</summary>
    public int MaxKeptBytes { get; init; } = 4 * 1024 * 1024;

    /// <summary>How deep arrays and objects may nest anywhere in the document: 256 levels.</summary>
    public int MaxDepth { get; init; } = 256;

    /// <summary>
    /// What all the entries of an .eval archive may decompress to together, by their declared sizes:
    /// 16 GiB. Each entry is also stopped as soon as it inflates past its own declared size.
    /// </summary>
    public long MaxInflatedBytes { get; init; } = 16L * 1024 * 1024 * 1024;

    /// <summary>
    /// The zip central directory of an .eval archive: 16 MiB (65,535 entries with names of 200 bytes).
    /// A bound on the work of reading it, not on memory: it is read in one pass and held as 32 bytes
    /// per entry (at most 65,534 entries without ZIP64, 2 MiB), names, extra fields and comments left
    /// in the file.
    /// </summary>
    public int MaxZipDirectoryBytes { get; init; } = 16 * 1024 * 1024;

    /// <summary>
    /// The largest zstd window an entry may ask the decoder for, as a power of two: 2^23 = 8 MiB,
    /// what zstd's levels 1 to 19 use (RFC 8878 section 3.1.1.1.2; higher levels need --ultra).
    /// </summary>
    public int MaxZstdWindowLog { get; init; } = 23;
}
