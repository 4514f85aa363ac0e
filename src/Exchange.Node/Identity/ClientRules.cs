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
    public static IReadOnlyList<string> Problems(ClientOptions client, bool isDevelopment)
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
        else if (PlaceholderSecrets.IsPlaceholder(client.ClientSecret))
        {
            problems.Add("ClientSecret is a placeholder (it contains CHANGE-ME)");
        }
        else if (!isDevelopment && PlaceholderSecrets.DevelopmentSamples.Contains(client.ClientSecret))
        {
            problems.Add("ClientSecret is the Development sample secret, accepted only in the Development environment");
        }
        foreach (var scope in client.Scopes.Where(s => !Scopes.All.Contains(s)))
        {
            problems.Add($"scope '{scope}' is not one of {string.Join(", ", Scopes.All)}");
        }
        return problems;
    }

    /// <summary>The scopes each client may use now: its configured ones, for clients enabled and without problems.</summary>
    public static IReadOnlyDictionary<string, IReadOnlySet<string>> Usable(NodeIdentityOptions options, bool isDevelopment) =>
        options.Clients
            .Where(c => !c.Disabled && Problems(c, isDevelopment).Count == 0)
            .GroupBy(c => c.ClientId, StringComparer.Ordinal)
            .ToDictionary(g => g.Key, g => (IReadOnlySet<string>)g.Last().Scopes.ToHashSet(StringComparer.Ordinal), StringComparer.Ordinal);
}
