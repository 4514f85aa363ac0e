namespace Exchange.Node.Persistence;

/// <summary>An envelope this node has processed; its message id is how duplicates are dropped.</summary>
public sealed class InboxMessageRecord
{
    public required string MessageId { get; set; }
    public required string Origin { get; set; }
    public int Kind { get; set; }
    public string? FindingId { get; set; }
    public int FindingVersion { get; set; }
    public DateTimeOffset ReceivedAt { get; set; }
    /// <summary>accepted, refused or withdrawn-before-delivery; with the reason code when not accepted.</summary>
    public required string Outcome { get; set; }
    public required byte[] EnvelopeSha256 { get; set; }
}
