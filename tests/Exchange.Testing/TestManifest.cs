using System.Security.Cryptography;
using System.Text.Json;
using System.Text.Json.Nodes;
using Exchange.Domain.Network;

namespace Exchange.Testing;

/// <summary>
/// Builds network manifests for tests, with real P-256 keys whose private halves the test keeps.
/// </summary>
public sealed class TestManifest
{
    private readonly List<JsonObject> _institutes = [];
    private readonly List<JsonObject> _groups = [];
    private readonly List<JsonObject> _agreements = [];
    private readonly HashSet<string> _community = [];

    public Dictionary<string, InstituteKeys> Keys { get; } = [];

    public string CommunityGroup { get; set; } = "network";

    public TestManifest Institute(string id, bool community = true, InstituteKeys? keys = null)
    {
        keys ??= InstituteKeys.Generate();
        Keys[id] = keys;
        _institutes.Add(new JsonObject
        {
            ["id"] = id,
            ["name"] = $"{id.ToUpperInvariant()} institute",
            ["jurisdiction"] = id.ToUpperInvariant(),
            ["signingKey"] = Convert.ToBase64String(keys.SigningPublicKey),
            ["encryptionKey"] = Convert.ToBase64String(keys.EncryptionPublicKey),
            ["tokenIssuer"] = $"https://{id}.exchange.test/",
            ["brokerQueue"] = $"exchange.{id}.inbox",
        });
        if (community)
        {
            _community.Add(id);
        }
        return this;
    }

    public TestManifest Group(string id, params string[] members)
    {
        _groups.Add(new JsonObject { ["id"] = id, ["name"] = id, ["members"] = new JsonArray(members.Select(m => (JsonNode)m).ToArray()) });
        return this;
    }

    public TestManifest Agreement(string id, string a, string b, string maxLabel, string[]? domains = null, DateTimeOffset? from = null, DateTimeOffset? to = null)
    {
        _agreements.Add(new JsonObject
        {
            ["id"] = id,
            ["parties"] = new JsonArray(a, b),
            ["maxLabel"] = maxLabel,
            ["riskDomains"] = new JsonArray((domains ?? []).Select(d => (JsonNode)d).ToArray()),
            ["validFrom"] = (from ?? DateTimeOffset.UtcNow.AddYears(-1)).ToString("O"),
            ["validTo"] = (to ?? DateTimeOffset.UtcNow.AddYears(3)).ToString("O"),
        });
        return this;
    }

    public byte[] ToJson()
    {
        var groups = new JsonArray();
        if (_groups.All(g => (string?)g["id"] != CommunityGroup))
        {
            groups.Add(new JsonObject { ["id"] = CommunityGroup, ["name"] = "community", ["members"] = new JsonArray(_community.Select(m => (JsonNode)m).ToArray()) });
        }
        foreach (var g in _groups)
        {
            groups.Add(g.DeepClone());
        }
        var document = new JsonObject
        {
            ["formatVersion"] = 1,
            ["name"] = "test network",
            ["communityGroup"] = CommunityGroup,
            ["institutes"] = new JsonArray(_institutes.Select(i => (JsonNode)i.DeepClone()).ToArray()),
            ["groups"] = groups,
            ["agreements"] = new JsonArray(_agreements.Select(a => (JsonNode)a.DeepClone()).ToArray()),
        };
        return JsonSerializer.SerializeToUtf8Bytes(document, new JsonSerializerOptions { WriteIndented = true });
    }

    public string WriteTo(string directory)
    {
        Directory.CreateDirectory(directory);
        var path = Path.Combine(directory, "manifest.json");
        File.WriteAllBytes(path, ToJson());
        return path;
    }

    public NetworkManifest Load(DateTimeOffset? now = null) => ManifestLoader.Load(ToJson(), now ?? DateTimeOffset.UtcNow);
}

/// <summary>An institute's key pairs, private halves as PKCS#8.</summary>
public sealed record InstituteKeys(byte[] SigningPrivateKey, byte[] SigningPublicKey, byte[] EncryptionPrivateKey, byte[] EncryptionPublicKey)
{
    public static InstituteKeys Generate()
    {
        using var signing = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        using var encryption = ECDiffieHellman.Create(ECCurve.NamedCurves.nistP256);
        return new InstituteKeys(
            signing.ExportPkcs8PrivateKey(), signing.ExportSubjectPublicKeyInfo(),
            encryption.ExportPkcs8PrivateKey(), encryption.ExportSubjectPublicKeyInfo());
    }
}
