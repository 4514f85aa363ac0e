using Exchange.Domain.Network;
using Exchange.Envelopes;

namespace Exchange.Testing;

/// <summary>
/// Builds network manifests for tests, with real P-256 keys whose private halves the test keeps.
/// The community group holds every institute added with <c>community: true</c>.
/// </summary>
public sealed class TestManifest
{
    private readonly ManifestBuilder _builder;
    private readonly HashSet<string> _community = [];

    public TestManifest(string communityGroup = "network") : this(new ManifestBuilder("test network", communityGroup))
    {
    }

    private TestManifest(ManifestBuilder builder) => _builder = builder;

    public Dictionary<string, InstituteKeyPairs> Keys { get; } = [];

    public TestManifest Institute(string id, bool community = true, InstituteKeyPairs? keys = null)
    {
        keys ??= InstituteKeyPairs.Generate();
        Keys[id] = keys;
        _builder.Institute(id, $"{id.ToUpperInvariant()} institute", id.ToUpperInvariant(), keys.SigningPublicKey, keys.EncryptionPublicKey,
            $"https://{id}.exchange.test/", $"exchange.{id}.inbox");
        if (community)
        {
            _community.Add(id);
        }
        return this;
    }

    public TestManifest Group(string id, params string[] members)
    {
        _builder.Group(id, id, members);
        return this;
    }

    public TestManifest Agreement(string id, string a, string b, string maxLabel, string[]? domains = null, DateTimeOffset? from = null, DateTimeOffset? to = null)
    {
        _builder.Agreement(id, id, [a, b], maxLabel, domains ?? [], from ?? DateTimeOffset.UtcNow.AddYears(-1), to ?? DateTimeOffset.UtcNow.AddYears(3));
        return this;
    }

    /// <summary>The same institutes and keys, groups and agreements: a starting point for a node whose manifest differs.</summary>
    public TestManifest Clone()
    {
        var copy = new TestManifest(_builder.Clone());
        copy._community.UnionWith(_community);
        foreach (var (id, keys) in Keys)
        {
            copy.Keys[id] = keys;
        }
        return copy;
    }

    public byte[] ToJson()
    {
        var builder = _builder.Clone();
        if (!builder.HasGroup(builder.CommunityGroup))
        {
            builder.Group(builder.CommunityGroup, "community", _community);
        }
        return builder.ToJson();
    }

    public string WriteTo(string directory, string name = "manifest.json")
    {
        Directory.CreateDirectory(directory);
        var path = Path.Combine(directory, name);
        File.WriteAllBytes(path, ToJson());
        return path;
    }

    public NetworkManifest Load() => ManifestLoader.Load(ToJson());
}
