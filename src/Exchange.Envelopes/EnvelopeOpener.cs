using System.Security.Cryptography;
using Exchange.Signatures;
using Exchange.V1;
using Google.Protobuf;

namespace Exchange.Envelopes;

/// <summary>
/// Opens envelopes addressed to one node, trusting nothing before the signature checks out:
/// parse, find the origin's signing key (from the manifest, via <paramref name="signingKeys"/>),
/// verify, check the recipient, find our decryption key, decrypt with the header as associated data.
/// </summary>
public sealed class EnvelopeOpener(
    string self,
    Func<string, (ECDsa Key, byte[] KeyId)?> signingKeys,
    Func<ReadOnlyMemory<byte>, ECDiffieHellman?> decryptionKeys,
    int maxEnvelopeBytes = 8 * 1024 * 1024)
{
    private const int MaxHeaderBytes = 4096;

    public EnvelopeOpenResult Open(ReadOnlySpan<byte> bytes)
    {
        EnvelopeHeader? header = null;
        var opened = TryOpen(bytes, ref header, out var rejection);
        return new EnvelopeOpenResult(opened, rejection, header);
    }

    private static readonly MessageParser<SealedEnvelope> CanonicalParser = SealedEnvelope.Parser.WithDiscardUnknownFields(true);

    private OpenedEnvelope? TryOpen(ReadOnlySpan<byte> bytes, ref EnvelopeHeader? header, out EnvelopeRejection? rejection)
    {
        rejection = null;
        if (bytes.Length > maxEnvelopeBytes)
        {
            rejection = new(EnvelopeRejection.TooLarge, $"envelope of {bytes.Length} bytes exceeds {maxEnvelopeBytes}");
            return null;
        }
        SealedEnvelope envelope;
        try
        {
            envelope = CanonicalParser.ParseFrom(bytes);
            if (envelope.Header.Length > MaxHeaderBytes)
            {
                rejection = new(EnvelopeRejection.Malformed, "the header is too large");
                return null;
            }
            header = EnvelopeHeader.Parser.ParseFrom(envelope.Header);
            // Every field is signed, but protobuf accepts other byte strings for the same message (a
            // field repeated, reordered or unknown). Only the one encoding the sealer writes is taken,
            // so that an envelope's bytes, and the hash its receipt gives back, are the origin's own.
            if (envelope.CalculateSize() != bytes.Length || !envelope.ToByteArray().AsSpan().SequenceEqual(bytes))
            {
                rejection = new(EnvelopeRejection.Malformed, "not in canonical encoding: the bytes differ from the envelope they decode to");
                return null;
            }
        }
        catch (InvalidProtocolBufferException e)
        {
            rejection = new(EnvelopeRejection.Malformed, $"not an envelope: {e.Message}");
            return null;
        }
        if (header.FormatVersion != EnvelopeSealer.FormatVersion)
        {
            rejection = new(EnvelopeRejection.UnsupportedVersion, $"format version {header.FormatVersion} is not {EnvelopeSealer.FormatVersion}");
            return null;
        }
        if (envelope.Nonce.Length != EnvelopeCrypto.NonceSize || envelope.Tag.Length != EnvelopeCrypto.TagSize || envelope.Signature.Length != 64)
        {
            rejection = new(EnvelopeRejection.Malformed, "nonce, tag or signature has the wrong length");
            return null;
        }
        if (signingKeys(header.Origin) is not { } signer)
        {
            rejection = new(EnvelopeRejection.UnknownOrigin, $"origin '{header.Origin}' is not in the manifest");
            return null;
        }
        if (!header.OriginKeyId.Span.SequenceEqual(signer.KeyId))
        {
            rejection = new(EnvelopeRejection.UnknownSigningKey, $"signed with key {EnvelopeCrypto.Hex(header.OriginKeyId.Span)}, which the manifest does not list for '{header.Origin}'");
            return null;
        }
        var hash = EnvelopeCrypto.SignedHash(envelope.Header.Span, envelope.EphemeralKey.Span, envelope.Nonce.Span, envelope.Ciphertext.Span, envelope.Tag.Span);
        bool verified;
        lock (signer.Key)
        {
            // Only the canonical (low-S) form: its twin (r, n - s) would be a second envelope with the
            // same content and a different hash, which a receipt could not tell apart.
            verified = CanonicalEcdsa.VerifyHash(signer.Key, hash, envelope.Signature.Span, DSASignatureFormat.IeeeP1363FixedFieldConcatenation);
        }
        if (!verified)
        {
            rejection = new(EnvelopeRejection.BadSignature, $"the signature does not verify with the signing key of '{header.Origin}'");
            return null;
        }
        if (header.Recipient != self)
        {
            rejection = new(EnvelopeRejection.Misaddressed, $"addressed to '{header.Recipient}', not to '{self}'");
            return null;
        }
        if (decryptionKeys(header.RecipientKeyId.Memory) is not { } decryptionKey)
        {
            rejection = new(EnvelopeRejection.UnknownRecipientKey, $"sealed to key {EnvelopeCrypto.Hex(header.RecipientKeyId.Span)}, which this node does not hold");
            return null;
        }
        try
        {
            using var ephemeral = ECDiffieHellman.Create();
            ephemeral.ImportSubjectPublicKeyInfo(envelope.EphemeralKey.Span, out _);
            byte[] secret;
            lock (decryptionKey)
            {
                secret = decryptionKey.DeriveRawSecretAgreement(ephemeral.PublicKey);
            }
            var key = EnvelopeCrypto.ContentKey(secret, envelope.EphemeralKey.Span, header.RecipientKeyId.Span);
            CryptographicOperations.ZeroMemory(secret);
            var payload = new byte[envelope.Ciphertext.Length];
            using (var aes = new AesGcm(key, EnvelopeCrypto.TagSize))
            {
                aes.Decrypt(envelope.Nonce.Span, envelope.Ciphertext.Span, envelope.Tag.Span, payload, envelope.Header.Span);
            }
            CryptographicOperations.ZeroMemory(key);
            return new OpenedEnvelope(header, payload, SHA256.HashData(bytes));
        }
        catch (CryptographicException e)
        {
            rejection = new(EnvelopeRejection.Undecryptable, $"cannot be decrypted: {e.Message}");
            return null;
        }
    }
}
