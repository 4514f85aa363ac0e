using Grpc.Core;
using Grpc.Core.Interceptors;
using Exchange.Node.Persistence;

namespace Exchange.Node.Api;

/// <summary>
/// A database that is unreachable or out of connections is the node's trouble, not the caller's
/// mistake, and it passes: the call ends UNAVAILABLE, which clients retry (a submission safely, with
/// its request id), rather than UNKNOWN, which says nothing.
/// </summary>
internal sealed class TransientFailureInterceptor(ILogger<TransientFailureInterceptor> logger) : Interceptor
{
    public override async Task<TResponse> UnaryServerHandler<TRequest, TResponse>(TRequest request, ServerCallContext context, UnaryServerMethod<TRequest, TResponse> continuation)
    {
        try
        {
            return await continuation(request, context);
        }
        catch (Exception e) when (IsTransient(e))
        {
            throw Unavailable(e, context);
        }
    }

    public override async Task<TResponse> ClientStreamingServerHandler<TRequest, TResponse>(IAsyncStreamReader<TRequest> requestStream, ServerCallContext context, ClientStreamingServerMethod<TRequest, TResponse> continuation)
    {
        try
        {
            return await continuation(requestStream, context);
        }
        catch (Exception e) when (IsTransient(e))
        {
            throw Unavailable(e, context);
        }
    }

    public override async Task ServerStreamingServerHandler<TRequest, TResponse>(TRequest request, IServerStreamWriter<TResponse> responseStream, ServerCallContext context, ServerStreamingServerMethod<TRequest, TResponse> continuation)
    {
        try
        {
            await continuation(request, responseStream, context);
        }
        catch (Exception e) when (IsTransient(e))
        {
            throw Unavailable(e, context);
        }
    }

    private RpcException Unavailable(Exception e, ServerCallContext context)
    {
        logger.LogWarning(e, "{Method} failed on a transient database problem", context.Method);
        return new RpcException(new Status(StatusCode.Unavailable, "the node's database is unavailable or busy; try again (a submission with the same request_id is safe to retry)"));
    }

    private static bool IsTransient(Exception e) => TransientDatabaseFailure.Is(e);
}
