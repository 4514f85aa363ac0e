namespace Exchange.Node.Identity;

/// <summary>Section <c>Identity</c>: the node's OAuth 2.0 server and the clients it knows.</summary>
public sealed class NodeIdentityOptions
{
    public const string Section = "Identity";

    /// <summary>Issuer URI put in tokens; defaults to the address the request came to.</summary>
    public string? Issuer { get; set; }

    /// <summary>Short on purpose: a leaked token is useful for minutes, not days.</summary>
    public TimeSpan AccessTokenLifetime { get; set; } = TimeSpan.FromMinutes(5);

    /// <summary>Refuse token requests over plain HTTP. Turn off only for loopback and tests.</summary>
    public bool RequireHttps { get; set; } = true;

    public List<ClientOptions> Clients { get; set; } = [];
}

public sealed class ClientOptions
{
    public string ClientId { get; set; } = "";

    /// <summary>Given here in clear (from a secret store or environment), stored only hashed.</summary>
    public string ClientSecret { get; set; } = "";

    public string? DisplayName { get; set; }

    public List<string> Scopes { get; set; } = [];

    /// <summary>A disabled client gets no token, and every token it holds stops working at once.</summary>
    public bool Disabled { get; set; }
}
