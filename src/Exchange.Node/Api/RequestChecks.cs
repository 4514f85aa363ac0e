using System.IO.Pipelines;
using Exchange.Domain.Findings;
using Exchange.Node.Findings;
using Grpc.Core;
using Microsoft.Extensions.Options;
using Google.Protobuf.Reflection;
using Grpc.AspNetCore.Server;
using Microsoft.AspNetCore.Http.Features;

namespace Exchange.Node.Api;

/// <summary>
/// Wires <see cref="RequestFrameReader"/> in front of every gRPC call of the node's services, with the
/// request message type of the method called, found through the generated service descriptors; and
/// <see cref="PacedRequestBody"/> under it for every call that streams requests.
/// </summary>
internal static class RequestChecks
{
    private static readonly Dictionary<string, MessageDescriptor> RequestTypes = typeof(V1.FindingService).Assembly.GetTypes()
        .Select(t => t.GetProperty("Descriptor", System.Reflection.BindingFlags.Public | System.Reflection.BindingFlags.Static)?.GetValue(null))
        .OfType<Google.Protobuf.Reflection.ServiceDescriptor>()
        .SelectMany(s => s.Methods)
        .ToDictionary(m => $"{m.Service.FullName}/{m.Name}", m => m.InputType, StringComparer.Ordinal);

    public static IApplicationBuilder UseRequestChecks(this IApplicationBuilder app)
    {
        var limit = app.ApplicationServices.GetRequiredService<FindingLimits>().MaxRequestBytes;
        var imports = app.ApplicationServices.GetRequiredService<IOptions<ImportOptions>>().Value;
        return app.Use(async (context, next) =>
        {
            if (context.Request.ContentType?.StartsWith("application/grpc", StringComparison.Ordinal) == true
                && context.GetEndpoint()?.Metadata.GetMetadata<GrpcMethodMetadata>() is { } grpc)
            {
                var request = RequestTypes.GetValueOrDefault($"{grpc.Method.ServiceName}/{grpc.Method.Name}");
                var gzip = string.Equals(context.Request.Headers["grpc-encoding"], "gzip", StringComparison.Ordinal);
                var body = grpc.Method.Type is MethodType.ClientStreaming or MethodType.DuplexStreaming
                    ? new PacedRequestBody(context.Request.BodyReader, imports)
                    : context.Request.BodyReader;
                context.Features.Set<IRequestBodyPipeFeature>(new Body(new RequestFrameReader(body, limit, request, gzip)));
            }
            await next(context);
        });
    }

    private sealed class Body(PipeReader reader) : IRequestBodyPipeFeature
    {
        public PipeReader Reader => reader;
    }
}
