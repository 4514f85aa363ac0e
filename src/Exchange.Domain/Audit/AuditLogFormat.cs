using Exchange.Transparency;
using Exchange.V1;
using Google.Protobuf;

namespace Exchange.Domain.Audit;

/// <summary>
/// How an audit entry becomes a leaf: the protobuf encoding of <see cref="AuditEntry"/> (format 1),
/// which carries its own index and the leaf hash of the entry before it.
/// </summary>
public static class AuditLogFormat
{
    public const uint FormatVersion = 1;

    /// <summary>The log's origin line and note key name for an institute.</summary>
    public static string Origin(string instituteId) => $"exchange-audit/{instituteId}";

    /// <summary>The institute whose log <paramref name="origin"/> names (the inverse of <see cref="Origin"/>), or null if it names none.</summary>
    public static string? InstituteOf(string origin) =>
        origin.StartsWith("exchange-audit/", StringComparison.Ordinal) && origin.Length > "exchange-audit/".Length ? origin["exchange-audit/".Length..] : null;

    public static byte[] Encode(string instituteId, long index, byte[] previousLeafHash, AuditEvent audit) => new AuditEntry
    {
        FormatVersion = FormatVersion,
        Log = instituteId,
        Index = (ulong)index,
        PreviousLeafHash = ByteString.CopyFrom(previousLeafHash),
        Event = audit,
    }.ToByteArray();

    public static byte[] LeafHash(byte[] entryBytes) => MerkleHash.Leaf(entryBytes);
}
