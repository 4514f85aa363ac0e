using System.Globalization;

namespace Exchange.HostileBench;

/// <summary>What the kernel says about the machine and a process (Linux /proc).</summary>
internal static class Machine
{
    public static double MemoryGiB() => Kb("/proc/meminfo", "MemTotal:") / 1024.0 / 1024.0;

    /// <summary>Resident memory now (VmRSS) and at its peak since the last reset (VmHWM), in bytes.</summary>
    public static (long Rss, long Peak) Memory(int pid) =>
        (Kb($"/proc/{pid}/status", "VmRSS:") * 1024, Kb($"/proc/{pid}/status", "VmHWM:") * 1024);

    /// <summary>Sets the process's peak (VmHWM) back to its resident memory now (Linux 4.0+, clear_refs value 5).</summary>
    public static void ResetPeak(int pid) => File.WriteAllText($"/proc/{pid}/clear_refs", "5");

    private static long Kb(string file, string key)
    {
        var line = File.ReadLines(file).FirstOrDefault(l => l.StartsWith(key, StringComparison.Ordinal));
        return line is null ? 0 : long.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], CultureInfo.InvariantCulture);
    }
}
