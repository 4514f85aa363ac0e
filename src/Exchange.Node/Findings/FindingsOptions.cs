namespace Exchange.Node.Findings;

/// <summary>Section <c>Findings</c> (the size limits are its <c>Limits</c> part, <see cref="Domain.Findings.FindingLimits"/>).</summary>
public sealed class FindingsOptions
{
    public const string Section = "Findings";

    /// <summary>
    /// How far ahead of this node's clock a peer's clock may run. A finding received before its
    /// embargo ends by this node's clock, less this, is held here (shown to no one, not streamed)
    /// until then: the origin's clock decides when it sends, this node's clock when it shows.
    /// </summary>
    public TimeSpan EmbargoClockSkew { get; set; } = TimeSpan.FromMinutes(1);
}
