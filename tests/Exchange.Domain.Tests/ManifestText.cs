using System.Security.Cryptography;
using System.Text.Json.Nodes;

namespace Exchange.Domain.Tests;

/// <summary>Manifest JSON for tests, with a pool of real keys (generating keys is the slow part).</summary>
internal static class ManifestText
{
    private static readonly string[] SigningKeys = Enumerable.Range(0, 16).Select(_ => Convert.ToBase64String(ECDsa.Create(ECCurve.NamedCurves.nistP256).ExportSubjectPublicKeyInfo())).ToArray();
    private static readonly string[] EncryptionKeys = Enumerable.Range(0, 16).Select(_ => Convert.ToBase64String(ECDiffieHellman.Create(ECCurve.NamedCurves.nistP256).ExportSubjectPublicKeyInfo())).ToArray();

    public static JsonObject Institute(string id, int key = 0) => new()
    {
        ["id"] = id,
        ["name"] = id.ToUpperInvariant(),
        ["jurisdiction"] = id.ToUpperInvariant(),
        ["signingKey"] = SigningKeys[key % SigningKeys.Length],
        ["encryptionKey"] = EncryptionKeys[key % EncryptionKeys.Length],
        ["tokenIssuer"] = $"https://{id}.example/",
        ["brokerQueue"] = $"exchange.{id}.inbox",
    };

    public static JsonObject Group(string id, params string[] members) =>
        new() { ["id"] = id, ["name"] = id, ["members"] = new JsonArray(members.Select(m => (JsonNode)m).ToArray()) };

    public static JsonObject Agreement(string id, string[] parties, string maxLabel, string[] domains, DateTimeOffset from, DateTimeOffset to) => new()
    {
        ["id"] = id,
        ["parties"] = new JsonArray(parties.Select(p => (JsonNode)p).ToArray()),
        ["maxLabel"] = maxLabel,
        ["riskDomains"] = new JsonArray(domains.Select(d => (JsonNode)d).ToArray()),
        ["validFrom"] = from.ToString("O"),
        ["validTo"] = to.ToString("O"),
    };

    public static JsonObject Document(IEnumerable<JsonObject> institutes, IEnumerable<JsonObject> groups, IEnumerable<JsonObject> agreements, string community = "network") => new()
    {
        ["formatVersion"] = 1,
        ["name"] = "test",
        ["communityGroup"] = community,
        ["institutes"] = new JsonArray(institutes.Cast<JsonNode>().ToArray()),
        ["groups"] = new JsonArray(groups.Cast<JsonNode>().ToArray()),
        ["agreements"] = new JsonArray(agreements.Cast<JsonNode>().ToArray()),
    };

    public static byte[] Bytes(JsonObject document) => System.Text.Encoding.UTF8.GetBytes(document.ToJsonString());
}
