using Exchange.Messages;
using Exchange.Testing;
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
