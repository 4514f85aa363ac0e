using System.Security.Cryptography;
using CsCheck;
using Exchange.Fuzzing;
using Exchange.V1;
using Google.Protobuf;

namespace Exchange.Envelopes.Tests;

/// <summary>
/// One signature, one encoding: every envelope kind (findings, withdrawals, receipts, checkpoint
/// announcements, cosignatures) is signed low-S, and the (r, n − s) twin of its signature, which
/// verifies mathematically, is refused.
/// </summary>
public sealed class SignatureFormTests
{
    private static readonly EnvelopeKind[] Kinds = [EnvelopeKind.Finding, EnvelopeKind.Withdrawal, EnvelopeKind.Receipt, EnvelopeKind.Checkpoint, EnvelopeKind.Cosignature];

    [Fact]
    public void Every_envelope_is_signed_low_s_and_the_high_s_twin_of_its_signature_is_refused()
    {
        Gen.Select(Gen.Byte.Array[0, 512], Gen.Int[0, Kinds.Length - 1]).Sample((payload, k) =>
        {
            using var signing = ECDsa.Create(ECCurve.NamedCurves.nistP256);
            using var encryption = ECDiffieHellman.Create(ECCurve.NamedCurves.nistP256);
            var signingKeyId = KeyIds.Of(signing.ExportSubjectPublicKeyInfo());
            var encryptionKeyId = KeyIds.Of(encryption.ExportSubjectPublicKeyInfo());
            var header = new EnvelopeHeader { MessageId = Guid.NewGuid().ToString("N"), Origin = "a", Recipient = "b", Kind = Kinds[k], FindingId = "a-1", FindingVersion = 1 };
            var bytes = new EnvelopeSealer(signing, signingKeyId).Seal(header, payload, encryption, encryptionKeyId);
            var opener = new EnvelopeOpener("b", origin => origin == "a" ? (signing, signingKeyId) : null, id => id.Span.SequenceEqual(encryptionKeyId) ? encryption : null);
            var envelope = SealedEnvelope.Parser.ParseFrom(bytes);

            Assert.True(SignatureTwins.IsLowS(envelope.Signature.ToByteArray()), "the sealer wrote a high-S signature");
            Assert.NotNull(opener.Open(bytes).Opened);

            var twin = SignatureTwins.FixedFieldTwin(envelope.Signature.ToByteArray());
            Assert.True(signing.VerifyHash(SignedHash(envelope), twin, DSASignatureFormat.IeeeP1363FixedFieldConcatenation), "the twin verifies mathematically");
            envelope.Signature = ByteString.CopyFrom(twin);
            var refused = opener.Open(envelope.ToByteArray());
            Assert.Null(refused.Opened);
            Assert.Equal(EnvelopeRejection.BadSignature, refused.Rejection!.Code);
        }, iter: 200);
    }

    private static byte[] SignedHash(SealedEnvelope e) =>
        EnvelopeCrypto.SignedHash(e.Header.Span, e.EphemeralKey.Span, e.Nonce.Span, e.Ciphertext.Span, e.Tag.Span);
}
