using System.Security.Claims;
using Microsoft.AspNetCore.Authentication;
using Microsoft.Extensions.Options;
using OpenIddict.Abstractions;
using static OpenIddict.Abstractions.OpenIddictConstants;

namespace Exchange.Node.Identity;

/// <summary>
/// Checks every authenticated call against the client's current configuration, not only against
/// its token: the scopes a call may use are those its token carries that the client still holds in
/// <c>Identity:Clients</c> now. A token issued a moment before its client lost a scope (a token
/// request that raced the reload) thus cannot use that scope, and a removed or disabled client's
/// token carries none, even before its revocation reaches the database.
/// </summary>
public sealed class CurrentClientScopes(IOptionsMonitor<NodeIdentityOptions> options, IHostEnvironment environment) : IClaimsTransformation
{
    // One reference, published whole: a reader never pairs one configuration's options with another's clients.
    private sealed record Judged(NodeIdentityOptions Options, IReadOnlyDictionary<string, IReadOnlySet<string>> Usable);

    private volatile Judged? _usable;

    /// <summary>The scopes <paramref name="clientId"/> may use now, of those in <paramref name="granted"/>.</summary>
    public IReadOnlySet<string> Effective(string clientId, IEnumerable<string> granted) =>
        Usable().TryGetValue(clientId, out var held)
            ? granted.Where(held.Contains).ToHashSet(StringComparer.Ordinal)
            : new HashSet<string>();

    /// <summary>Whether <paramref name="clientId"/> is configured, enabled and usable now.</summary>
    public bool IsUsable(string clientId) => Usable().ContainsKey(clientId);

    // The monitor hands out one options object until the configuration changes: judged once per object.
    private IReadOnlyDictionary<string, IReadOnlySet<string>> Usable()
    {
        var current = options.CurrentValue;
        if (_usable is { } cached && ReferenceEquals(cached.Options, current))
        {
            return cached.Usable;
        }
        var judged = new Judged(current, ClientRules.Usable(current, environment.IsDevelopment()));
        _usable = judged;
        return judged.Usable;
    }

    public Task<ClaimsPrincipal> TransformAsync(ClaimsPrincipal principal)
    {
        if (principal.Identity?.IsAuthenticated != true || principal.GetClaim(Claims.Subject) is not { } clientId)
        {
            return Task.FromResult(principal);
        }
        var granted = principal.GetScopes();
        var effective = Effective(clientId, granted);
        if (effective.Count == granted.Length)
        {
            return Task.FromResult(principal);
        }
        var narrowed = principal.Clone(_ => true);
        narrowed.SetScopes(effective);
        return Task.FromResult(narrowed);
    }
}
