using Exchange.Node.Persistence;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using OpenIddict.Abstractions;
using static OpenIddict.Abstractions.OpenIddictConstants;

namespace Exchange.Node.Identity;

/// <summary>
/// Makes the OpenIddict application store match configuration at start: configured clients are
/// created or updated (the secret is hashed by OpenIddict), clients no longer configured are removed.
/// </summary>
internal sealed class ClientSeeder(IServiceProvider services, IOptions<NodeIdentityOptions> options, ILogger<ClientSeeder> logger) : IHostedService
{
    public async Task StartAsync(CancellationToken cancellationToken)
    {
        await using var scope = services.CreateAsyncScope();
        var manager = scope.ServiceProvider.GetRequiredService<IOpenIddictApplicationManager>();
        var configured = options.Value.Clients.ToDictionary(c => c.ClientId, StringComparer.Ordinal);

        await foreach (var application in manager.ListAsync(cancellationToken: cancellationToken))
        {
            var clientId = await manager.GetClientIdAsync(application, cancellationToken);
            if (clientId is null || !configured.ContainsKey(clientId))
            {
                await manager.DeleteAsync(application, cancellationToken);
                logger.LogInformation("Removed client {ClientId}: no longer configured", clientId);
            }
        }

        foreach (var client in configured.Values)
        {
            var descriptor = new OpenIddictApplicationDescriptor
            {
                ClientId = client.ClientId,
                ClientSecret = client.ClientSecret,
                ClientType = ClientTypes.Confidential,
                DisplayName = client.DisplayName ?? client.ClientId,
                Permissions = { Permissions.Endpoints.Token, Permissions.GrantTypes.ClientCredentials },
            };
            // Scope permissions make OpenIddict refuse a token request for a scope the client lacks.
            foreach (var scopeName in client.Scopes)
            {
                descriptor.Permissions.Add(Permissions.Prefixes.Scope + scopeName);
            }
            var existing = await manager.FindByClientIdAsync(client.ClientId, cancellationToken);
            if (existing is null)
            {
                await manager.CreateAsync(descriptor, cancellationToken);
            }
            else
            {
                await manager.UpdateAsync(existing, descriptor, cancellationToken);
            }
        }
        logger.LogInformation("{Count} OAuth clients configured", configured.Count);
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
