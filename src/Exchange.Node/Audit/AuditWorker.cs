using Microsoft.Extensions.Options;

namespace Exchange.Node.Audit;

/// <summary>Integrates recorded events into the tree as they come, and signs and announces checkpoints on a schedule.</summary>
internal sealed class AuditWorker(IServiceScopeFactory scopes, AuditLogGrowth growth, TimeProvider time, IOptions<AuditOptions> options, ILogger<AuditWorker> logger) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var nextCheckpoint = time.GetUtcNow();
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                await using var scope = scopes.CreateAsyncScope();
                var log = scope.ServiceProvider.GetRequiredService<AuditLog>();
                int integrated;
                do
                {
                    integrated = await log.IntegrateAsync(stoppingToken);
                    if (integrated > 0)
                    {
                        growth.Grew();
                    }
                }
                while (integrated == options.Value.IntegrationBatchSize);
                if (time.GetUtcNow() >= nextCheckpoint)
                {
                    var checkpoint = await log.SignCheckpointAsync(stoppingToken);
                    if (checkpoint is not null)
                    {
                        await scope.ServiceProvider.GetRequiredService<Witnessing>().AnnounceAsync(checkpoint, stoppingToken);
                    }
                    nextCheckpoint = time.GetUtcNow() + options.Value.CheckpointInterval;
                }
            }
            catch (Exception e) when (!stoppingToken.IsCancellationRequested)
            {
                logger.LogError(e, "Audit log integration failed; trying again");
            }
            try
            {
                await Task.Delay(options.Value.IntegrationInterval, stoppingToken);
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }
}
