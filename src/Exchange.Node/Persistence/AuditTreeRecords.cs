namespace Exchange.Node.Persistence;

/// <summary>A perfect subtree's hash (2^Level leaves from leaf Index·2^Level): what proofs are made of.</summary>
public sealed class AuditTreeNodeRecord
{
    /// <summary>Level·2^56 + Index: one key, so a proof's nodes come back in a single IN query.</summary>
    public long Key { get; set; }
    public required byte[] Hash { get; set; }

    public static long KeyOf(Exchange.Transparency.NodeId node) => ((long)node.Level << 56) | node.Index;
}

/// <summary>
/// The one row that says how far the log has been integrated. The integrator locks it, so there is
/// one writer of the tree even with several replicas on one database.
/// </summary>
public sealed class AuditHeadRecord
{
    public const int SingletonId = 1;

    public int Id { get; set; }
    public long Size { get; set; }
    /// <summary>The compact range's border hashes, concatenated, largest subtree first.</summary>
    public byte[] Border { get; set; } = [];
    public byte[] LastLeafHash { get; set; } = [];
}

/// <summary>A checkpoint the node signed; append-only, so auditors can check any two for consistency.</summary>
public sealed class AuditCheckpointRecord
{
    public long Size { get; set; }
    public required byte[] RootHash { get; set; }
    /// <summary>The signed note as the log signed it (cosignatures are kept apart).</summary>
    public required string Note { get; set; }
    public DateTimeOffset CreatedAt { get; set; }
}

/// <summary>A peer's cosignature of one of our checkpoints.</summary>
public sealed class AuditCosignatureRecord
{
    public long CheckpointSize { get; set; }
    public required string Witness { get; set; }
    public required string SignatureLine { get; set; }
    public DateTimeOffset ReceivedAt { get; set; }
}

/// <summary>A checkpoint of a peer's log that this node verified and cosigned, as a witness.</summary>
public sealed class WitnessedCheckpointRecord
{
    public required string Origin { get; set; }
    public long Size { get; set; }
    public required byte[] RootHash { get; set; }
    public required string Note { get; set; }
    public DateTimeOffset WitnessedAt { get; set; }
}

/// <summary>How far each peer has cosigned our log: the next announcement proves consistency from there.</summary>
public sealed class WitnessProgressRecord
{
    public required string Witness { get; set; }
    public long CosignedSize { get; set; }
    public long AnnouncedSize { get; set; }
    public DateTimeOffset UpdatedAt { get; set; }
}

/// <summary>
/// Evidence that a peer showed two histories: the checkpoint it announced, the one it contradicts,
/// and why. Kept until an operator has dealt with it; while any is open the node reports Degraded.
/// </summary>
public sealed class WitnessAlertRecord
{
    public long Id { get; set; }
    public required string Origin { get; set; }
    public long Size { get; set; }
    public required string Reason { get; set; }
    public required string AnnouncedNote { get; set; }
    public string? PreviousNote { get; set; }
    public DateTimeOffset DetectedAt { get; set; }
}
