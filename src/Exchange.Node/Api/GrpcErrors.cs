using System.Diagnostics.CodeAnalysis;
using Exchange.Domain.Findings;
using Google.Protobuf.WellKnownTypes;
using Google.Rpc;
using Grpc.Core;

namespace Exchange.Node.Api;

/// <summary>The ways a call fails, as gRPC statuses that say what is wrong.</summary>
internal static class GrpcErrors
{
    [DoesNotReturn]
    public static void InvalidArgument(string what, IReadOnlyList<FieldViolation> violations)
    {
        var badRequest = new BadRequest();
        badRequest.FieldViolations.AddRange(violations.Select(v => new BadRequest.Types.FieldViolation { Field = v.Field, Description = v.Description }));
        var summary = string.Join("; ", violations.Take(10).Select(v => $"{v.Field} {v.Description}"));
        if (violations.Count > 10)
        {
            summary += $"; and {violations.Count - 10} more";
        }
        throw new Google.Rpc.Status
        {
            Code = (int)Code.InvalidArgument,
            Message = $"{what}: {summary}",
            Details = { Any.Pack(badRequest) },
        }.ToRpcException();
    }

    [DoesNotReturn]
    public static void InvalidArgument(string field, string description) =>
        InvalidArgument("invalid request", [new FieldViolation(field, description)]);

    [DoesNotReturn]
    public static void NotFound(string message) => throw new RpcException(new global::Grpc.Core.Status(StatusCode.NotFound, message));

    [DoesNotReturn]
    public static void FailedPrecondition(string message) => throw new RpcException(new global::Grpc.Core.Status(StatusCode.FailedPrecondition, message));

    [DoesNotReturn]
    public static void PermissionDenied(string message) => throw new RpcException(new global::Grpc.Core.Status(StatusCode.PermissionDenied, message));

    [DoesNotReturn]
    public static void AlreadyExists(string message) => throw new RpcException(new global::Grpc.Core.Status(StatusCode.AlreadyExists, message));
}
