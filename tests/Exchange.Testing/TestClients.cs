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

    public static IEnumerable<KeyValuePair<string, string?>> Settings()
    {
        var i = 0;
        foreach (var (client, scopes) in ScopesByClient)
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
