namespace Exchange.Node.Persistence;

/// <summary>
/// One version of a finding, ours or received. The content (everything people wrote) is kept only
/// as Data Protection ciphertext; the clear columns are what listing and filtering need.
/// </summary>
public sealed class FindingRecord
{
    public long Seq { get; set; }
    public required string Id { get; set; }
    public int Version { get; set; }
    public required string OriginInstitute { get; set; }
    public bool IsCurrent { get; set; }
    public int State { get; set; }
    public int Label { get; set; }
    public int RiskDomain { get; set; }
    public int Severity { get; set; }
    /// <summary>Lower-case model name and developer, for the model filter.</summary>
    public required string ModelName { get; set; }
    public required string ModelDeveloper { get; set; }
    public required string SubmittedBy { get; set; }
    public DateTimeOffset SubmittedAt { get; set; }
    public string? RequestId { get; set; }
    public byte[]? RequestHash { get; set; }
    public required byte[] ProtectedContent { get; set; }
    public DateTimeOffset? WithdrawnAt { get; set; }
    /// <summary>
    /// Before the reason was sealed, it was kept here in clear; <c>WithdrawalReasonSealer</c> seals any
    /// such left-over at start and clears it. Nothing writes it any more.
    /// </summary>
    public string? WithdrawalReason { get; set; }
    /// <summary>The withdrawal reason, sealed with Data Protection like the content: it is the origin's free text.</summary>
    public byte[]? ProtectedWithdrawalReason { get; set; }
    public DateTimeOffset? ReceivedAt { get; set; }
    /// <summary>
    /// When this version became readable here: submitted (ours), arrived (a peer's), or released
    /// when its embargo passed on this node's clock (a peer's that was held). Lists filter on it.
    /// </summary>
    public DateTimeOffset AvailableAt { get; set; }
    /// <summary>
    /// A received version held until its embargo passes on this node's clock (less the tolerated
    /// skew): shown to no one until then. Null once released, and for everything not held.
    /// </summary>
    public DateTimeOffset? HeldUntil { get; set; }
    public bool NoRedistribution { get; set; }
}
