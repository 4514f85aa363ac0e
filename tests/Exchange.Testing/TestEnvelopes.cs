using System.Security.Cryptography;
using Exchange.Envelopes;
using Exchange.V1;
using Google.Protobuf;
using Google.Protobuf.WellKnownTypes;

namespace Exchange.Testing;

/// <summary>Envelopes sealed with the private keys a test manifest holds.</summary>
public sealed class TestEnvelopes(TestManifest manifest)
{
    /// <summary>An envelope as <paramref name="signer"/> would seal it, claiming to come from <paramref name="origin"/>.</summary>
    public byte[] Seal(string signer, string origin, string sealedTo, string addressedTo, EnvelopeKind kind, IMessage payload, string findingId, TlpLevel label, int version = 1)
    {
        var keys = manifest.Keys[signer];
        using var signing = ECDsa.Create();
        signing.ImportPkcs8PrivateKey(keys.SigningPrivateKey, out _);
        using var recipientKey = ECDiffieHellman.Create();
        recipientKey.ImportSubjectPublicKeyInfo(manifest.Keys[sealedTo].EncryptionPublicKey, out _);
        var header = new EnvelopeHeader
        {
            MessageId = Guid.NewGuid().ToString("N"),
            Origin = origin,
            Recipient = addressedTo,
            Kind = kind,
            FindingId = findingId,
            FindingVersion = version,
            Label = label,
            CreatedAt = Timestamp.FromDateTimeOffset(DateTimeOffset.UtcNow),
        };
        return new EnvelopeSealer(signing, KeyIds.Of(keys.SigningPublicKey))
            .Seal(header, payload.ToByteArray(), recipientKey, KeyIds.Of(manifest.Keys[sealedTo].EncryptionPublicKey));
    }

    /// <summary>A FINDING envelope carrying <paramref name="finding"/> from its origin to <paramref name="recipient"/>, genuinely signed.</summary>
    public byte[] Finding(Finding finding, string recipient) =>
        Seal(finding.OriginInstitute, finding.OriginInstitute, recipient, recipient, EnvelopeKind.Finding, new FindingPayload { Finding = finding }, finding.Id, finding.Label.Level, finding.Version);

    /// <summary>A WITHDRAWAL envelope from <paramref name="origin"/>, genuinely signed.</summary>
    public byte[] Withdrawal(string origin, string recipient, string findingId, int version, TlpLevel label, string reason) =>
        Seal(origin, origin, recipient, recipient, EnvelopeKind.Withdrawal, new WithdrawalPayload
        {
            FindingId = findingId,
            FindingVersion = version,
            Reason = reason,
            WithdrawnAt = Timestamp.FromDateTimeOffset(DateTimeOffset.UtcNow),
        }, findingId, label, version);

    /// <summary>Opens an envelope as <paramref name="recipient"/> would, with its private key from the manifest; throws if it does not open.</summary>
    public OpenedEnvelope Open(string recipient, byte[] envelope)
    {
        var keys = manifest.Keys[recipient];
        var decryption = ECDiffieHellman.Create();
        decryption.ImportPkcs8PrivateKey(keys.EncryptionPrivateKey, out _);
        var opener = new EnvelopeOpener(recipient, origin =>
        {
            if (!manifest.Keys.TryGetValue(origin, out var originKeys))
            {
                return null;
            }
            var key = ECDsa.Create();
            key.ImportSubjectPublicKeyInfo(originKeys.SigningPublicKey, out _);
            return (key, KeyIds.Of(originKeys.SigningPublicKey));
        }, keyId => keyId.Span.SequenceEqual(KeyIds.Of(keys.EncryptionPublicKey)) ? decryption : null);
        var result = opener.Open(envelope);
        return result.Opened ?? throw new InvalidOperationException($"{recipient} cannot open the envelope: {result.Rejection}");
    }

    /// <summary>The header of a sealed envelope, as the broker (and anyone on it) reads it.</summary>
    public static EnvelopeHeader HeaderOf(byte[] envelope) => EnvelopeHeader.Parser.ParseFrom(SealedEnvelope.Parser.ParseFrom(envelope).Header);

    /// <summary>A finding as its origin would send it: <paramref name="request"/>'s content, label and policy, version 1 unless said.</summary>
    public static Finding FindingFrom(string origin, SubmitFindingRequest request, string? id = null, int version = 1) => new()
    {
        Id = id ?? $"{origin}-{Guid.NewGuid():N}",
        OriginInstitute = origin,
        Version = version,
        Content = request.Content,
        Label = request.Label,
        Policy = request.Policy,
        State = FindingState.Active,
        SubmittedBy = "injector",
        SubmittedAt = Timestamp.FromDateTimeOffset(DateTimeOffset.UtcNow),
    };

    /// <summary>A FINDING envelope from <paramref name="origin"/>, genuinely signed with its key.</summary>
    public (byte[] Envelope, string FindingId) GenuineFinding(string origin, string recipient, TlpLevel label = TlpLevel.Green, RiskDomain domain = RiskDomain.Cyber)
    {
        var request = SampleFindings.Valid(label, domain, institutes: [recipient]);
        var finding = new Finding
        {
            Id = $"{origin}-{Guid.NewGuid():N}",
            OriginInstitute = origin,
            Version = 1,
            Content = request.Content,
            Label = request.Label,
            Policy = request.Policy,
            State = FindingState.Active,
            SubmittedBy = "injector",
            SubmittedAt = Timestamp.FromDateTimeOffset(DateTimeOffset.UtcNow),
        };
        var envelope = Seal(origin, origin, recipient, recipient, EnvelopeKind.Finding, new FindingPayload { Finding = finding }, finding.Id, label);
        return (envelope, finding.Id);
    }
}
