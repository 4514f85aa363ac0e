using Exchange.V1;
using Grpc.Core;

namespace Exchange.Testing;

/// <summary>One open subscription: the events before it went live, the cursor it went live at, and the rest on demand.</summary>
public sealed class FeedSubscriber : IAsyncDisposable
{
    private readonly AsyncServerStreamingCall<SubscribeResponse> _call;
    private static readonly TimeSpan ReadTimeout = TimeSpan.FromSeconds(60);

    private FeedSubscriber(AsyncServerStreamingCall<SubscribeResponse> call) => _call = call;

    public List<FeedEvent> EventsBeforeLive { get; } = [];

    /// <summary>Every event read so far, before and after going live.</summary>
    public List<FeedEvent> Events { get; } = [];

    /// <summary>The cursor of the first heartbeat: the feed up to here has been sent.</summary>
    public ulong StartCursor { get; private set; }

    public static async Task<FeedSubscriber> OpenAsync(SubscriptionService.SubscriptionServiceClient client, SubscribeRequest request, Metadata auth)
    {
        var subscriber = new FeedSubscriber(client.Subscribe(request, auth));
        try
        {
            while (true)
            {
                var item = await subscriber.NextAsync();
                if (item.Heartbeat is { CaughtUp: true } heartbeat)
                {
                    subscriber.StartCursor = heartbeat.Cursor;
                    return subscriber;
                }
                if (item.Event is { } e)
                {
                    subscriber.EventsBeforeLive.Add(e);
                    subscriber.Events.Add(e);
                }
            }
        }
        catch
        {
            await subscriber.DisposeAsync();
            throw;
        }
    }

    public async Task<List<FeedEvent>> NextEventsAsync(int count)
    {
        var events = new List<FeedEvent>(count);
        while (events.Count < count)
        {
            if ((await NextAsync()).Event is { } e)
            {
                events.Add(e);
                Events.Add(e);
            }
        }
        return events;
    }

    /// <summary>Reads until an event that matches, keeping every event read on the way.</summary>
    public async Task<FeedEvent> UntilAsync(Func<FeedEvent, bool> match)
    {
        while (true)
        {
            if ((await NextAsync()).Event is { } e)
            {
                Events.Add(e);
                if (match(e))
                {
                    return e;
                }
            }
        }
    }

    /// <summary>Reads up to the next heartbeat: everything the node had to send until then is in <see cref="Events"/>.</summary>
    public async Task DrainAsync()
    {
        while ((await NextAsync()) is { Event: { } e })
        {
            Events.Add(e);
        }
    }

    private async Task<SubscribeResponse> NextAsync()
    {
        // A timeout per read, not per subscription: a slow test is not a broken feed.
        using var timeout = new CancellationTokenSource(ReadTimeout);
        if (!await _call.ResponseStream.MoveNext(timeout.Token))
        {
            throw new InvalidOperationException("the node ended the subscription");
        }
        return _call.ResponseStream.Current;
    }

    public ValueTask DisposeAsync()
    {
        _call.Dispose();
        return ValueTask.CompletedTask;
    }
}
