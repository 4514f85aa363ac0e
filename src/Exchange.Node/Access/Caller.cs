using System.Security.Claims;
using Grpc.Core;
using OpenIddict.Abstractions;
using static OpenIddict.Abstractions.OpenIddictConstants;

namespace Exchange.Node.Access;

/// <summary>Who is asking, as the validated access token says: the OAuth client and the scopes it was granted.</summary>
/// <param name="ClientId">The token's subject (the OAuth client id).</param>
/// <param name="Scopes">The scopes in the token (OAuth 2.0, RFC 6749 §3.3).</param>
public sealed record Caller(string ClientId, IReadOnlySet<string> Scopes)
{
    public static Caller From(ClaimsPrincipal user) =>
        new(user.GetClaim(Claims.Subject) ?? "unknown", user.GetScopes().ToHashSet(StringComparer.Ordinal));

    public static Caller From(ServerCallContext context) => From(context.GetHttpContext().User);
}
