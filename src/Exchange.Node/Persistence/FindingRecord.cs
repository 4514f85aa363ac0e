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
    public string? WithdrawalReason { get; set; }
    public DateTimeOffset? ReceivedAt { get; set; }
    public bool NoRedistribution { get; set; }
}
