namespace Exchange.Node.Findings;

/// <summary>Configuration section "Findings:Imports": how many Inspect logs the node reads at once, and how briskly they must arrive.</summary>
public sealed class ImportOptions
{
    public const string Section = "Findings:Imports";

    /// <summary>
    /// Logs spooled and read at once. Each holds at most the bound that <c>Exchange.Inspect.InspectLimits</c>
    /// sets, so this times that bound is what imports can take of the node's memory.
    /// </summary>
    public int MaxConcurrent { get; set; } = 4;

    /// <summary>How long an import waits for a slot before it is refused with RESOURCE_EXHAUSTED.</summary>
    public TimeSpan SlotWait { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>
    /// How long an upload (any call that streams requests) may send nothing at all while the node
    /// waits for it: past it the call is refused with DEADLINE_EXCEEDED, its spooled file deleted and
    /// its slot freed. grpc-dotnet turns off Kestrel's minimum request body data rate for these calls,
    /// so without this an upload that goes quiet would keep its slot for as long as its client keeps
    /// the stream open. Counted in bytes, not messages: a large message arriving slowly is not quiet.
    /// </summary>
    public TimeSpan IdleTimeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>
    /// The slowest an upload may arrive on average, in bytes per second over the time the node waited
    /// for it (not its own time, such as a wait for a slot), checked once that time passes
    /// <see cref="IdleTimeout"/>: an upload that sends a byte just inside every idle timeout is
    /// refused too. 0 turns the check off. An upload holds its slot at most about
    /// <c>Findings:Limits:MaxImportBytes</c> divided by this (18 h for 2 GiB at 32 KiB/s), and only by
    /// sending that much.
    /// </summary>
    public long MinBytesPerSecond { get; set; } = 32 * 1024;
}
