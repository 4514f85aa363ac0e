namespace Exchange.Node.Persistence;

/// <summary>One of the node's own key pairs; the private half only as Data Protection ciphertext.</summary>
public sealed class NodeKeyRecord
{
    public const string Signing = "signing";
    public const string Encryption = "encryption";

    public int Id { get; set; }
    public required string Purpose { get; set; }
    public required byte[] PublicKey { get; set; }
    public required byte[] ProtectedPrivateKey { get; set; }
    public DateTimeOffset CreatedAt { get; set; }
    /// <summary>Set when a newer key replaced it; a retired encryption key still opens old envelopes.</summary>
    public DateTimeOffset? RetiredAt { get; set; }
}
