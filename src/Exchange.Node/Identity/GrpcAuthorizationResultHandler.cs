using System.Text;
using Grpc.Core;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Authorization.Policy;

namespace Exchange.Node.Identity;

/// <summary>
/// Answers a refused gRPC call with a gRPC status that says what is missing (no token, an expired
/// one, or which scope), instead of a bare HTTP 401/403 that clients can only report as such.
/// </summary>
internal sealed class GrpcAuthorizationResultHandler : IAuthorizationMiddlewareResultHandler
{
    private readonly AuthorizationMiddlewareResultHandler _default = new();

    public async Task HandleAsync(RequestDelegate next, HttpContext context, AuthorizationPolicy policy, PolicyAuthorizationResult authorizeResult)
    {
        var isGrpc = context.Request.ContentType?.StartsWith("application/grpc", StringComparison.Ordinal) == true;
        if (!isGrpc || authorizeResult.Succeeded)
        {
            await _default.HandleAsync(next, context, policy, authorizeResult);
            return;
        }
        if (authorizeResult.Challenged)
        {
            var result = await context.AuthenticateAsync();
            var description = result.Properties?.Items.TryGetValue(".error_description", out var d) == true ? d : null;
            var why = context.Request.Headers.Authorization.Count == 0 ? "no access token was sent"
                // OpenIddict's words for a token past its lifetime.
                : description?.Contains("no longer valid", StringComparison.Ordinal) == true ? "the access token has expired"
                : description ?? "the access token is not valid";
            WriteStatus(context, StatusCode.Unauthenticated, $"a valid access token is required: {why}");
            return;
        }
        var scopes = policy.Requirements.OfType<ScopeRequirement>().Select(r => r.Scope).ToArray();
        var anyOf = policy.Requirements.OfType<AnyScopeRequirement>().SelectMany(r => r.Scopes).ToArray();
        WriteStatus(context, StatusCode.PermissionDenied,
            scopes.Length > 0 ? $"this call needs the scope {string.Join(" and ", scopes)}"
            : anyOf.Length > 0 ? $"this call needs one of the scopes {string.Join(", ", anyOf)}"
            : "permission denied");
    }

    // A trailers-only gRPC response: HTTP 200 with grpc-status and grpc-message as headers.
    private static void WriteStatus(HttpContext context, StatusCode code, string message)
    {
        context.Response.StatusCode = StatusCodes.Status200OK;
        context.Response.ContentType = "application/grpc";
        context.Response.Headers["grpc-status"] = ((int)code).ToString(System.Globalization.CultureInfo.InvariantCulture);
        context.Response.Headers["grpc-message"] = PercentEncode(message);
    }

    private static string PercentEncode(string message)
    {
        var sb = new StringBuilder();
        foreach (var b in Encoding.UTF8.GetBytes(message))
        {
            if (b is >= 0x20 and <= 0x7E && b != (byte)'%')
            {
                sb.Append((char)b);
            }
            else
            {
                sb.Append('%').Append(b.ToString("X2", System.Globalization.CultureInfo.InvariantCulture));
            }
        }
        return sb.ToString();
    }
}
