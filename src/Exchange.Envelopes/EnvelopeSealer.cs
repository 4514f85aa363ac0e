using System.Security.Cryptography;
using Exchange.Signatures;
using Exchange.V1;
using Google.Protobuf;

namespace Exchange.Envelopes;

/// <summary>
/// Seals a payload to one recipient and signs it as its origin: a one-time ECDH P-256 key with the
/// recipient's static key gives, through HKDF-SHA256, an AES-256-GCM key; the header is the
/// associated data; ECDSA P-256 signs header and ciphertext, in its one canonical form (low-S,
/// <see cref="CanonicalEcdsa"/>).
/// </summary>
public sealed class EnvelopeSealer(ECDsa signingKey, byte[] signingKeyId)
{
    public const uint FormatVersion = 1;

    /// <summary>Fills the header's version and key ids, then seals. Returns the SealedEnvelope bytes.</summary>
    public byte[] Seal(EnvelopeHeader header, ReadOnlySpan<byte> payload, ECDiffieHellman recipientKey, byte[] recipientKeyId)
    {
        header.FormatVersion = FormatVersion;
        header.OriginKeyId = ByteString.CopyFrom(signingKeyId);
        header.RecipientKeyId = ByteString.CopyFrom(recipientKeyId);
        var headerBytes = header.ToByteArray();

        using var ephemeral = ECDiffieHellman.Create(ECCurve.NamedCurves.nistP256);
        var ephemeralKey = ephemeral.ExportSubjectPublicKeyInfo();
        byte[] secret;
        // Key objects are shared between threads; .NET does not promise that their members are thread-safe.
        lock (recipientKey)
        {
            secret = ephemeral.DeriveRawSecretAgreement(recipientKey.PublicKey);
        }
        var key = EnvelopeCrypto.ContentKey(secret, ephemeralKey, recipientKeyId);
        CryptographicOperations.ZeroMemory(secret);

        var nonce = RandomNumberGenerator.GetBytes(EnvelopeCrypto.NonceSize);
        var ciphertext = new byte[payload.Length];
        var tag = new byte[EnvelopeCrypto.TagSize];
        using (var aes = new AesGcm(key, EnvelopeCrypto.TagSize))
        {
            aes.Encrypt(nonce, payload, ciphertext, tag, headerBytes);
        }
        CryptographicOperations.ZeroMemory(key);

        var hash = EnvelopeCrypto.SignedHash(headerBytes, ephemeralKey, nonce, ciphertext, tag);
        byte[] signature;
        lock (signingKey)
        {
            signature = CanonicalEcdsa.SignHash(signingKey, hash, DSASignatureFormat.IeeeP1363FixedFieldConcatenation);
        }
        return new SealedEnvelope
        {
            Header = ByteString.CopyFrom(headerBytes),
            EphemeralKey = ByteString.CopyFrom(ephemeralKey),
            Nonce = ByteString.CopyFrom(nonce),
            Ciphertext = ByteString.CopyFrom(ciphertext),
            Tag = ByteString.CopyFrom(tag),
            Signature = ByteString.CopyFrom(signature),
        }.ToByteArray();
    }
}
