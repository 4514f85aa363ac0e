using Exchange.Domain;

namespace Exchange.Testing;

/// <summary>The OAuth clients every test node is configured with.</summary>
public static class TestClients
{
    public const string Submitter = "submitter";
    public const string Reader = "reader";
    public const string RedReader = "red-reader";
    public const string Auditor = "auditor";
    public const string Admin = "admin";
    public const string Everything = "everything";

    public static IReadOnlyDictionary<string, string[]> ScopesByClient { get; } = new Dictionary<string, string[]>
    {
        [Submitter] = [Scopes.FindingsSubmit, Scopes.FindingsRead],
        [Reader] = [Scopes.FindingsRead],
        [RedReader] = [Scopes.FindingsRead, Scopes.FindingsReadRed],
        [Auditor] = [Scopes.AuditRead],
        [Admin] = [Scopes.NetworkAdmin, Scopes.FindingsRead],
        [Everything] = [.. Scopes.All],
    };

    public static string Secret(string clientId) => $"{clientId}-secret-0123456789";

    /// <summary>A client for every subset of the scopes: "scopes-NN", where bit i of NN stands for <c>Scopes.All[i]</c>.</summary>
    public static IReadOnlyDictionary<string, string[]> EveryScopeSet { get; } = Enumerable.Range(0, 1 << Scopes.All.Count)
        .ToDictionary(mask => $"scopes-{mask:D2}", mask => Scopes.All.Where((_, bit) => (mask & (1 << bit)) != 0).ToArray());

    public static IEnumerable<KeyValuePair<string, string?>> Settings() => Settings(ScopesByClient, 0);

    /// <summary>The configuration of <paramref name="clients"/>, numbered from <paramref name="firstIndex"/> in Identity:Clients.</summary>
    public static IEnumerable<KeyValuePair<string, string?>> Settings(IReadOnlyDictionary<string, string[]> clients, int firstIndex)
    {
        var i = firstIndex;
        foreach (var (client, scopes) in clients)
        {
            yield return new($"Identity:Clients:{i}:ClientId", client);
            yield return new($"Identity:Clients:{i}:ClientSecret", Secret(client));
            for (var s = 0; s < scopes.Length; s++)
            {
                yield return new($"Identity:Clients:{i}:Scopes:{s}", scopes[s]);
            }
            i++;
        }
    }
}
