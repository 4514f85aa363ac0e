using System.Buffers.Binary;
using System.Security.Cryptography;

namespace Exchange.Envelopes;

// The primitives both sides share: key derivation and what the signature covers.
internal static class EnvelopeCrypto
{
    public const int NonceSize = 12;
    public const int TagSize = 16;
    public const int KeySize = 32;

    private static readonly byte[] KeyInfo = "exchange/envelope/v1/content-key"u8.ToArray();
    private static readonly byte[] SignaturePrefix = "exchange/envelope/v1/signature\n"u8.ToArray();

    /// <summary>HKDF-SHA256 over the ECDH secret, salted with the one-time public key.</summary>
    public static byte[] ContentKey(byte[] sharedSecret, ReadOnlySpan<byte> ephemeralKey, ReadOnlySpan<byte> recipientKeyId)
    {
        var info = new byte[KeyInfo.Length + recipientKeyId.Length];
        KeyInfo.CopyTo(info, 0);
        recipientKeyId.CopyTo(info.AsSpan(KeyInfo.Length));
        return HKDF.DeriveKey(HashAlgorithmName.SHA256, sharedSecret, KeySize, ephemeralKey.ToArray(), info);
    }

    /// <summary>
    /// SHA-256 of what the origin signs: a fixed prefix, then header, one-time key, nonce,
    /// ciphertext and tag, each preceded by its length so that no field can bleed into the next.
    /// </summary>
    public static byte[] SignedHash(ReadOnlySpan<byte> header, ReadOnlySpan<byte> ephemeralKey, ReadOnlySpan<byte> nonce, ReadOnlySpan<byte> ciphertext, ReadOnlySpan<byte> tag)
    {
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        hash.AppendData(SignaturePrefix);
        Append(hash, header);
        Append(hash, ephemeralKey);
        Append(hash, nonce);
        Append(hash, ciphertext);
        Append(hash, tag);
        return hash.GetHashAndReset();
    }

    private static void Append(IncrementalHash hash, ReadOnlySpan<byte> field)
    {
        Span<byte> length = stackalloc byte[4];
        BinaryPrimitives.WriteInt32BigEndian(length, field.Length);
        hash.AppendData(length);
        hash.AppendData(field);
    }

    public static string Hex(ReadOnlySpan<byte> bytes) => Convert.ToHexStringLower(bytes);
}
