using Exchange.Node.Findings;
using Grpc.Core;
using Grpc.Core.Interceptors;
using Microsoft.Extensions.Options;

namespace Exchange.Node.Api;

/// <summary>
/// Gives every call that streams requests to the node (today ImportInspectLog; any such method added
/// later too) a <see cref="PacedStreamReader{T}"/>, so that no upload holds what it holds (a slot, a
/// spooled file, a request stream) for longer than its client keeps sending.
/// </summary>
internal sealed class UploadPaceInterceptor(IOptions<ImportOptions> imports) : Interceptor
{
    public override Task<TResponse> ClientStreamingServerHandler<TRequest, TResponse>(IAsyncStreamReader<TRequest> requestStream, ServerCallContext context, ClientStreamingServerMethod<TRequest, TResponse> continuation) =>
        continuation(new PacedStreamReader<TRequest>(requestStream, imports.Value), context);

    public override Task DuplexStreamingServerHandler<TRequest, TResponse>(IAsyncStreamReader<TRequest> requestStream, IServerStreamWriter<TResponse> responseStream, ServerCallContext context, DuplexStreamingServerMethod<TRequest, TResponse> continuation) =>
        continuation(new PacedStreamReader<TRequest>(requestStream, imports.Value), responseStream, context);
}
