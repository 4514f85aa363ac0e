using System.Diagnostics;
using RabbitMQ.Client;
using RabbitMQ.Client.Events;

namespace Exchange.LoadTest;

/// <summary>
/// The broker alone: RabbitMQ.Client publishing persistent messages of the same size to the same
/// number of quorum queues with publisher confirms, consumed with acks, in the same run.
/// </summary>
internal static class RawBaseline
{
    public static async Task<(double MessagesPerSecond, TimeSpan Elapsed)> RunAsync(Func<Task<IConnection>> connect, int queues, int messages, int messageBytes)
    {
        var names = Enumerable.Range(0, queues).Select(i => $"raw.baseline.{Guid.NewGuid():N}.{i}").ToArray();
        await using var publisherConnection = await connect();
        await using var consumerConnection = await connect();
        await using var setup = await publisherConnection.CreateChannelAsync();
        foreach (var name in names)
        {
            await setup.QueueDeclareAsync(name, durable: true, exclusive: false, autoDelete: false, arguments: new Dictionary<string, object?> { ["x-queue-type"] = "quorum" });
        }

        var received = 0;
        var done = new TaskCompletionSource();
        var consumers = new List<IChannel>();
        foreach (var name in names)
        {
            var channel = await consumerConnection.CreateChannelAsync();
            await channel.BasicQosAsync(0, 100, false);
            var consumer = new AsyncEventingBasicConsumer(channel);
            consumer.ReceivedAsync += async (_, delivery) =>
            {
                await channel.BasicAckAsync(delivery.DeliveryTag, multiple: false);
                if (Interlocked.Increment(ref received) == messages)
                {
                    done.TrySetResult();
                }
            };
            await channel.BasicConsumeAsync(name, autoAck: false, consumer);
            consumers.Add(channel);
        }

        var body = new byte[messageBytes];
        Random.Shared.NextBytes(body);
        var properties = new BasicProperties { DeliveryMode = DeliveryModes.Persistent, ContentType = "application/vnd.masstransit+json" };
        await using var publisher = await publisherConnection.CreateChannelAsync(new CreateChannelOptions(publisherConfirmationsEnabled: true, publisherConfirmationTrackingEnabled: true));
        var clock = Stopwatch.StartNew();
        var inFlight = new List<Task>();
        for (var i = 0; i < messages; i++)
        {
            inFlight.Add(publisher.BasicPublishAsync("", names[i % queues], mandatory: false, properties, body).AsTask());
            if (inFlight.Count >= 512)
            {
                await Task.WhenAll(inFlight);
                inFlight.Clear();
            }
        }
        await Task.WhenAll(inFlight);
        await done.Task.WaitAsync(TimeSpan.FromMinutes(5));
        clock.Stop();

        foreach (var channel in consumers)
        {
            await channel.CloseAsync();
        }
        foreach (var name in names)
        {
            await setup.QueueDeleteAsync(name);
        }
        return (messages / clock.Elapsed.TotalSeconds, clock.Elapsed);
    }
}
