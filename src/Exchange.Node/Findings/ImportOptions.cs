namespace Exchange.Node.Findings;

/// <summary>Configuration section "Findings:Imports": how many Inspect logs the node reads at once.</summary>
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
}
