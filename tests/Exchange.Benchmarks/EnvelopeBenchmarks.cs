using System.Security.Cryptography;
using BenchmarkDotNet.Attributes;
using Exchange.Envelopes;
using Exchange.V1;
using Google.Protobuf;
using Google.Protobuf.WellKnownTypes;

namespace Exchange.Benchmarks;

/// <summary>
/// The cryptography of one envelope: seal (one-time ECDH key, ECDH, HKDF, AES-GCM, ECDSA sign) and
/// open (ECDSA verify, ECDH, HKDF, AES-GCM), against the baseline of serialising the same payload.
/// </summary>
[MemoryDiagnoser]
public class EnvelopeBenchmarks
{
    private readonly ECDsa _signing = ECDsa.Create(ECCurve.NamedCurves.nistP256);
    private readonly ECDiffieHellman _recipient = ECDiffieHellman.Create(ECCurve.NamedCurves.nistP256);
    private EnvelopeSealer _sealer = null!;
    private EnvelopeOpener _opener = null!;
    private FindingPayload _payload = null!;
    private byte[] _payloadBytes = [];
    private byte[] _envelope = [];
    private byte[] _recipientKeyId = [];
    private byte[] _hash = [];

    [GlobalSetup]
    public void Setup()
    {
        var signingKeyId = KeyIds.Of(_signing.ExportSubjectPublicKeyInfo());
        _recipientKeyId = KeyIds.Of(_recipient.ExportSubjectPublicKeyInfo());
        _sealer = new EnvelopeSealer(_signing, signingKeyId);
        _opener = new EnvelopeOpener("b", _ => (_signing, signingKeyId), id => id.Span.SequenceEqual(_recipientKeyId) ? _recipient : null);
        _payload = new FindingPayload
        {
            Finding = new Finding
            {
                Id = "a-0193",
                OriginInstitute = "a",
                Version = 1,
                Content = new FindingContent
                {
                    Title = "Uplift on capture-the-flag tasks",
                    Summary = "The model solved 7 of 40 professional CTF challenges unaided.",
                    Narrative = new string('n', 1200),
                    Metrics = { new Metric { Name = "accuracy", Scorer = "includes", Value = 0.175, Stderr = 0.06 } },
                },
                Label = new Label { Level = TlpLevel.Amber },
            },
        };
        _payloadBytes = _payload.ToByteArray();
        _envelope = _sealer.Seal(Header(), _payloadBytes, _recipient, _recipientKeyId);
        _hash = SHA256.HashData(_payloadBytes);
    }

    private static EnvelopeHeader Header() => new()
    {
        MessageId = "0193a2b4c5d6e7f8091a2b3c4d5e6f70",
        Origin = "a",
        Recipient = "b",
        Kind = EnvelopeKind.Finding,
        FindingId = "a-0193",
        FindingVersion = 1,
        Label = TlpLevel.Amber,
        CreatedAt = Timestamp.FromDateTimeOffset(DateTimeOffset.UnixEpoch),
    };

    [Benchmark(Baseline = true)]
    public byte[] SerializePayload() => _payload.ToByteArray();

    [Benchmark]
    public byte[] Seal() => _sealer.Seal(Header(), _payloadBytes, _recipient, _recipientKeyId);

    [Benchmark]
    public EnvelopeOpenResult Open() => _opener.Open(_envelope);

    [Benchmark]
    public byte[] Sign() => _signing.SignHash(_hash, DSASignatureFormat.IeeeP1363FixedFieldConcatenation);

    [Benchmark]
    public bool Verify() => _signing.VerifyHash(_hash, _envelope.AsSpan(_envelope.Length - 64), DSASignatureFormat.IeeeP1363FixedFieldConcatenation);
}
