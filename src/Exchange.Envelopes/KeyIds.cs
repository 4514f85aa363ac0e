using System.Security.Cryptography;

namespace Exchange.Envelopes;

/// <summary>A key's id: the first 8 bytes of SHA-256 over its SubjectPublicKeyInfo.</summary>
public static class KeyIds
{
    public const int Length = 8;

    public static byte[] Of(ReadOnlySpan<byte> subjectPublicKeyInfo) => SHA256.HashData(subjectPublicKeyInfo)[..Length];
}
