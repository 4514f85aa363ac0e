using System.Security.Cryptography;
using Exchange.Transparency;

namespace Exchange.Transparency.Tests;

public sealed class NoteTests
{
    private static readonly NoteKey Log = new("exchange-audit/uk", ECDsa.Create(ECCurve.NamedCurves.nistP256));
    private static readonly NoteKey Witness = new("exchange-audit/us", ECDsa.Create(ECCurve.NamedCurves.nistP256));
    private static readonly Checkpoint Sample = new("exchange-audit/uk", 12345, MerkleHash.Leaf("x"u8));

    [Fact]
    public void A_signed_checkpoint_round_trips_and_verifies()
    {
        var note = new SignedNote(Sample.ToText(), [Log.Sign(Sample.ToText())]).ToNote();

        Assert.True(SignedNote.TryParse(note, out var parsed, out var problem), problem);
        Assert.True(NoteKey.VerifyNote(parsed!, [NoteKey.FromPublicKey(Log.Name, Log.PublicKey)], out var signers, out problem), problem);
        Assert.Equal([Log.Name], signers);
        Assert.True(Checkpoint.TryParse(parsed!.Text, out var checkpoint, out problem), problem);
        Assert.Equal(Sample.Size, checkpoint!.Size);
        Assert.Equal(Sample.RootHash, checkpoint.RootHash);
        Assert.StartsWith("exchange-audit/uk\n12345\n", note);
        Assert.Contains("\n\n\u2014 exchange-audit/uk ", note);
    }

    [Fact]
    public void Unknown_signers_are_ignored_and_a_witness_cosignature_verifies_alongside()
    {
        var stranger = new NoteKey("somewhere/else", ECDsa.Create(ECCurve.NamedCurves.nistP256));
        var note = new SignedNote(Sample.ToText(), [Log.Sign(Sample.ToText()), stranger.Sign(Sample.ToText()), Witness.Sign(Sample.ToText())]);

        Assert.True(NoteKey.VerifyNote(note, [Log, Witness], out var signers, out var problem), problem);
        Assert.Equal([Log.Name, Witness.Name], signers);
    }

    [Fact]
    public void A_known_key_whose_signature_fails_rejects_the_note()
    {
        var other = new Checkpoint(Sample.Origin, Sample.Size + 1, Sample.RootHash);
        var note = new SignedNote(Sample.ToText(), [Log.Sign(other.ToText())]);
        Assert.False(NoteKey.VerifyNote(note, [Log], out _, out var problem));
        Assert.Contains("does not verify", problem);
    }

    [Fact]
    public void A_note_signed_by_no_known_key_is_rejected()
    {
        var note = new SignedNote(Sample.ToText(), [Witness.Sign(Sample.ToText())]);
        Assert.False(NoteKey.VerifyNote(note, [Log], out _, out var problem));
        Assert.Contains("no signature from a known key", problem);
    }

    [Fact]
    public void A_same_named_key_with_another_id_is_treated_as_unknown()
    {
        var impostor = new NoteKey(Log.Name, ECDsa.Create(ECCurve.NamedCurves.nistP256));
        var note = new SignedNote(Sample.ToText(), [impostor.Sign(Sample.ToText())]);
        Assert.False(NoteKey.VerifyNote(note, [Log], out _, out var problem));
        Assert.Contains("no signature from a known key", problem);
    }

    [Theory]
    [InlineData("no blank line\n\u2014 a AAAAAAA=\n")]
    [InlineData("text\n\n- a AAAAAAA=\n")]
    [InlineData("text\n\n\u2014 a not-base64!\n")]
    [InlineData("text\n\n\u2014 a AAA=\n")]
    [InlineData("text\n\n\u2014 a+b AAAAAAA=\n")]
    [InlineData("te\u0001xt\n\n\u2014 a AAAAAAA=\n")]
    [InlineData("text\n\n\u2014 a AAAAAAA=")]
    public void Malformed_notes_are_refused(string note) =>
        Assert.False(SignedNote.TryParse(note, out _, out _));

    [Theory]
    [InlineData("origin\n12\n")]
    [InlineData("origin\n012\nAAAA\n")]
    [InlineData("origin\n-1\nAAAA\n")]
    [InlineData("origin\n12\nAAAA\n")]
    [InlineData("origin\n12\nnot base64\n")]
    [InlineData("\n12\nAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n")]
    public void Malformed_checkpoints_are_refused(string text) =>
        Assert.False(Checkpoint.TryParse(text, out _, out _));

    [Fact]
    public void Key_ids_follow_the_signed_note_recipe()
    {
        var expected = System.Buffers.Binary.BinaryPrimitives.ReadUInt32BigEndian(
            SHA256.HashData([.. "exchange-audit/uk"u8.ToArray(), 0x0A, 0x02, .. Log.PublicKey]));
        Assert.Equal(expected, Log.KeyId);
    }
}
