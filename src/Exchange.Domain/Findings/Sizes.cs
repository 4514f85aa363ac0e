namespace Exchange.Domain.Findings;

/// <summary>Byte counts as people read them: "512 bytes", "64 KiB", "4.5 MiB" (binary units, IEC 80000-13).</summary>
public static class Sizes
{
    public static string Describe(long bytes) => bytes switch
    {
        >= 1L << 30 when bytes % (1L << 30) == 0 => $"{bytes >> 30} GiB",
        >= 1L << 30 => $"{bytes / (double)(1L << 30):0.0} GiB",
        >= 1024 * 1024 when bytes % (1024 * 1024) == 0 => $"{bytes / (1024 * 1024)} MiB",
        >= 1024 * 1024 => $"{bytes / (1024.0 * 1024):0.0} MiB",
        >= 1024 when bytes % 1024 == 0 => $"{bytes / 1024} KiB",
        >= 1024 => $"{bytes / 1024.0:0.0} KiB",
        _ => $"{bytes} bytes",
    };
}
