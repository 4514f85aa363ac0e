using System.Text;
using Google.Rpc;
using Grpc.Core;

namespace Exchange.Cli.Connection;

/// <summary>Turns a gRPC failure into one readable message that names the field or the scope.</summary>
internal static class RpcErrors
{
    public static CliException ToCliException(this RpcException e, Uri node)
    {
        var message = new StringBuilder();
        // A node from before the size check names no field: "Received message exceeds the maximum configured message size".
        var tooLarge = e.StatusCode == StatusCode.ResourceExhausted && e.Status.Detail.Contains("message exceeds the maximum configured message size", StringComparison.Ordinal);
        var exitCode = e.StatusCode switch
        {
            StatusCode.InvalidArgument => ExitCodes.InvalidInput,
            StatusCode.ResourceExhausted when tooLarge => ExitCodes.InvalidInput,
            StatusCode.Unauthenticated or StatusCode.PermissionDenied => ExitCodes.NotAuthorized,
            StatusCode.NotFound => ExitCodes.NotFound,
            StatusCode.Unavailable or StatusCode.DeadlineExceeded => ExitCodes.Unavailable,
            _ => ExitCodes.Failure,
        };
        var badRequest = e.GetRpcStatus()?.GetDetail<BadRequest>();
        if (badRequest is { FieldViolations.Count: > 0 })
        {
            message.Append("the node refused the request; fix these fields:");
            foreach (var violation in badRequest.FieldViolations)
            {
                message.AppendLine().Append("  ").Append(violation.Field).Append(": ").Append(violation.Description);
            }
            return new CliException(message.ToString(), exitCode);
        }
        message.Append(e.StatusCode switch
        {
            StatusCode.Unauthenticated => $"not authenticated: {e.Status.Detail}; run `exchange login`",
            StatusCode.PermissionDenied => $"permission denied: {e.Status.Detail}",
            StatusCode.Unavailable => $"cannot reach the node at {node}: {e.Status.Detail}",
            StatusCode.Internal or StatusCode.Unknown => $"the node failed: {e.Status.Detail}",
            StatusCode.ResourceExhausted when tooLarge => $"the request is larger than the node accepts: {e.Status.Detail}",
            _ => e.Status.Detail,
        });
        return new CliException(message.ToString(), exitCode);
    }
}
