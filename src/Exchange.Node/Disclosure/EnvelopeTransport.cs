using Exchange.Messages;
using MassTransit;

namespace Exchange.Node.Disclosure;

/// <summary>Hands an envelope to the broker for one peer's queue; completes when the broker has it.</summary>
public interface IEnvelopeTransport
{
    Task SendAsync(string queue, byte[] envelope, string messageId, CancellationToken cancellationToken);
}

/// <summary>
/// RabbitMQ through MassTransit, which waits for the publisher confirm before the send completes.
/// Sends go to the peer's deliveries exchange, bound to its inbox queue.
/// </summary>
internal sealed class RabbitMqEnvelopeTransport(ISendEndpointProvider endpoints) : IEnvelopeTransport
{
    public async Task SendAsync(string queue, byte[] envelope, string messageId, CancellationToken cancellationToken)
    {
        var endpoint = await endpoints.GetSendEndpoint(new Uri($"exchange:{BrokerOptions.DeliveriesExchange(queue)}"));
        await endpoint.Send(new DeliverEnvelope(envelope), context =>
        {
            context.MessageId = Guid.Parse(messageId);
            context.Durable = true;
        }, cancellationToken);
    }
}
