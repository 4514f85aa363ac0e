namespace Exchange.Node.Persistence;

/// <summary>The policy's decision for one recipient of one finding version, and how delivery stands.</summary>
public sealed class DecisionRecord
{
    public long Id { get; set; }
    public required string FindingId { get; set; }
    public int FindingVersion { get; set; }
    public required string InstituteId { get; set; }
    public int Outcome { get; set; }
    /// <summary>The reasons as JSON, for people reading the database as much as for the API.</summary>
    public required string Reasons { get; set; }
    public DateTimeOffset? ScheduledAt { get; set; }
    public bool NoRedistribution { get; set; }
    public int Delivery { get; set; }
    public DateTimeOffset DecidedAt { get; set; }
    public DateTimeOffset UpdatedAt { get; set; }
}
