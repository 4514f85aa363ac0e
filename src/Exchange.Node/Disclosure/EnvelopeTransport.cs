using System.Collections.Concurrent;
using System.Text.Json;
using Exchange.Messages;
using Microsoft.Extensions.Options;
using RabbitMQ.Client;
using RabbitMQ.Client.Exceptions;

namespace Exchange.Node.Disclosure;

/// <summary>Hands an envelope to the broker for one peer's queue; completes when the broker has it.</summary>
public interface IEnvelopeTransport
{
    Task SendAsync(string queue, byte[] envelope, string messageId, CancellationToken cancellationToken);
}

/// <summary>
/// Publishes to a peer's deliveries exchange with RabbitMQ.Client directly, <c>mandatory</c> and
/// with publisher confirms: the send completes only when the broker has routed the message to a
/// queue and confirmed it, and throws <see cref="UnroutableEnvelopeException"/> when the broker
/// returns it (the exchange has no binding) or <see cref="PublishException"/> when it nacks it.
/// Unlike a MassTransit send endpoint this declares nothing, so an institute's broker user needs no
/// configure permission on any peer's exchange (<see cref="Domain.Network.BrokerTopology.Permissions"/>)
/// and therefore cannot delete or re-declare one either. The body is MassTransit's JSON message
/// envelope (<c>application/vnd.masstransit+json</c>, documented under MassTransit's
/// "Interoperability"), so the peer's MassTransit receive endpoint consumes it as any other
/// <see cref="DeliverEnvelope"/>. One connection, one confirming channel per peer exchange.
/// </summary>
internal sealed class RabbitMqEnvelopeTransport(IOptions<BrokerOptions> options, ILogger<RabbitMqEnvelopeTransport> logger) : IEnvelopeTransport, IAsyncDisposable
{
    private const string MessageType = "urn:message:Exchange.Messages:DeliverEnvelope";
    private readonly SemaphoreSlim _connecting = new(1, 1);
    private readonly ConcurrentDictionary<string, Task<IChannel>> _channels = new();
    private IConnection? _connection;

    public async Task SendAsync(string queue, byte[] envelope, string messageId, CancellationToken cancellationToken)
    {
        var exchange = BrokerOptions.DeliveriesExchange(queue);
        var channel = await ChannelAsync(exchange, cancellationToken);
        var properties = new BasicProperties
        {
            MessageId = Guid.Parse(messageId).ToString(),
            ContentType = "application/vnd.masstransit+json",
            DeliveryMode = DeliveryModes.Persistent,
        };
        try
        {
            await channel.BasicPublishAsync(exchange, "", mandatory: true, properties, Body(envelope, messageId, exchange), cancellationToken);
        }
        catch (PublishException e) when (e.IsReturn)
        {
            throw new UnroutableEnvelopeException(exchange);
        }
        catch (Exception e) when (e is not PublishException)
        {
            // Closed under us, timed out waiting for a confirm, cancelled: a channel in an unknown
            // state is not used again; the next send opens a fresh one (and a fresh connection if
            // this one is gone). A nack (PublishException) leaves the channel sound.
            Forget(exchange, channel);
            throw;
        }
    }

    private void Forget(string exchange, IChannel channel)
    {
        if (_channels.TryGetValue(exchange, out var opening) && opening.IsCompletedSuccessfully && ReferenceEquals(opening.Result, channel))
        {
            _channels.TryRemove(new KeyValuePair<string, Task<IChannel>>(exchange, opening));
        }
        _ = CloseQuietlyAsync(channel);
    }

    private static async Task CloseQuietlyAsync(IChannel channel)
    {
        try
        {
            await channel.DisposeAsync();
        }
        catch (Exception)
        {
            // Already closed by the broker or with its connection.
        }
    }

    private async Task<IChannel> ChannelAsync(string exchange, CancellationToken cancellationToken)
    {
        while (true)
        {
            var opening = _channels.GetOrAdd(exchange, _ => OpenChannelAsync(cancellationToken));
            IChannel channel;
            try
            {
                channel = await opening;
            }
            catch
            {
                _channels.TryRemove(new KeyValuePair<string, Task<IChannel>>(exchange, opening));
                throw;
            }
            if (channel.IsOpen)
            {
                return channel;
            }
            _channels.TryRemove(new KeyValuePair<string, Task<IChannel>>(exchange, opening));
            await channel.DisposeAsync();
        }
    }

    private async Task<IChannel> OpenChannelAsync(CancellationToken cancellationToken)
    {
        var connection = await ConnectionAsync(cancellationToken);
        return await connection.CreateChannelAsync(
            new CreateChannelOptions(publisherConfirmationsEnabled: true, publisherConfirmationTrackingEnabled: true),
            cancellationToken);
    }

    private async Task<IConnection> ConnectionAsync(CancellationToken cancellationToken)
    {
        if (_connection is { IsOpen: true } open)
        {
            return open;
        }
        await _connecting.WaitAsync(cancellationToken);
        try
        {
            if (_connection is { IsOpen: true } opened)
            {
                return opened;
            }
            if (_connection is not null)
            {
                await _connection.DisposeAsync();
                _connection = null;
            }
            var broker = options.Value;
            var factory = new ConnectionFactory
            {
                VirtualHost = broker.VirtualHost,
                UserName = broker.Username,
                Password = broker.Password,
                ClientProvidedName = "exchange-outbox",
                // Recovery is ours: a connection or channel found closed, or one a send gave up on,
                // is replaced by the next send. (With the library's recovery on, sends stopped
                // completing after the broker closed every connection: FaultTests.Closing_every_broker_connection….)
                AutomaticRecoveryEnabled = false,
                // Well inside Broker:SendTimeout: a cluster node that black-holes connections is
                // passed over for the next one before the batch's sends time out.
                RequestedConnectionTimeout = TimeSpan.FromSeconds(10),
                // Nothing is declared, so there is no topology to recover.
                TopologyRecoveryEnabled = false,
            };
            var hosts = broker.ClusterNodes.Length > 0 ? broker.ClusterNodes : [$"{broker.Host}:{broker.Port}"];
            var endpoints = hosts.Select(h => Endpoint(h, broker)).ToList();
            _connection = await factory.CreateConnectionAsync(endpoints, cancellationToken);
            logger.LogInformation("Outbox connected to RabbitMQ at {Endpoint}", _connection.Endpoint);
            return _connection;
        }
        finally
        {
            _connecting.Release();
        }
    }

    private static AmqpTcpEndpoint Endpoint(string host, BrokerOptions broker)
    {
        var colon = host.LastIndexOf(':');
        var (name, port) = colon > 0 && int.TryParse(host[(colon + 1)..], out var p) ? (host[..colon], p) : (host, (int)broker.Port);
        // One TLS server name for every cluster node, as for MassTransit's connection (README: Broker:ClusterNodes).
        var ssl = new SslOption { Enabled = broker.UseTls, ServerName = broker.Host };
        return new AmqpTcpEndpoint(name, port, ssl);
    }

    /// <summary>MassTransit's JSON message envelope around one <see cref="DeliverEnvelope"/>.</summary>
    private static byte[] Body(byte[] envelope, string messageId, string exchange) => JsonSerializer.SerializeToUtf8Bytes(new
    {
        messageId = Guid.Parse(messageId),
        destinationAddress = $"exchange:{exchange}",
        messageType = new[] { MessageType },
        message = new { envelope },
        sentTime = DateTime.UtcNow,
        headers = new { },
    });

    public async ValueTask DisposeAsync()
    {
        foreach (var opening in _channels.Values)
        {
            try
            {
                await (await opening).DisposeAsync();
            }
            catch (Exception)
            {
                // A channel that never opened has nothing to close.
            }
        }
        if (_connection is not null)
        {
            await _connection.DisposeAsync();
        }
    }
}

/// <summary>The broker returned a mandatory message: the peer's deliveries exchange routes to no queue.</summary>
public sealed class UnroutableEnvelopeException(string exchange)
    : Exception($"the broker returned the envelope: exchange '{exchange}' routes to no queue (its binding is gone); it will be sent again");
