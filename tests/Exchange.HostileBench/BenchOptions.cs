using System.Globalization;

namespace Exchange.HostileBench;

internal sealed record BenchOptions(long SizeMiB, int Concurrency, long HeapLimitMiB, string? Only)
{
    public static BenchOptions Parse(string[] args)
    {
        var options = new BenchOptions(64, 4, 768, null);
        for (var i = 0; i + 1 < args.Length; i += 2)
        {
            options = args[i] switch
            {
                "--size-mb" => options with { SizeMiB = long.Parse(args[i + 1], CultureInfo.InvariantCulture) },
                "--concurrency" => options with { Concurrency = int.Parse(args[i + 1], CultureInfo.InvariantCulture) },
                "--heap-limit-mb" => options with { HeapLimitMiB = long.Parse(args[i + 1], CultureInfo.InvariantCulture) },
                "--only" => options with { Only = args[i + 1] },
                _ => throw new ArgumentException($"unknown option {args[i]}: use --size-mb S --concurrency N --heap-limit-mb H (0 for none) --only NAME"),
            };
        }
        return options;
    }
}
