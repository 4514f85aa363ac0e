using System.Security.Cryptography;
using CsCheck;
using Exchange.V1;
using Google.Protobuf;
using Google.Protobuf.WellKnownTypes;

namespace Exchange.Envelopes.Tests;

public sealed class EnvelopeTests
{
    private sealed class Party(string id)
    {
        public string Id { get; } = id;
        public ECDsa Signing { get; } = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        public ECDiffieHellman Encryption { get; } = ECDiffieHellman.Create(ECCurve.NamedCurves.nistP256);
        public byte[] SigningKeyId => KeyIds.Of(Signing.ExportSubjectPublicKeyInfo());
        public byte[] EncryptionKeyId => KeyIds.Of(Encryption.ExportSubjectPublicKeyInfo());
        public EnvelopeSealer Sealer => new(Signing, SigningKeyId);
    }

    private static readonly Party A = new("a");
    private static readonly Party B = new("b");
    private static readonly Party C = new("c");
    private static readonly Party[] Manifest = [A, B, C];

    private static EnvelopeOpener OpenerFor(Party self, IEnumerable<Party>? trusted = null) => new(
        self.Id,
        origin => (trusted ?? Manifest).FirstOrDefault(p => p.Id == origin) is { } p ? (p.Signing, p.SigningKeyId) : null,
        keyId => keyId.Span.SequenceEqual(self.EncryptionKeyId) ? self.Encryption : null);

    private static EnvelopeHeader Header(string origin = "a", string recipient = "b") => new()
    {
        MessageId = Guid.NewGuid().ToString("N"),
        Origin = origin,
        Recipient = recipient,
        Kind = EnvelopeKind.Finding,
        FindingId = "a-1",
        FindingVersion = 1,
        Label = TlpLevel.Red,
        CreatedAt = Timestamp.FromDateTimeOffset(DateTimeOffset.UtcNow),
    };

    private static byte[] Seal(Party from, Party to, EnvelopeHeader header, byte[] payload) =>
        from.Sealer.Seal(header, payload, to.Encryption, to.EncryptionKeyId);

    [Fact]
    public void Mutated_envelopes_are_refused_with_a_reason_and_only_an_unchanged_one_opens()
    {
        var genuine = Seal(A, B, Header(), "RED: exploit chain details"u8.ToArray());
        var opener = OpenerFor(B);
        Exchange.Fuzzing.ByteMutations.Of(genuine).Sample(mutated =>
        {
            var result = opener.Open(mutated);
            if (result.Opened is not null)
            {
                Assert.Equal(genuine, mutated);
            }
            else
            {
                Assert.NotNull(result.Rejection);
            }
        }, iter: 2000);
    }

    // Found by the fuzzer (seed eoIr46jN54O1 on a random envelope): a copy of the nonce field
    // appended decodes to the same, correctly signed envelope. Such bytes are refused, as are
    // unknown fields, so that only the origin's own bytes open.
    [Theory]
    [InlineData("repeated field")]
    [InlineData("unknown field")]
    [InlineData("fields reordered")]
    public void Other_encodings_of_a_genuine_envelope_are_refused(string change)
    {
        var genuine = Seal(A, B, Header(), "RED: exploit chain details"u8.ToArray());
        var parsed = SealedEnvelope.Parser.ParseFrom(genuine);
        var variant = change switch
        {
            "repeated field" => [.. genuine, .. new SealedEnvelope { Nonce = parsed.Nonce }.ToByteArray()],
            "unknown field" => [.. genuine, 120, 1],
            _ => (byte[])[.. new SealedEnvelope { Signature = parsed.Signature }.ToByteArray(), .. new SealedEnvelope(parsed) { Signature = ByteString.Empty }.ToByteArray()],
        };
        Assert.Equal(parsed, SealedEnvelope.Parser.WithDiscardUnknownFields(true).ParseFrom(variant));
        Assert.NotEqual(genuine, variant);

        var result = OpenerFor(B).Open(variant);

        Assert.Null(result.Opened);
        Assert.Equal(EnvelopeRejection.Malformed, result.Rejection!.Code);
    }

    [Fact]
    public void The_recipient_opens_what_the_origin_sealed()
    {
        var payload = "RED: exploit chain details"u8.ToArray();
        var header = Header();
        var bytes = Seal(A, B, header, payload);

        var result = OpenerFor(B).Open(bytes);

        Assert.Null(result.Rejection);
        Assert.Equal(payload, result.Opened!.Payload);
        Assert.Equal(header, result.Opened.Header);
        Assert.Equal(SHA256.HashData(bytes), result.Opened.Sha256);
    }

    [Fact]
    public void The_payload_does_not_appear_in_the_envelope()
    {
        var payload = System.Text.Encoding.UTF8.GetBytes("secret-" + Guid.NewGuid());
        var bytes = Seal(A, B, Header(), payload);
        Assert.True(bytes.AsSpan().IndexOf(payload) < 0);
    }

    [Fact]
    public void Another_peer_cannot_read_it_even_if_it_ignores_the_address()
    {
        var bytes = Seal(A, B, Header(), "for b only"u8.ToArray());

        var atC = OpenerFor(C).Open(bytes);
        // C pretending to be B, but holding only its own decryption key.
        var cAsB = new EnvelopeOpener("b", o => (A.Signing, A.SigningKeyId), _ => C.Encryption).Open(bytes);

        Assert.Equal(EnvelopeRejection.Misaddressed, atC.Rejection!.Code);
        Assert.Equal(EnvelopeRejection.Undecryptable, cAsB.Rejection!.Code);
    }

    [Fact]
    public void Any_single_bit_flipped_anywhere_is_refused()
    {
        var bytes = Seal(A, B, Header(), "payload that must not change"u8.ToArray());
        var opener = OpenerFor(B);
        Gen.Int[0, bytes.Length * 8 - 1].Sample(bit =>
        {
            var tampered = (byte[])bytes.Clone();
            tampered[bit / 8] ^= (byte)(1 << (bit % 8));
            var result = opener.Open(tampered);
            Assert.NotNull(result.Rejection);
            Assert.Null(result.Opened);
        }, iter: 2000);
    }

    [Fact]
    public void Each_part_changed_is_refused()
    {
        var bytes = Seal(A, B, Header(), "payload"u8.ToArray());
        var opener = OpenerFor(B);
        foreach (var change in new Action<SealedEnvelope>[]
        {
            e =>
            {
                var other = EnvelopeHeader.Parser.ParseFrom(e.Header);
                other.Label = TlpLevel.Clear;
                e.Header = other.ToByteString();
            },
            e => e.EphemeralKey = ByteString.CopyFrom(ECDiffieHellman.Create(ECCurve.NamedCurves.nistP256).ExportSubjectPublicKeyInfo()),
            e => e.Nonce = ByteString.CopyFrom(new byte[12]),
            e => e.Ciphertext = ByteString.CopyFrom(new byte[e.Ciphertext.Length]),
            e => e.Tag = ByteString.CopyFrom(new byte[16]),
            e => e.Signature = ByteString.CopyFrom(new byte[64]),
        })
        {
            var envelope = SealedEnvelope.Parser.ParseFrom(bytes);
            change(envelope);
            Assert.Equal(EnvelopeRejection.BadSignature, opener.Open(envelope.ToByteArray()).Rejection?.Code);
        }
    }

    [Fact]
    public void An_envelope_signed_by_one_peer_in_the_name_of_another_is_refused()
    {
        // C signs with its own key but claims to be A, naming A's key id.
        var forger = new EnvelopeSealer(C.Signing, A.SigningKeyId);
        var forged = forger.Seal(Header(origin: "a"), "fake finding"u8.ToArray(), B.Encryption, B.EncryptionKeyId);
        // C signs with its own key, claims to be A, names its own key id.
        var honestKeyId = C.Sealer.Seal(Header(origin: "a"), "fake finding"u8.ToArray(), B.Encryption, B.EncryptionKeyId);

        Assert.Equal(EnvelopeRejection.BadSignature, OpenerFor(B).Open(forged).Rejection?.Code);
        Assert.Equal(EnvelopeRejection.UnknownSigningKey, OpenerFor(B).Open(honestKeyId).Rejection?.Code);
    }

    [Fact]
    public void An_envelope_from_an_origin_outside_the_manifest_is_refused()
    {
        var stranger = new Party("x");
        var bytes = Seal(stranger, B, Header(origin: "x"), "hello"u8.ToArray());
        Assert.Equal(EnvelopeRejection.UnknownOrigin, OpenerFor(B).Open(bytes).Rejection?.Code);
        Assert.Equal(EnvelopeRejection.UnknownOrigin, OpenerFor(B, trusted: [B, C]).Open(Seal(A, B, Header(), "x"u8.ToArray())).Rejection?.Code);
    }

    [Fact]
    public void An_envelope_sealed_to_a_key_the_recipient_does_not_hold_is_refused()
    {
        var bytes = A.Sealer.Seal(Header(), "x"u8.ToArray(), C.Encryption, C.EncryptionKeyId);
        Assert.Equal(EnvelopeRejection.UnknownRecipientKey, OpenerFor(B).Open(bytes).Rejection?.Code);
    }

    [Fact]
    public void Garbage_is_refused_as_malformed_and_never_throws()
    {
        var opener = OpenerFor(B);
        Gen.Byte.Array[0, 600].Sample(bytes =>
        {
            var result = opener.Open(bytes);
            Assert.NotNull(result.Rejection);
        }, iter: 3000);
    }

    [Fact]
    public void Oversized_envelopes_are_refused_before_parsing()
    {
        var opener = new EnvelopeOpener("b", _ => null, _ => null, maxEnvelopeBytes: 100);
        Assert.Equal(EnvelopeRejection.TooLarge, opener.Open(new byte[101]).Rejection?.Code);
    }

    [Fact]
    public void A_future_format_version_is_refused()
    {
        var envelope = SealedEnvelope.Parser.ParseFrom(Seal(A, B, Header(), "x"u8.ToArray()));
        var header = EnvelopeHeader.Parser.ParseFrom(envelope.Header);
        header.FormatVersion = 2;
        envelope.Header = header.ToByteString();
        Assert.Equal(EnvelopeRejection.UnsupportedVersion, OpenerFor(B).Open(envelope.ToByteArray()).Rejection?.Code);
    }
}
