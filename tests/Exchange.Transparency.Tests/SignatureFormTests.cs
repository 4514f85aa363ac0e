using System.Security.Cryptography;
using System.Text;
using CsCheck;
using Exchange.Fuzzing;

namespace Exchange.Transparency.Tests;

/// <summary>
/// One signature, one encoding, for signed notes: checkpoints signed by a log and the cosignature
/// lines of its witnesses are written low-S in minimal DER, and any other encoding of the same
/// (r, s), or its (r, n − s) twin, is refused wherever a note is verified.
/// </summary>
public sealed class SignatureFormTests
{
    [Fact]
    public void Checkpoints_and_cosignatures_are_signed_low_s_and_every_other_encoding_of_their_signatures_is_refused()
    {
        Gen.Select(Gen.Long[0, long.MaxValue], Gen.Byte.Array[32], Gen.Bool).Sample((size, root, asWitness) =>
        {
            var log = new NoteKey("exchange-audit/uk", ECDsa.Create(ECCurve.NamedCurves.nistP256));
            var witness = new NoteKey("exchange-audit/us", ECDsa.Create(ECCurve.NamedCurves.nistP256));
            var text = new Checkpoint(log.Name, size, root).ToText();
            var checkpoint = new SignedNote(text, [log.Sign(text)]);
            var cosigned = checkpoint.WithSignature(witness.Sign(text));
            var signer = asWitness ? witness : log;
            var signature = cosigned.Signatures.Single(s => s.KeyName == signer.Name);

            Assert.True(SignatureTwins.IsLowSDer(signature.Signature), "a high-S signature was written");
            Assert.True(NoteKey.VerifyNote(cosigned, [log, witness], out var signers, out _));
            Assert.Equal(2, signers.Count);

            var twin = SignatureTwins.DerTwin(signature.Signature);
            Assert.True(PublicKey(signer).VerifyData(Encoding.UTF8.GetBytes(text), twin, HashAlgorithmName.SHA256, DSASignatureFormat.Rfc3279DerSequence),
                "the twin verifies mathematically");
            foreach (var other in SignatureTwins.LongerDer(signature.Signature).Append(twin))
            {
                var forged = new SignedNote(text, cosigned.Signatures.Select(s => s == signature ? s with { Signature = other } : s).ToList());
                Assert.False(signer.Verify(text, forged.Signatures.Single(s => s.KeyName == signer.Name)));
                Assert.False(NoteKey.VerifyNote(forged, [log, witness], out _, out _));
                Assert.True(SignedNote.TryParse(forged.ToNote(), out var parsed, out _));
                Assert.False(NoteKey.VerifyNote(parsed!, [log, witness], out _, out _));
            }
        }, iter: 200);
    }

    private static ECDsa PublicKey(NoteKey key)
    {
        var ecdsa = ECDsa.Create();
        ecdsa.ImportSubjectPublicKeyInfo(key.PublicKey, out _);
        return ecdsa;
    }
}
