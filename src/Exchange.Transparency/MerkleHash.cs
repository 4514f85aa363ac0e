using System.Security.Cryptography;

namespace Exchange.Transparency;

/// <summary>RFC 6962 hashing: leaf = SHA-256(0x00 ‖ entry), node = SHA-256(0x01 ‖ left ‖ right).</summary>
public static class MerkleHash
{
    public const int Size = 32;

    /// <summary>The root of the empty tree: SHA-256 of nothing.</summary>
    public static byte[] Empty { get; } = SHA256.HashData([]);

    public static byte[] Leaf(ReadOnlySpan<byte> entry)
    {
        using var sha = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        sha.AppendData([0x00]);
        sha.AppendData(entry);
        return sha.GetHashAndReset();
    }

    public static byte[] Node(ReadOnlySpan<byte> left, ReadOnlySpan<byte> right)
    {
        Span<byte> buffer = stackalloc byte[1 + 2 * Size];
        buffer[0] = 0x01;
        left.CopyTo(buffer[1..]);
        right.CopyTo(buffer[(1 + Size)..]);
        return SHA256.HashData(buffer);
    }

    /// <summary>The largest power of two strictly less than <paramref name="n"/> (n ≥ 2): where RFC 6962 splits a tree.</summary>
    public static long Split(long n) => 1L << (63 - (int)long.LeadingZeroCount(n - 1));
}
