using System.Diagnostics;
using Exchange.Domain;
using Exchange.Domain.Findings;
using Exchange.Domain.Network;
using Exchange.Domain.Subscriptions;
using Exchange.Node.Api;
using Exchange.Node.Audit;
using Exchange.Node.Identity;
using Exchange.V1;
using Google.Protobuf.WellKnownTypes;
using Grpc.Core;
using Microsoft.AspNetCore.Authorization;
using Microsoft.Extensions.Options;
using OpenIddict.Abstractions;

namespace Exchange.Node.Subscriptions;

/// <summary>
/// Each subscription reads the feed at its own pace, a page at a time, in its own database scope:
/// nothing is shared between subscribers but the growth signal, so a slow one (its writes held by
/// HTTP/2 flow control) holds one page in memory and slows no one else.
/// </summary>
[Authorize(Scopes.FindingsRead)]
internal sealed class SubscriptionGrpcService(
    IServiceScopeFactory scopes,
    AuditLogGrowth growth,
    SubscriptionSlots slots,
    NetworkManifest manifest,
    TimeProvider time,
    IOptions<SubscriptionOptions> options,
    ILogger<SubscriptionGrpcService> logger) : SubscriptionService.SubscriptionServiceBase
{
    private const uint DefaultHeartbeatSeconds = 15;
    private const uint MaxHeartbeatSeconds = 300;

    public override async Task Subscribe(SubscribeRequest request, IServerStreamWriter<SubscribeResponse> responseStream, ServerCallContext context)
    {
        var filter = FeedFilter.Create(request, manifest, context.HasScope(Scopes.FindingsReadRed), out var filterViolations);
        var violations = filterViolations.ToList();
        if (request.HeartbeatSeconds > MaxHeartbeatSeconds)
        {
            violations.Add(new FieldViolation("heartbeat_seconds", $"is {request.HeartbeatSeconds}; it must be between 1 and {MaxHeartbeatSeconds} (0 means {DefaultHeartbeatSeconds})"));
        }
        if (request.FromNow && request.AfterCursor > 0)
        {
            violations.Add(new FieldViolation("from_now", "cannot be combined with after_cursor"));
        }
        if (violations.Count > 0)
        {
            GrpcErrors.InvalidArgument("the subscription is not valid", violations);
        }
        using var slot = slots.TryTake()
            ?? throw new RpcException(new Status(StatusCode.ResourceExhausted, $"this node serves at most {options.Value.MaxSubscribers} subscriptions at once; try again later"));

        var cancellationToken = context.CancellationToken;
        var clientId = context.ClientId();
        var expires = context.GetHttpContext().User.GetExpirationDate();
        var heartbeat = TimeSpan.FromSeconds(request.HeartbeatSeconds == 0 ? DefaultHeartbeatSeconds : request.HeartbeatSeconds);
        var cursor = await StartAsync(request, cancellationToken);
        logger.LogInformation("Subscription of {Client} opened after cursor {Cursor}", clientId, cursor);

        var live = false;
        var lastWrite = Stopwatch.GetTimestamp();
        while (true)
        {
            // A token checked once at the start would let a revoked client follow the feed for ever.
            if (expires is { } expiry && time.GetUtcNow() >= expiry)
            {
                throw new RpcException(new Status(StatusCode.Unauthenticated, $"the access token expired; reconnect with a new one and after_cursor={cursor}"));
            }
            var grew = growth.Next;
            FeedPage page;
            await using (var scope = scopes.CreateAsyncScope())
            {
                page = await scope.ServiceProvider.GetRequiredService<FeedReader>()
                    .ReadAsync(cursor, filter, clientId, options.Value.PageSize, cancellationToken);
            }
            foreach (var feedEvent in page.Events)
            {
                await responseStream.WriteAsync(new SubscribeResponse { Event = feedEvent }, cancellationToken);
                lastWrite = Stopwatch.GetTimestamp();
            }
            cursor = page.ScannedTo;
            if (page.More)
            {
                continue;
            }
            // The first heartbeat says "you are live at this cursor"; later ones keep idle streams
            // open through proxies and let a filtered subscriber move its cursor past what it skips.
            if (!live || Stopwatch.GetElapsedTime(lastWrite) >= heartbeat)
            {
                await responseStream.WriteAsync(new SubscribeResponse
                {
                    Heartbeat = new Heartbeat { Cursor = cursor, At = Timestamp.FromDateTimeOffset(time.GetUtcNow()) },
                }, cancellationToken);
                lastWrite = Stopwatch.GetTimestamp();
                live = true;
            }
            var untilHeartbeat = heartbeat - Stopwatch.GetElapsedTime(lastWrite);
            await WaitAsync(grew, untilHeartbeat < options.Value.PollInterval ? untilHeartbeat : options.Value.PollInterval, cancellationToken);
        }
    }

    private async Task<ulong> StartAsync(SubscribeRequest request, CancellationToken cancellationToken)
    {
        await using var scope = scopes.CreateAsyncScope();
        var end = await scope.ServiceProvider.GetRequiredService<FeedReader>().EndAsync(cancellationToken);
        if (request.AfterCursor > end)
        {
            // Most likely a cursor from another node, or from before this database was restored:
            // starting at the end would silently skip, starting at 0 would silently repeat.
            GrpcErrors.InvalidArgument("after_cursor", $"is {request.AfterCursor}, beyond the end of this node's feed ({end}); is it a cursor from another node?");
        }
        return request.FromNow ? end : request.AfterCursor;
    }

    private static async Task WaitAsync(Task grew, TimeSpan timeout, CancellationToken cancellationToken)
    {
        if (timeout <= TimeSpan.Zero)
        {
            return;
        }
        using var wait = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        await Task.WhenAny(grew, Task.Delay(timeout, wait.Token));
        await wait.CancelAsync();
        cancellationToken.ThrowIfCancellationRequested();
    }
}
