namespace Exchange.Node.Persistence;

/// <summary>
/// An audit event, written in the same transaction as the change it records. <see cref="Event"/>
/// is the canonical encoding of the event; the log's integrator later gives it its place in the
/// Merkle tree (<see cref="LeafIndex"/>).
/// </summary>
public sealed class AuditEventRecord
{
    public long Id { get; set; }
    public long? LeafIndex { get; set; }
    public required string Kind { get; set; }
    public DateTimeOffset OccurredAt { get; set; }
    public string? FindingId { get; set; }
    public string? Counterparty { get; set; }
    public required byte[] Event { get; set; }
    /// <summary>The canonical entry (index, link to the previous leaf, event) once integrated.</summary>
    public byte[]? Entry { get; set; }
    public byte[]? LeafHash { get; set; }
}
