using System.Diagnostics;
using Exchange.Domain;
using Exchange.Domain.Findings;
using Exchange.Domain.Network;
using Exchange.Domain.Subscriptions;
using Exchange.Node.Access;
using Exchange.Node.Api;
using Exchange.Node.Audit;
using Exchange.Node.Identity;
using Exchange.V1;
using Google.Protobuf.WellKnownTypes;
using Grpc.Core;
using Microsoft.AspNetCore.Authorization;
using Microsoft.Extensions.Options;
using OpenIddict.Abstractions;
using OpenIddict.Validation;

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
    TokenRevocations revocations,
    OpenIddictValidationService validation,
    CurrentClientScopes clientScopes,
    NetworkManifest manifest,
    TimeProvider time,
    IOptions<SubscriptionOptions> options,
    ILogger<SubscriptionGrpcService> logger) : SubscriptionService.SubscriptionServiceBase
{
    private const uint DefaultHeartbeatSeconds = 15;
    private const uint MaxHeartbeatSeconds = 300;

    public override async Task Subscribe(SubscribeRequest request, IServerStreamWriter<SubscribeResponse> responseStream, ServerCallContext context)
    {
        var filter = FeedFilter.Create(request, manifest, out var filterViolations);
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
        var caller = Caller.From(context);
        var clientId = caller.ClientId;
        using var slot = slots.TryTake(clientId, out var refusal)
            ?? throw new RpcException(new Status(StatusCode.ResourceExhausted, refusal));

        var expires = context.GetHttpContext().User.GetExpirationDate();
        var heartbeat = TimeSpan.FromSeconds(request.HeartbeatSeconds == 0 ? DefaultHeartbeatSeconds : request.HeartbeatSeconds);
        var cursor = await StartAsync(request, context.CancellationToken);
        logger.LogInformation("Subscription of {Client} opened after cursor {Cursor}", clientId, cursor);
        // The token is checked on every turn against the node's clock; the timer also ends a stream
        // that is stuck in a write when the token runs out.
        using var stream = CancellationTokenSource.CreateLinkedTokenSource(context.CancellationToken);
        if (expires is { } at)
        {
            stream.CancelAfter(at - time.GetUtcNow() is { } left && left > TimeSpan.Zero ? left : TimeSpan.Zero);
        }
        var cancellationToken = stream.Token;
        var writer = new TimedWriter(responseStream, context, options.Value.WriteTimeout);

        var live = false;
        var lastWrite = Stopwatch.GetTimestamp();
        var lastTokenCheck = Stopwatch.GetTimestamp();
        var revoked = revocations.Next;
        try
        {
            while (true)
            {
                // A token checked once at the start would let a revoked client follow the feed for ever.
                if (expires is { } expiry && time.GetUtcNow() >= expiry)
                {
                    stream.Cancel();
                }
                cancellationToken.ThrowIfCancellationRequested();
                // A client removed, disabled or stripped of a scope has its tokens revoked: the
                // stream ends within the check interval (at once for a revocation in this process).
                if (revoked.IsCompleted || Stopwatch.GetElapsedTime(lastTokenCheck) >= options.Value.TokenCheckInterval)
                {
                    revoked = revocations.Next;
                    await EnsureTokenStillValidAsync(context, cursor);
                    // The client's configuration now, as for a call: a scope it lost is lost to the
                    // stream at once (RED events stop), and without findings:read the stream ends.
                    caller = caller with { Scopes = clientScopes.Effective(caller.ClientId, caller.Scopes) };
                    if (!caller.Scopes.Contains(Scopes.FindingsRead))
                    {
                        throw new RpcException(new Status(StatusCode.PermissionDenied,
                            $"this client no longer holds the scope {Scopes.FindingsRead}; resume with after_cursor={cursor} once it does"));
                    }
                    lastTokenCheck = Stopwatch.GetTimestamp();
                }
                var grew = growth.Next;
                FeedPage page;
                await using (var scope = scopes.CreateAsyncScope())
                {
                    page = await scope.ServiceProvider.GetRequiredService<FeedReader>()
                        .ReadAsync(cursor, filter, caller, options.Value.PageSize, cancellationToken);
                }
                foreach (var feedEvent in page.Events)
                {
                    await writer.WriteAsync(new SubscribeResponse { Event = feedEvent }, cancellationToken);
                    lastWrite = Stopwatch.GetTimestamp();
                }
                cursor = page.ScannedTo;
                // The first heartbeat says "you are live at this cursor"; later ones keep idle streams
                // open through proxies and move a filtered subscriber's cursor past what it skips,
                // also while it catches up through a long stretch that does not match.
                if ((!live && !page.More) || Stopwatch.GetElapsedTime(lastWrite) >= heartbeat)
                {
                    await writer.WriteAsync(new SubscribeResponse
                    {
                        Heartbeat = new Heartbeat { Cursor = cursor, At = Timestamp.FromDateTimeOffset(time.GetUtcNow()), CaughtUp = !page.More },
                    }, cancellationToken);
                    lastWrite = Stopwatch.GetTimestamp();
                    live |= !page.More;
                }
                if (page.More)
                {
                    continue;
                }
                var untilHeartbeat = heartbeat - Stopwatch.GetElapsedTime(lastWrite);
                await WaitAsync(Task.WhenAny(grew, revoked), untilHeartbeat < options.Value.PollInterval ? untilHeartbeat : options.Value.PollInterval, cancellationToken);
            }
        }
        catch (OperationCanceledException) when (!context.CancellationToken.IsCancellationRequested && expires is not null && time.GetUtcNow() >= expires)
        {
            throw new RpcException(new Status(StatusCode.Unauthenticated, $"the access token expired; reconnect with a new one and after_cursor={cursor}"));
        }
    }

    /// <summary>
    /// Validates the stream's access token again the library's way (OpenIddict's validation, with its
    /// token entry looked up in the database), so a revoked token ends the stream as it ends a call.
    /// </summary>
    private async Task EnsureTokenStillValidAsync(ServerCallContext context, ulong cursor)
    {
        var header = context.GetHttpContext().Request.Headers.Authorization.ToString();
        var token = header.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase) ? header["Bearer ".Length..].Trim() : "";
        try
        {
            await validation.ValidateAccessTokenAsync(token, context.CancellationToken);
        }
        catch (OpenIddictExceptions.ProtocolException e)
        {
            logger.LogInformation("Subscription of {Client} ended: its access token is no longer valid ({Error})", context.ClientId(), e.ErrorDescription);
            throw new RpcException(new Status(StatusCode.Unauthenticated,
                $"the access token is no longer valid (revoked: its client was removed, disabled, lost a scope or changed its secret; or expired); get a new one and resume with after_cursor={cursor}"));
        }
    }

    /// <summary>Writes that give up on a subscriber that stopped reading, and free its slot.</summary>
    private sealed class TimedWriter(IServerStreamWriter<SubscribeResponse> stream, ServerCallContext context, TimeSpan timeout)
    {
        public async Task WriteAsync(SubscribeResponse response, CancellationToken cancellationToken)
        {
            var write = stream.WriteAsync(response, cancellationToken);
            try
            {
                await write.WaitAsync(timeout, cancellationToken);
            }
            catch (TimeoutException)
            {
                // The write itself cannot be cancelled; ending the HTTP/2 stream releases it.
                context.GetHttpContext().Abort();
                throw new RpcException(new Status(StatusCode.DeadlineExceeded, $"the subscriber read nothing for {timeout.TotalSeconds:0} s; resume from the last cursor"));
            }
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
