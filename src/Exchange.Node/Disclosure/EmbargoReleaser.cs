using Exchange.Node.Persistence;
using Microsoft.Extensions.Options;

namespace Exchange.Node.Disclosure;

/// <summary>Releases held disclosures, and received findings held here, when their embargo lifts on the node's clock (which tests move).</summary>
internal sealed class EmbargoReleaser(IServiceScopeFactory scopes, OutboxSignal signal, TimeProvider time, IOptions<BrokerOptions> options, ILogger<EmbargoReleaser> logger) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(options.Value.EmbargoCheckInterval, time);
        do
        {
            try
            {
                await ReleaseAsync(stoppingToken);
            }
            catch (Exception e) when (!stoppingToken.IsCancellationRequested)
            {
                logger.LogError(e, "Releasing embargoed disclosures failed; trying again");
            }
        }
        while (await timer.WaitForNextTickAsync(stoppingToken).ConfigureAwait(false));
    }

    internal async Task ReleaseAsync(CancellationToken cancellationToken)
    {
        await using var scope = scopes.CreateAsyncScope();
        var writer = scope.ServiceProvider.GetRequiredService<DisclosureWriter>();
        var held = scope.ServiceProvider.GetRequiredService<Findings.HeldFindings>();
        var now = time.GetUtcNow();
        // Ours held for peers, and peers' held here until their embargo passes on our clock.
        if (await writer.ReleaseDueAsync(now, cancellationToken) + await held.ReleaseDueAsync(now, cancellationToken) > 0)
        {
            await scope.ServiceProvider.GetRequiredService<NodeDbContext>().SaveChangesAsync(cancellationToken);
            signal.Notify();
        }
    }
}
