using Exchange.Domain;
using Exchange.Node.Secrets;

namespace Exchange.Node.Identity;

/// <summary>
/// What makes one configured OAuth client usable. At start a client that breaks a rule stops the
/// node; on a reload of the settings file, where there is no start to refuse, it is treated as
/// disabled (fail closed) while every other client's change still applies.
/// </summary>
public static class ClientRules
{
    /// <summary>Why <paramref name="client"/> may not be used, in words naming the setting; empty when it may.</summary>
    /// <param name="client">One entry of Identity:Clients.</param>
    /// <param name="isDevelopment">The sample secret of appsettings.Development.json is accepted only there.</param>
    /// <param name="placeholders">Whether to judge the secret against placeholders (at start the secrets check does, naming every secret setting at once).</param>
    public static IReadOnlyList<string> Problems(ClientOptions client, bool isDevelopment, bool placeholders = true)
    {
        var problems = new List<string>();
        if (string.IsNullOrWhiteSpace(client.ClientId))
        {
            problems.Add("ClientId is empty");
        }
        if (client.ClientSecret.Length < 16)
        {
            problems.Add("ClientSecret is shorter than 16 characters");
        }
        else if (placeholders && PlaceholderSecrets.IsPlaceholder(client.ClientSecret))
        {
            problems.Add("ClientSecret is a placeholder (it contains CHANGE-ME)");
        }
        else if (placeholders && !isDevelopment && PlaceholderSecrets.DevelopmentSamples.Contains(client.ClientSecret))
        {
            problems.Add("ClientSecret is the Development sample secret, accepted only in the Development environment");
        }
        foreach (var scope in client.Scopes.Where(s => !Scopes.All.Contains(s)))
        {
            problems.Add($"scope '{scope}' is not one of {string.Join(", ", Scopes.All)}");
        }
        return problems;
    }

    /// <summary>Client ids configured more than once: which entry is meant cannot be known, so none of them is used.</summary>
    public static IReadOnlySet<string> Duplicates(NodeIdentityOptions options) =>
        options.Clients.GroupBy(c => c.ClientId, StringComparer.Ordinal).Where(g => g.Count() > 1).Select(g => g.Key).ToHashSet(StringComparer.Ordinal);

    /// <summary>The clients that may be used now (enabled, without problems, configured once), by id.</summary>
    public static IReadOnlyDictionary<string, ClientOptions> UsableClients(NodeIdentityOptions options, bool isDevelopment)
    {
        var duplicates = Duplicates(options);
        return options.Clients
            .Where(c => !c.Disabled && !duplicates.Contains(c.ClientId) && Problems(c, isDevelopment).Count == 0)
            .ToDictionary(c => c.ClientId, StringComparer.Ordinal);
    }

    /// <summary>The scopes each usable client may use now.</summary>
    public static IReadOnlyDictionary<string, IReadOnlySet<string>> Usable(NodeIdentityOptions options, bool isDevelopment) =>
        UsableClients(options, isDevelopment).ToDictionary(c => c.Key, c => (IReadOnlySet<string>)c.Value.Scopes.ToHashSet(StringComparer.Ordinal), StringComparer.Ordinal);

    /// <summary>
    /// Every problem of the configured clients and token lifetime, each naming its setting: what stops
    /// a node at start. Empty when there is none.
    /// </summary>
    public static IReadOnlyList<string> StartProblems(NodeIdentityOptions options, bool isDevelopment)
    {
        var problems = new List<string>();
        if (options.AccessTokenLifetime <= TimeSpan.Zero || options.AccessTokenLifetime > TimeSpan.FromHours(1))
        {
            problems.Add("Identity:AccessTokenLifetime must be more than zero and at most one hour");
        }
        for (var i = 0; i < options.Clients.Count; i++)
        {
            foreach (var problem in Problems(options.Clients[i], isDevelopment, placeholders: false))
            {
                problems.Add($"Identity:Clients:{i} ('{options.Clients[i].ClientId}'): {problem}");
            }
        }
        foreach (var duplicate in Duplicates(options))
        {
            problems.Add($"Identity:Clients: client '{duplicate}' is configured more than once; give each client one entry");
        }
        return problems;
    }
}
