using System.Security.Cryptography;
using Exchange.Envelopes;
using Exchange.Messages;
using Exchange.Testing;
using Exchange.V1;
using Google.Protobuf;
using Google.Protobuf.WellKnownTypes;
using MassTransit;

namespace Exchange.EndToEnd.Tests;

/// <summary>
/// Plays a peer (or an attacker holding a peer's broker credentials): seals envelopes with the
/// test's copies of institutes' keys and sends them straight to a node's deliveries exchange.
/// </summary>
internal sealed class EnvelopeInjector : IAsyncDisposable
{
    private readonly IBusControl _bus;

    private EnvelopeInjector(IBusControl bus, TestManifest manifest)
    {
        _bus = bus;
        Keys = new TestEnvelopes(manifest);
    }

    /// <summary>Seals with the keys of the network's manifest.</summary>
    public TestEnvelopes Keys { get; }

    public static async Task<EnvelopeInjector> ConnectAsAsync(RabbitNetworkFixture network, string institute)
    {
        var credential = network.Broker.CredentialOf(institute);
        var bus = Bus.Factory.CreateUsingRabbitMq(cfg => cfg.Host(RabbitMqTestBroker.Host, network.Broker.VirtualHost, h =>
        {
            h.Username(credential.Username);
            h.Password(credential.Password);
        }));
        await bus.StartAsync();
        return new EnvelopeInjector(bus, network.Manifest);
    }

    public async Task SendAsync(string recipient, byte[] envelope)
    {
        var endpoint = await _bus.GetSendEndpoint(new Uri($"exchange:exchange.{recipient}.inbox.deliveries"));
        await endpoint.Send(new DeliverEnvelope(envelope));
    }

    public async ValueTask DisposeAsync() => await _bus.StopAsync();
}

/// <summary>Envelopes sealed with the private keys a test manifest holds.</summary>
internal sealed class TestEnvelopes(TestManifest manifest)
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
