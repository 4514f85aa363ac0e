using Exchange.Messages;
using MassTransit;

namespace Exchange.Node.Disclosure;

/// <summary>
/// One MassTransit in-memory bus shared by the nodes of one process (the demo, fast tests): each node
/// connects a receive endpoint for its queue, and sends to the others' queues through it.
/// </summary>
public sealed class InMemoryBroker : IAsyncDisposable
{
    private readonly IBusControl _bus = Bus.Factory.CreateUsingInMemory(_ => { });
    private readonly SemaphoreSlim _start = new(1, 1);
    private bool _started;

    public async Task<HostReceiveEndpointHandle> ConnectAsync(string queue, IServiceScopeFactory node, CancellationToken cancellationToken)
    {
        await StartAsync(cancellationToken);
        var handle = _bus.ConnectReceiveEndpoint(queue, endpoint =>
        {
            endpoint.PublishFaults = false;
            endpoint.UseMessageRetry(retry =>
            {
                retry.Ignore<EnvelopeRejectedException>();
                retry.Intervals(50, 200, 1000);
            });
            endpoint.Consumer(() => new DeliverEnvelopeConsumer(node));
        });
        await handle.Ready;
        return handle;
    }

    public async Task SendAsync(string queue, byte[] envelope, string messageId, CancellationToken cancellationToken)
    {
        await StartAsync(cancellationToken);
        var endpoint = await _bus.GetSendEndpoint(new Uri($"queue:{queue}"));
        await endpoint.Send(new DeliverEnvelope(envelope), context => context.MessageId = Guid.Parse(messageId), cancellationToken);
    }

    private async Task StartAsync(CancellationToken cancellationToken)
    {
        if (_started)
        {
            return;
        }
        await _start.WaitAsync(cancellationToken);
        try
        {
            if (!_started)
            {
                await _bus.StartAsync(cancellationToken);
                _started = true;
            }
        }
        finally
        {
            _start.Release();
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (_started)
        {
            await _bus.StopAsync();
        }
        _start.Dispose();
    }
}

internal sealed class InMemoryEnvelopeTransport(InMemoryBroker broker) : IEnvelopeTransport
{
    public Task SendAsync(string queue, byte[] envelope, string messageId, CancellationToken cancellationToken) =>
        broker.SendAsync(queue, envelope, messageId, cancellationToken);
}

/// <summary>Connects this node's queue to the shared in-memory bus for as long as the node runs.</summary>
internal sealed class InMemoryInboxConnection(InMemoryBroker broker, IServiceScopeFactory scopes, Network.PeerDirectory peers, Microsoft.Extensions.Options.IOptions<NodeOptions> node,
    ILogger<InMemoryInboxConnection> logger) : IHostedService
{
    private HostReceiveEndpointHandle? _handle;

    public async Task StartAsync(CancellationToken cancellationToken) =>
        _handle = await broker.ConnectAsync(peers.Get(node.Value.InstituteId).Queue, scopes, cancellationToken);

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        if (_handle is null)
        {
            return;
        }
        try
        {
            await _handle.StopAsync(cancellationToken);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            // MassTransit's in-memory receive endpoint has been seen to throw NullReferenceException
            // from Stop at shutdown (once in many test runs). The node is going away, and this
            // transport (demo, fast tests) holds nothing durable, so shutdown goes on.
            logger.LogWarning(e, "Stopping the in-memory receive endpoint failed; the node stops anyway");
        }
    }
}
