using Exchange.Domain.Network;
using Exchange.Domain.Policy;
using Exchange.Node.Startup;
using Microsoft.Extensions.Options;

namespace Exchange.Node.Network;

public static class NetworkExtensions
{
    /// <summary>
    /// Loads the manifest once at start; one that does not validate stops the node with every error
    /// named, before it touches its database or broker: the host resolves every hosted service, and
    /// so the manifest, before it starts any of them.
    /// </summary>
    public static IHostApplicationBuilder AddManifest(this IHostApplicationBuilder builder)
    {
        builder.Services.AddSingleton(sp =>
        {
            var node = sp.GetRequiredService<IOptions<NodeOptions>>().Value;
            NetworkManifest manifest;
            try
            {
                manifest = ManifestLoader.LoadFile(node.ManifestPath);
            }
            catch (ManifestException e)
            {
                throw StartRefusals.Manifest(node.ManifestPath, e);
            }
            if (manifest.FindInstitute(node.InstituteId) is null)
            {
                throw new StartRefusedException("Node:InstituteId", $"'{node.InstituteId}' is not an institute of the manifest '{node.ManifestPath}' " +
                    $"(it lists {string.Join(", ", manifest.Institutes.Select(i => i.Id))})",
                    "set Node:InstituteId to this node's institute, or add the institute to the manifest, and start the node again");
            }
            return manifest;
        });
        builder.Services.AddHostedService<ManifestCheck>();
        return builder;
    }

    public static IHostApplicationBuilder AddNetwork(this IHostApplicationBuilder builder)
    {
        builder.Services.AddSingleton(sp => new DisclosurePolicy(sp.GetRequiredService<NetworkManifest>()));
        builder.Services.AddSingleton(sp => new PeerDirectory(sp.GetRequiredService<NetworkManifest>()));
        builder.Services.AddSingleton<NodeKeyRing>();
        builder.Services.AddSingleton<NodeKeyInitializer>();
        builder.Services.AddHostedService(sp => sp.GetRequiredService<NodeKeyInitializer>());
        return builder;
    }

    public static void MapNetwork(this IEndpointRouteBuilder app) => app.MapGrpcService<NetworkGrpcService>();

    // Resolving the manifest at start makes a bad one fail the start, not the first request. An
    // agreement that has ended is not a fault of the file: the node starts, the policy denies by it
    // (deny.agreement-ended), and the operator is told once per start so that the entry can go.
    private sealed class ManifestCheck(NetworkManifest manifest, IOptions<NodeOptions> node, TimeProvider time, ILogger<ManifestCheck> logger) : IHostedService
    {
        public Task StartAsync(CancellationToken cancellationToken)
        {
            logger.LogInformation("Node {Institute} loaded manifest '{Name}' ({Institutes} institutes, {Agreements} agreements, sha256 {Sha})",
                node.Value.InstituteId, manifest.Name, manifest.Institutes.Count, manifest.Agreements.Count, manifest.Sha256);
            var now = time.GetUtcNow();
            foreach (var ended in manifest.Agreements.Where(a => a.HasEndedAt(now)))
            {
                logger.LogWarning("Agreement '{Agreement}' ({Parties}) ended on {ValidTo:yyyy-MM-dd}: nothing is disclosed under it any more (deny.agreement-ended); " +
                                  "remove it from the manifest or renew it with new dates",
                    ended.Id, string.Join(", ", ended.Parties), ended.ValidTo);
            }
            return Task.CompletedTask;
        }

        public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
    }
}
