using System.Security.Claims;
using Microsoft.AspNetCore;
using OpenIddict.Abstractions;
using OpenIddict.Server.AspNetCore;
using static OpenIddict.Abstractions.OpenIddictConstants;

namespace Exchange.Node.Identity;

internal static class TokenEndpoint
{
    public static void MapTokenEndpoint(this IEndpointRouteBuilder app) =>
        app.MapPost("/connect/token", IssueAsync).AllowAnonymous().ExcludeFromDescription();

    // OpenIddict has already authenticated the client and checked that it may ask for each scope
    // before this runs; what is left is to say who the token is for and what it carries.
    private static async Task<IResult> IssueAsync(HttpContext context, IOpenIddictApplicationManager applications, CurrentClientScopes current)
    {
        var request = context.GetOpenIddictServerRequest()
            ?? throw new InvalidOperationException("The OpenIddict server request cannot be retrieved.");
        if (!request.IsClientCredentialsGrantType())
        {
            return Refuse(Errors.UnsupportedGrantType, "Only the client credentials grant is supported.");
        }
        // The database's copy of the clients follows a reload of the settings file a moment later
        // (ClientSeeder); the configuration itself is what counts, so that a client just removed or
        // stripped of a scope is refused here rather than given a token (or a failed write) in between.
        if (!current.IsUsable(request.ClientId!))
        {
            return Refuse(Errors.InvalidClient, "The client is not configured on this node.");
        }
        var application = await applications.FindByClientIdAsync(request.ClientId!);
        if (application is null)
        {
            return Refuse(Errors.InvalidClient, "The client is not configured on this node.");
        }

        var identity = new ClaimsIdentity(OpenIddictServerAspNetCoreDefaults.AuthenticationScheme, Claims.Name, Claims.Role);
        identity.SetClaim(Claims.Subject, await applications.GetClientIdAsync(application));
        identity.SetClaim(Claims.Name, await applications.GetDisplayNameAsync(application));
        // A client that names no scope gets every scope it holds now: staff tools rarely need less.
        var scopes = request.GetScopes();
        if (scopes.IsEmpty)
        {
            scopes = [.. current.Effective(request.ClientId!, (await applications.GetPermissionsAsync(application))
                .Where(p => p.StartsWith(Permissions.Prefixes.Scope, StringComparison.Ordinal))
                .Select(p => p[Permissions.Prefixes.Scope.Length..]))];
        }
        else if (current.Effective(request.ClientId!, scopes) is var held && held.Count != scopes.Length)
        {
            return Refuse(Errors.InvalidScope, $"The client does not hold {string.Join(", ", scopes.Where(s => !held.Contains(s)))}.");
        }
        identity.SetScopes(scopes);
        identity.SetDestinations(_ => [Destinations.AccessToken]);
        return Results.SignIn(new ClaimsPrincipal(identity), authenticationScheme: OpenIddictServerAspNetCoreDefaults.AuthenticationScheme);
    }

    private static IResult Refuse(string error, string description) => Results.Forbid(
        authenticationSchemes: [OpenIddictServerAspNetCoreDefaults.AuthenticationScheme],
        properties: new(new Dictionary<string, string?>
        {
            [OpenIddictServerAspNetCoreConstants.Properties.Error] = error,
            [OpenIddictServerAspNetCoreConstants.Properties.ErrorDescription] = description,
        }));
}
