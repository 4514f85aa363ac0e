using Exchange.Domain.Network;
using Exchange.Envelopes;
using Exchange.Node.Disclosure;

namespace Exchange.Cli.Demo;

/// <summary>
/// Three institutes in one process: each a full node (its own SQLite file, keys, OAuth server)
/// joined by MassTransit's in-memory transport. uk–us share up to RED on every risk domain; uk–jp
/// up to AMBER on cyber only; us–jp have no agreement.
/// </summary>
internal sealed class DemoNetwork : IAsyncDisposable
{
    public static readonly string[] Institutes = ["uk", "us", "jp"];
    private readonly InMemoryBroker _broker;

    private DemoNetwork(string directory, string manifestPath, InMemoryBroker broker, IReadOnlyDictionary<string, DemoNode> nodes)
    {
        Directory = directory;
        ManifestPath = manifestPath;
        _broker = broker;
        Nodes = nodes;
    }

    public string Directory { get; }
    public string ManifestPath { get; }
    public IReadOnlyDictionary<string, DemoNode> Nodes { get; }

    public static async Task<DemoNetwork> StartAsync(string directory)
    {
        var now = DateTimeOffset.UtcNow;
        var names = new Dictionary<string, string> { ["uk"] = "UK AI Security Institute", ["us"] = "US CAISI", ["jp"] = "Japan AISI" };
        var keys = Institutes.ToDictionary(i => i, _ => InstituteKeyPairs.Generate());
        var manifest = new ManifestBuilder("Exchange demo network");
        foreach (var id in Institutes)
        {
            manifest.Institute(id, names[id], id.ToUpperInvariant(), keys[id].SigningPublicKey, keys[id].EncryptionPublicKey, $"https://{id}.demo.invalid/", $"exchange.{id}.inbox");
        }
        manifest.Group("network", "The three demo institutes", Institutes)
            .Agreement("uk-us", "UK–US partnership", ["uk", "us"], "RED", [], now.AddYears(-1), now.AddYears(2))
            .Agreement("uk-jp", "UK–Japan cyber cooperation", ["uk", "jp"], "AMBER", ["cyber"], now.AddYears(-1), now.AddYears(2));
        OwnerOnlyFile.CreateDirectory(directory);
        var manifestPath = Path.Combine(directory, "manifest.json");
        var json = manifest.ToJson();
        OwnerOnlyFile.Write(manifestPath, stream => stream.Write(json), overwrite: true);

        var broker = new InMemoryBroker();
        var nodes = new Dictionary<string, DemoNode>();
        foreach (var id in Institutes)
        {
            nodes[id] = await DemoNode.StartAsync(id, manifestPath, keys[id], Path.Combine(directory, id), broker);
        }
        return new DemoNetwork(directory, manifestPath, broker, nodes);
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var node in Nodes.Values)
        {
            await node.DisposeAsync();
        }
        await _broker.DisposeAsync();
    }
}
