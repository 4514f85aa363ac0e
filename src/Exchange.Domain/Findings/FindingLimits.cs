namespace Exchange.Domain.Findings;

/// <summary>Size limits on a submitted finding. Every limit is stated in the error that enforces it.</summary>
public sealed record FindingLimits
{
    public static FindingLimits Default { get; } = new();

    public int MaxTitleChars { get; init; } = 200;
    public int MaxSummaryChars { get; init; } = 4_000;
    public int MaxShortTextChars { get; init; } = 200;
    public int MaxNarrativeBytes { get; init; } = 64 * 1024;
    public int MaxMetrics { get; init; } = 200;
    public int MaxArtifacts { get; init; } = 50;
    public int MaxInlineArtifactBytes { get; init; } = 256 * 1024;
    public int MaxTotalInlineBytes { get; init; } = 1024 * 1024;
    public int MaxCaveats { get; init; } = 20;
    public int MaxRecipients { get; init; } = 100;
    public int MaxPurposeChars { get; init; } = 500;
    public int MaxRequestIdChars { get; init; } = 128;
    public int MaxRequestBytes { get; init; } = 4 * 1024 * 1024;
    /// <summary>The largest Inspect log an import accepts; logs with many samples run to hundreds of MB.</summary>
    public long MaxImportBytes { get; init; } = 2L * 1024 * 1024 * 1024;
}
