namespace Exchange.Domain.Findings;

internal static class Sizes
{
    public static string Describe(long bytes) => bytes switch
    {
        >= 1024 * 1024 when bytes % (1024 * 1024) == 0 => $"{bytes / (1024 * 1024)} MiB",
        >= 1024 * 1024 => $"{bytes / (1024.0 * 1024):0.0} MiB",
        >= 1024 when bytes % 1024 == 0 => $"{bytes / 1024} KiB",
        >= 1024 => $"{bytes / 1024.0:0.0} KiB",
        _ => $"{bytes} bytes",
    };
}
