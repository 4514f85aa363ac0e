using Exchange.Node.Disclosure;
using Exchange.Testing;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace Exchange.EndToEnd.Tests;

/// <summary>
/// Plays a peer (or an attacker holding a peer's broker credentials): seals envelopes with the
/// test's copies of institutes' keys and sends them straight to a node's deliveries exchange.
/// </summary>
internal sealed class EnvelopeInjector : IAsyncDisposable
{
    private readonly RabbitMqEnvelopeTransport _transport;

    private EnvelopeInjector(RabbitMqEnvelopeTransport transport, TestManifest manifest)
    {
        _transport = transport;
        Keys = new TestEnvelopes(manifest);
    }

    /// <summary>Seals with the keys of the network's manifest.</summary>
    public TestEnvelopes Keys { get; }

    /// <summary>Publishes as the institute's broker user, through the node's own transport: what a node that went rogue could send.</summary>
    public static Task<EnvelopeInjector> ConnectAsAsync(RabbitNetworkFixture network, string institute)
    {
        var credential = network.Broker.CredentialOf(institute);
        var options = Options.Create(new BrokerOptions
        {
            Host = RabbitMqTestBroker.Host,
            VirtualHost = network.Broker.VirtualHost,
            Username = credential.Username,
            Password = credential.Password,
        });
        return Task.FromResult(new EnvelopeInjector(new RabbitMqEnvelopeTransport(options, NullLogger<RabbitMqEnvelopeTransport>.Instance), network.Manifest));
    }

    public Task SendAsync(string recipient, byte[] envelope) =>
        _transport.SendAsync($"exchange.{recipient}.inbox", envelope, Guid.NewGuid().ToString("N"), CancellationToken.None);

    public ValueTask DisposeAsync() => _transport.DisposeAsync();
}
