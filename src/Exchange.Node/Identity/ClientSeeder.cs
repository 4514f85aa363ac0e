using Microsoft.Extensions.Options;
using OpenIddict.Abstractions;
using static OpenIddict.Abstractions.OpenIddictConstants;

namespace Exchange.Node.Identity;

/// <summary>
/// Keeps the OpenIddict application store equal to <c>Identity:Clients</c>, at start and whenever
/// the configuration is reloaded: configured clients are created or updated (the secret hashed by
/// OpenIddict), clients removed or disabled are deleted. A client that is removed, disabled, loses a
/// scope or gets a new secret has every token it holds revoked at once; with token entry validation
/// (see <see cref="IdentityExtensions"/>) those tokens stop working on the next call, not when they
/// expire, and open subscriptions end (<see cref="TokenRevocations"/>).
/// </summary>
internal sealed class ClientSeeder(
    IServiceProvider services,
    IOptionsMonitor<NodeIdentityOptions> options,
    TokenRevocations revocations,
    IHostEnvironment environment,
    ILogger<ClientSeeder> logger) : IHostedService, IDisposable
{
    private readonly SemaphoreSlim _sync = new(1, 1);
    private IDisposable? _onChange;

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        await SyncAsync(options.CurrentValue, cancellationToken);
        _onChange = options.OnChange(changed => _ = SyncOnReloadAsync(changed));
    }

    private async Task SyncOnReloadAsync(NodeIdentityOptions changed)
    {
        try
        {
            await SyncAsync(changed, CancellationToken.None);
        }
        catch (Exception e)
        {
            // A reload that cannot be applied leaves the clients as they were; say so loudly.
            logger.LogError(e, "Identity:Clients changed but could not be applied; the clients stay as they were");
        }
    }

    /// <summary>Makes the store match <paramref name="configured"/>; returns how many clients had their tokens revoked.</summary>
    public async Task<int> SyncAsync(NodeIdentityOptions configured, CancellationToken cancellationToken)
    {
        await _sync.WaitAsync(cancellationToken);
        try
        {
            await using var scope = services.CreateAsyncScope();
            var applications = scope.ServiceProvider.GetRequiredService<IOpenIddictApplicationManager>();
            var tokens = scope.ServiceProvider.GetRequiredService<IOpenIddictTokenManager>();
            // A client that breaks a rule (possible only on a reload: at start the node refuses) is
            // out until it is fixed, and the rest of the change still applies: failing closed, a
            // mistake elsewhere in the file never keeps a removed client in.
            foreach (var client in configured.Clients.Where(c => !c.Disabled))
            {
                if (ClientRules.Problems(client, environment.IsDevelopment()) is { Count: > 0 } problems)
                {
                    logger.LogError("Identity:Clients: client '{ClientId}' is not used until it is fixed: {Problems}", client.ClientId, string.Join("; ", problems));
                }
            }
            foreach (var duplicate in ClientRules.Duplicates(configured))
            {
                logger.LogError("Identity:Clients: client '{ClientId}' is configured more than once and is not used until it has one entry", duplicate);
            }
            var wanted = ClientRules.UsableClients(configured, environment.IsDevelopment());
            var revoked = 0;

            var existing = new List<object>();
            await foreach (var application in applications.ListAsync(cancellationToken: cancellationToken))
            {
                existing.Add(application);
            }
            foreach (var application in existing)
            {
                var clientId = await applications.GetClientIdAsync(application, cancellationToken);
                if (clientId is not null && wanted.TryGetValue(clientId, out var client))
                {
                    var loses = await LosesAccessAsync(applications, application, client, cancellationToken);
                    // The new permissions first: a token issued from now on carries only them. Then
                    // the tokens issued before; one that raced both still cannot use a lost scope
                    // (CurrentClientScopes checks every call against the configuration).
                    await applications.UpdateAsync(application, Descriptor(client), cancellationToken);
                    if (loses)
                    {
                        await RevokeAsync(tokens, applications, application, cancellationToken);
                        revoked++;
                        logger.LogWarning("Client {ClientId} lost a scope or changed its secret: its tokens are revoked", clientId);
                    }
                    continue;
                }
                await RevokeAsync(tokens, applications, application, cancellationToken);
                await applications.DeleteAsync(application, cancellationToken);
                revoked++;
                logger.LogWarning("Removed client {ClientId} ({Why}): its tokens are revoked", clientId,
                    configured.Clients.FirstOrDefault(c => c.ClientId == clientId) is { } entry ? entry.Disabled ? "disabled" : "not usable as configured" : "no longer configured");
            }
            foreach (var client in wanted.Values)
            {
                if (await applications.FindByClientIdAsync(client.ClientId, cancellationToken) is null)
                {
                    await applications.CreateAsync(Descriptor(client), cancellationToken);
                }
            }
            logger.LogInformation("{Count} OAuth clients configured", wanted.Count);
            if (revoked > 0)
            {
                revocations.Announce();
            }
            return revoked;
        }
        finally
        {
            _sync.Release();
        }
    }

    // Losing a scope, or a new secret (the old one may have leaked), ends what the client holds now.
    private static async Task<bool> LosesAccessAsync(IOpenIddictApplicationManager applications, object application, ClientOptions client, CancellationToken cancellationToken)
    {
        var granted = (await applications.GetPermissionsAsync(application, cancellationToken))
            .Where(p => p.StartsWith(Permissions.Prefixes.Scope, StringComparison.Ordinal))
            .Select(p => p[Permissions.Prefixes.Scope.Length..]);
        return granted.Except(client.Scopes, StringComparer.Ordinal).Any()
            || !await applications.ValidateClientSecretAsync(application, client.ClientSecret, cancellationToken);
    }

    private static async Task RevokeAsync(IOpenIddictTokenManager tokens, IOpenIddictApplicationManager applications, object application, CancellationToken cancellationToken)
    {
        if (await applications.GetIdAsync(application, cancellationToken) is { } id)
        {
            await tokens.RevokeByApplicationIdAsync(id, cancellationToken);
        }
    }

    private static OpenIddictApplicationDescriptor Descriptor(ClientOptions client)
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
        return descriptor;
    }

    public Task StopAsync(CancellationToken cancellationToken)
    {
        _onChange?.Dispose();
        return Task.CompletedTask;
    }

    public void Dispose()
    {
        _onChange?.Dispose();
        _sync.Dispose();
    }
}
