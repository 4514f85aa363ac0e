namespace Exchange.Inspect;

/// <summary>What an Inspect eval log says about one run, without its samples.</summary>
public sealed record InspectRun
{
    public required string Format { get; init; }
    public int SchemaVersion { get; init; }
    /// <summary>started, success, cancelled or error.</summary>
    public required string Status { get; init; }
    public string? ErrorMessage { get; init; }
    public string RunId { get; init; } = "";
    public string EvalId { get; init; } = "";
    public string Task { get; init; } = "";
    public string TaskFile { get; init; } = "";
    public string Model { get; init; } = "";
    public string Dataset { get; init; } = "";
    public long DatasetSamples { get; init; }
    public long TotalSamples { get; init; }
    public long CompletedSamples { get; init; }
    public string InspectVersion { get; init; } = "";
    public string Revision { get; init; } = "";
    public DateTimeOffset? Created { get; init; }
    public DateTimeOffset? StartedAt { get; init; }
    public DateTimeOffset? CompletedAt { get; init; }
    public IReadOnlyList<InspectScore> Scores { get; init; } = [];
    public long? TotalTokens { get; init; }
    /// <summary>True when the header was missing (the run crashed) and the journal was read instead.</summary>
    public bool FromJournal { get; init; }
    /// <summary>Text in the log that was not valid Unicode and was kept with U+FFFD in place of the bad characters.</summary>
    public IReadOnlyList<TextRepair> TextRepairs { get; init; } = [];

    public bool IsComplete => Status == "success";
}

/// <summary>One scorer's metrics. A value is null when the log had no usable number (NaN, infinite, or not a number).</summary>
public sealed record InspectScore(string Scorer, IReadOnlyList<InspectMetric> Metrics);

public sealed record InspectMetric(string Name, double Value);
