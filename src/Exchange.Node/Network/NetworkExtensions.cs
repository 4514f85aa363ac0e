using Exchange.Domain.Network;
using Exchange.Domain.Policy;
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
            var manifest = ManifestLoader.LoadFile(node.ManifestPath, sp.GetRequiredService<TimeProvider>().GetUtcNow());
            if (manifest.FindInstitute(node.InstituteId) is null)
            {
                throw new ManifestException([$"Node:InstituteId '{node.InstituteId}' is not an institute of the manifest '{node.ManifestPath}'"]);
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

    // Resolving the manifest at start makes a bad one fail the start, not the first request.
    private sealed class ManifestCheck(NetworkManifest manifest, IOptions<NodeOptions> node, ILogger<ManifestCheck> logger) : IHostedService
    {
        public Task StartAsync(CancellationToken cancellationToken)
        {
            logger.LogInformation("Node {Institute} loaded manifest '{Name}' ({Institutes} institutes, {Agreements} agreements, sha256 {Sha})",
                node.Value.InstituteId, manifest.Name, manifest.Institutes.Count, manifest.Agreements.Count, manifest.Sha256);
            return Task.CompletedTask;
        }

        public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
    }
}
