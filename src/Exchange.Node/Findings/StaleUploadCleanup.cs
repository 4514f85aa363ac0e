namespace Exchange.Node.Findings;

/// <summary>
/// At start, before the node serves (hosted services start before the server does), deletes the
/// uploads an earlier run of the node left spooled when it was killed: each is an evaluation log
/// that no import will ever read, and would otherwise stay on disk until the next import.
/// </summary>
internal sealed class StaleUploadCleanup(InspectUploads uploads, ILogger<StaleUploadCleanup> logger) : IHostedService
{
    public Task StartAsync(CancellationToken cancellationToken)
    {
        var deleted = uploads.DeleteStale();
        if (deleted > 0)
        {
            logger.LogInformation("Deleted {Count} Inspect uploads left spooled by an earlier run of the node", deleted);
        }
        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
