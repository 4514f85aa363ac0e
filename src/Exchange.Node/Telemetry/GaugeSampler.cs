using Exchange.Node.Persistence;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace Exchange.Node.Telemetry;

/// <summary>
/// Samples what the gauges report from the database at an interval: an exporter's collection
/// callback must not wait on the database.
/// </summary>
public sealed class GaugeSampler(IServiceScopeFactory scopes, NodeMetrics metrics, IOptions<TelemetryOptions> options,
    IOptions<Disclosure.BrokerOptions> broker, TimeProvider time, ILogger<GaugeSampler> logger) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(options.Value.SampleInterval);
        do
        {
            try
            {
                await using var scope = scopes.CreateAsyncScope();
                var db = scope.ServiceProvider.GetRequiredService<NodeDbContext>();
                var outbox = await db.Outbox.CountAsync(o => o.SentAt == null && o.CancelledAt == null, stoppingToken);
                var audit = await db.AuditHead.Select(h => (long?)h.Size).FirstOrDefaultAsync(stoppingToken) ?? 0;
                var unanswered = await Disclosure.Unanswered.Of(db.Outbox, time.GetUtcNow(), broker.Value.ReceiptTimeout).CountAsync(stoppingToken);
                metrics.Sample(outbox, audit, unanswered);
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                // The database being away is reported by health; the gauges keep their last values.
                logger.LogDebug(e, "Could not sample the gauges");
            }
        }
        while (await timer.WaitForNextTickAsync(stoppingToken));
    }
}
