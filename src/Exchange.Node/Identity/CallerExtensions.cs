using Grpc.Core;
using OpenIddict.Abstractions;
using static OpenIddict.Abstractions.OpenIddictConstants;

namespace Exchange.Node.Identity;

/// <summary>Who is calling, from the validated token.</summary>
public static class CallerExtensions
{
    public static string ClientId(this ServerCallContext context) =>
        context.GetHttpContext().User.GetClaim(Claims.Subject) ?? "unknown";

    public static bool HasScope(this ServerCallContext context, string scope) =>
        context.GetHttpContext().User.HasScope(scope);
}
