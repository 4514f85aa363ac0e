using System.Numerics;
using System.Security.Cryptography;

namespace Exchange.Signatures;

/// <summary>
/// ECDSA P-256 signatures in exactly one encoding. An ECDSA signature (r, s) has a twin (r, n − s)
/// that verifies just as well (SEC 1 v2, 4.1.4); and DER admits longer spellings of the same
/// integers. So that a signature names one byte string (what a receipt hashes, what an auditor
/// compares), everything signed here is normalised to low-S (s ≤ n/2, as Bitcoin's BIP 62 and
/// libsecp256k1 do), and verification refuses a high-S signature and any DER other than the
/// minimal encoding (X.690 §10, §8.3.2) before it checks the mathematics.
/// Formats: <see cref="DSASignatureFormat.IeeeP1363FixedFieldConcatenation"/> (r ‖ s, 32 bytes
/// each, big-endian) and <see cref="DSASignatureFormat.Rfc3279DerSequence"/> (SEQUENCE of two INTEGERs).
/// </summary>
public static class CanonicalEcdsa
{
    /// <summary>Bytes of r or s for P-256.</summary>
    public const int FieldSize = 32;

    /// <summary>The order n of the P-256 base point (FIPS 186-4, D.1.2.3).</summary>
    public static readonly BigInteger Order = new(Convert.FromHexString("FFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551"), isUnsigned: true, isBigEndian: true);

    private static readonly BigInteger HalfOrder = Order >> 1;

    /// <summary>Signs a hash (SHA-256, 32 bytes) with a P-256 key; the signature is low-S in <paramref name="format"/>.</summary>
    /// <exception cref="ArgumentException">the key is not a P-256 key.</exception>
    public static byte[] SignHash(ECDsa key, ReadOnlySpan<byte> hash, DSASignatureFormat format)
    {
        RequireP256(key);
        return Encode(Normalize(key.SignHash(hash.ToArray(), DSASignatureFormat.IeeeP1363FixedFieldConcatenation)), format);
    }

    /// <summary>Signs SHA-256 of <paramref name="data"/>; low-S in <paramref name="format"/>.</summary>
    /// <exception cref="ArgumentException">the key is not a P-256 key.</exception>
    public static byte[] SignData(ECDsa key, ReadOnlySpan<byte> data, DSASignatureFormat format) => SignHash(key, SHA256.HashData(data), format);

    /// <summary>Whether <paramref name="signature"/> is canonical in <paramref name="format"/> and verifies over the hash.</summary>
    public static bool VerifyHash(ECDsa key, ReadOnlySpan<byte> hash, ReadOnlySpan<byte> signature, DSASignatureFormat format) =>
        key.KeySize == FieldSize * 8
        && TryDecode(signature, format, out var fixedField)
        && IsLowS(fixedField)
        && key.VerifyHash(hash, fixedField, DSASignatureFormat.IeeeP1363FixedFieldConcatenation);

    /// <summary>Whether <paramref name="signature"/> is canonical and verifies over SHA-256 of <paramref name="data"/>.</summary>
    public static bool VerifyData(ECDsa key, ReadOnlySpan<byte> data, ReadOnlySpan<byte> signature, DSASignatureFormat format) =>
        VerifyHash(key, SHA256.HashData(data), signature, format);

    /// <summary>Whether the signature is in the one form this project accepts: well-formed, minimal, low-S.</summary>
    public static bool IsCanonical(ReadOnlySpan<byte> signature, DSASignatureFormat format) =>
        TryDecode(signature, format, out var fixedField) && IsLowS(fixedField);

    private static void RequireP256(ECDsa key)
    {
        if (key.KeySize != FieldSize * 8)
        {
            throw new ArgumentException($"a P-256 key is required, not one of {key.KeySize} bits", nameof(key));
        }
    }

    private static bool IsLowS(ReadOnlySpan<byte> fixedField)
    {
        var s = new BigInteger(fixedField[FieldSize..], isUnsigned: true, isBigEndian: true);
        return s <= HalfOrder;
    }

    // (r, s) → (r, n − s) when s > n/2.
    private static byte[] Normalize(byte[] fixedField)
    {
        var s = new BigInteger(fixedField.AsSpan(FieldSize), isUnsigned: true, isBigEndian: true);
        if (s <= HalfOrder)
        {
            return fixedField;
        }
        var low = (Order - s).ToByteArray(isUnsigned: true, isBigEndian: true);
        var result = new byte[2 * FieldSize];
        fixedField.AsSpan(0, FieldSize).CopyTo(result);
        low.CopyTo(result.AsSpan(2 * FieldSize - low.Length));
        return result;
    }

    private static byte[] Encode(byte[] fixedField, DSASignatureFormat format) => format switch
    {
        DSASignatureFormat.IeeeP1363FixedFieldConcatenation => fixedField,
        DSASignatureFormat.Rfc3279DerSequence => Der.Encode(fixedField.AsSpan(0, FieldSize), fixedField.AsSpan(FieldSize)),
        _ => throw new ArgumentOutOfRangeException(nameof(format), format, "not a signature format"),
    };

    private static bool TryDecode(ReadOnlySpan<byte> signature, DSASignatureFormat format, out byte[] fixedField)
    {
        switch (format)
        {
            case DSASignatureFormat.IeeeP1363FixedFieldConcatenation when signature.Length == 2 * FieldSize:
                fixedField = signature.ToArray();
                return true;
            case DSASignatureFormat.Rfc3279DerSequence:
                return Der.TryDecode(signature, out fixedField);
            default:
                fixedField = [];
                return false;
        }
    }
}
