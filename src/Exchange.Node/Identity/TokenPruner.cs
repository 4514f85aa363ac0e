using OpenIddict.Abstractions;

namespace Exchange.Node.Identity;

/// <summary>
/// OpenIddict keeps an entry per issued token, which every call now looks up (token entry
/// validation). Entries of tokens that expired or were revoked more than a day ago are removed
/// every hour, so the table holds what is live, not every token ever issued.
/// </summary>
internal sealed class TokenPruner(IServiceScopeFactory scopes, TimeProvider time, ILogger<TokenPruner> logger) : BackgroundService
{
    private static readonly TimeSpan Interval = TimeSpan.FromHours(1);
    private static readonly TimeSpan Age = TimeSpan.FromDays(1);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(Interval, time);
        do
        {
            try
            {
                await using var scope = scopes.CreateAsyncScope();
                var removed = await scope.ServiceProvider.GetRequiredService<IOpenIddictTokenManager>().PruneAsync(time.GetUtcNow() - Age, stoppingToken);
                if (removed > 0)
                {
                    logger.LogInformation("Removed {Count} entries of expired or revoked tokens", removed);
                }
            }
            catch (Exception e) when (!stoppingToken.IsCancellationRequested)
            {
                logger.LogWarning(e, "Pruning expired token entries failed; trying again in an hour");
            }
        }
        while (await timer.WaitForNextTickAsync(stoppingToken).ConfigureAwait(false));
    }
}
