using System.Text.Json;
using System.Text.Json.Serialization;
using Exchange.Envelopes;

namespace Exchange.Cli.Connection;

/// <summary>
/// Per-node client credentials and the cached access token, in one file readable only by its
/// owner. The secret is kept so that the CLI can renew the node's short-lived tokens by itself;
/// <c>exchange logout</c> removes both.
/// </summary>
internal sealed class CredentialStore(string directory)
{
    private string FilePath => Path.Combine(directory, "credentials.json");

    public Credentials Load()
    {
        if (!File.Exists(FilePath))
        {
            return new Credentials();
        }
        try
        {
            return JsonSerializer.Deserialize(File.ReadAllText(FilePath), CredentialJson.Default.Credentials) ?? new Credentials();
        }
        catch (JsonException e)
        {
            throw new CliException($"the credentials file {FilePath} is damaged ({e.Message}); run `exchange logout --all` and log in again");
        }
    }

    /// <summary>
    /// Writes the file 0600 in a folder created 0700, both owner-only from the moment they exist
    /// (never written first and narrowed after); replaced by a rename, so never half written.
    /// </summary>
    public void Save(Credentials credentials)
    {
        OwnerOnlyFile.CreateDirectory(directory);
        OwnerOnlyFile.WriteAllText(FilePath, JsonSerializer.Serialize(credentials, CredentialJson.Default.Credentials), overwrite: true);
    }

    public static string Key(Uri node) => node.GetLeftPart(UriPartial.Authority).ToLowerInvariant();
}

internal sealed class Credentials
{
    public string? DefaultNode { get; set; }
    public Dictionary<string, NodeCredential> Nodes { get; set; } = [];
}

internal sealed class NodeCredential
{
    public string ClientId { get; set; } = "";
    public string ClientSecret { get; set; } = "";
    public List<string> Scopes { get; set; } = [];
    public string? AccessToken { get; set; }
    public DateTimeOffset ExpiresAt { get; set; }
}

[JsonSourceGenerationOptions(WriteIndented = true, PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase)]
[JsonSerializable(typeof(Credentials))]
internal sealed partial class CredentialJson : JsonSerializerContext;
