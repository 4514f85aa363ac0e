using System.Security.Cryptography;
using System.Text;
using CsCheck;
using Exchange.Fuzzing;

namespace Exchange.Transparency.Tests;

/// <summary>Mutated signed notes and checkpoints: refused with a reason, or, if still well formed, never verified unless the signature holds.</summary>
public sealed class NoteFuzzTests
{
    private static readonly NoteKey Log = new("exchange-audit/uk", ECDsa.Create(ECCurve.NamedCurves.nistP256));
    private static readonly NoteKey Witness = new("exchange-audit/us", ECDsa.Create(ECCurve.NamedCurves.nistP256));

    private static readonly string Valid = new SignedNote(
        new Checkpoint("exchange-audit/uk", 12345, MerkleHash.Leaf("x"u8)).ToText(),
        [Log.Sign(new Checkpoint("exchange-audit/uk", 12345, MerkleHash.Leaf("x"u8)).ToText()), Witness.Sign(new Checkpoint("exchange-audit/uk", 12345, MerkleHash.Leaf("x"u8)).ToText())]).ToNote();

    // null: a fresh random run; a seed: an input fuzzing once found to crash, kept as a regression.
    [Theory]
    [InlineData(null)]
    [InlineData("23f9wMPiFcA1")] // a note ending in a blank line and no signature threw ArgumentOutOfRangeException
    public void Mutated_notes_parse_or_are_refused_and_verify_only_when_their_text_is_unchanged(string? seed)
    {
        var known = new[] { NoteKey.FromPublicKey(Log.Name, Log.PublicKey), NoteKey.FromPublicKey(Witness.Name, Witness.PublicKey) };
        Assert.True(SignedNote.TryParse(Valid, out var original, out _));
        ByteMutations.Of(Encoding.UTF8.GetBytes(Valid)).Sample(bytes =>
        {
            var text = Encoding.UTF8.GetString(bytes);
            if (!SignedNote.TryParse(text, out var note, out var problem))
            {
                Assert.False(string.IsNullOrWhiteSpace(problem));
                return;
            }
            if (NoteKey.VerifyNote(note!, known, out _, out _))
            {
                // A signature that still verifies must be over the very same text.
                Assert.Equal(original!.Text, note!.Text);
            }
            if (!Checkpoint.TryParse(note!.Text, out _, out problem))
            {
                Assert.False(string.IsNullOrWhiteSpace(problem));
            }
        }, seed: seed, iter: seed is null ? 3000 : 1);
    }
}
