namespace Exchange.Node.Api;

/// <summary>
/// Configuration section "RateLimits": how often, per <see cref="Window"/>, the token endpoint
/// answers one OAuth client and one network address, and how many failed authentications of each it
/// takes before it refuses them until the window ends. The defaults are far above what staff tools
/// and scripts do (a CLI asks for a token every 5 minutes) and far below what guessing a secret needs.
/// </summary>
public sealed class RateLimitOptions
{
    public const string Section = "RateLimits";

    /// <summary>Token requests naming one client id, from one address.</summary>
    public int TokenRequestsPerClient { get; set; } = 300;

    /// <summary>Token requests from one address, whatever client they name.</summary>
    public int TokenRequestsPerAddress { get; set; } = 600;

    /// <summary>Refused token requests (wrong secret, unknown client) naming one client id, from one address.</summary>
    public int FailedAuthenticationsPerClient { get; set; } = 20;

    /// <summary>Refused token requests from one address, whatever client they name.</summary>
    public int FailedAuthenticationsPerAddress { get; set; } = 100;

    /// <summary>The fixed window every count above is kept over.</summary>
    public TimeSpan Window { get; set; } = TimeSpan.FromMinutes(1);
}
