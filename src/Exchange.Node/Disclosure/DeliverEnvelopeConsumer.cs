using Exchange.Messages;
using MassTransit;

namespace Exchange.Node.Disclosure;

/// <summary>Takes an envelope off this node's queue and hands it to the inbox, in a scope of the node.</summary>
public sealed class DeliverEnvelopeConsumer(IServiceScopeFactory scopes) : IConsumer<DeliverEnvelope>
{
    public async Task Consume(ConsumeContext<DeliverEnvelope> context)
    {
        await using var scope = scopes.CreateAsyncScope();
        await scope.ServiceProvider.GetRequiredService<InboxProcessor>().ProcessAsync(context.Message.Envelope, context.CancellationToken);
    }
}

/// <summary>
/// An envelope that failed verification. It is recorded in the audit log and then dead-lettered
/// (MassTransit moves it to the queue's _error queue with this message as its reason), never retried.
/// </summary>
public sealed class EnvelopeRejectedException(string code, string detail) : Exception($"{code}: {detail}")
{
    public string Code { get; } = code;
}
