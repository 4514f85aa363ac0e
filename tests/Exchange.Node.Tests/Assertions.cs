using Google.Rpc;
using Grpc.Core;

namespace Exchange.Node.Tests;

internal static class Assertions
{
    public static async Task<RpcException> FailsWith(StatusCode code, Func<Task> call)
    {
        var e = await Assert.ThrowsAsync<RpcException>(call);
        Assert.True(code == e.StatusCode, $"expected {code}, got {e.StatusCode}: {e.Status.Detail}");
        return e;
    }

    /// <summary>Every message in an exception, its inner exceptions and an aggregate's, joined: what a refused start said.</summary>
    public static string Messages(this Exception e) => e switch
    {
        AggregateException aggregate => string.Join(" | ", aggregate.Flatten().InnerExceptions.Select(Messages)),
        { InnerException: { } inner } => $"{e.Message} | {Messages(inner)}",
        _ => e.Message,
    };

    public static IReadOnlyDictionary<string, string> FieldViolations(this RpcException e)
    {
        var badRequest = e.GetRpcStatus()?.GetDetail<BadRequest>();
        Assert.NotNull(badRequest);
        return badRequest.FieldViolations.ToDictionary(v => v.Field, v => v.Description);
    }
}
