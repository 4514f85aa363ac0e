using Exchange.Node.Startup;
using Microsoft.Extensions.Options;

namespace Exchange.Node.Findings;

/// <summary>
/// At start, before the node serves (hosted services start before the server does), makes the
/// uploads folder and deletes the uploads an earlier run of the node left spooled when it was
/// killed: each is an evaluation log that no import will ever read, and would otherwise stay on
/// disk until the next import.
/// </summary>
internal sealed class StaleUploadCleanup(InspectUploads uploads, IOptions<NodeOptions> node, ILogger<StaleUploadCleanup> logger) : IHostedService
{
    public Task StartAsync(CancellationToken cancellationToken)
    {
        int deleted;
        try
        {
            deleted = uploads.Prepare();
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new StartRefusedException("Node:DataDirectory", $"'{Path.Combine(node.Value.DataDirectory, "imports")}' cannot be created: {e.Message}",
                "point Node:DataDirectory at a folder this node may write, and start it again", e);
        }
        if (deleted > 0)
        {
            logger.LogInformation("Deleted {Count} Inspect uploads left spooled by an earlier run of the node", deleted);
        }
        return Task.CompletedTask;
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
