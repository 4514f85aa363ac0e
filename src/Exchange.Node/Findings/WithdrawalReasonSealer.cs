using Exchange.Node.Persistence;
using Microsoft.EntityFrameworkCore;

namespace Exchange.Node.Findings;

/// <summary>
/// Nodes before the access rule kept withdrawal reasons in a clear column. At start, any such
/// reason is sealed with Data Protection like the finding it is about, and the clear copy cleared,
/// so that a copy of the database shows none. Runs after the migrations (hosted services start in
/// the order they were added).
/// </summary>
internal sealed class WithdrawalReasonSealer(IServiceScopeFactory scopes, ILogger<WithdrawalReasonSealer> logger) : IHostedService
{
    public async Task StartAsync(CancellationToken cancellationToken)
    {
        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<NodeDbContext>();
        var protector = scope.ServiceProvider.GetRequiredService<FindingProtector>();
        var sealedCount = 0;
        while (true)
        {
            var clear = await db.Findings.Where(f => f.WithdrawalReason != null).OrderBy(f => f.Seq).Take(500).ToListAsync(cancellationToken);
            if (clear.Count == 0)
            {
                break;
            }
            foreach (var record in clear)
            {
                record.ProtectedWithdrawalReason ??= protector.ProtectReason(record.WithdrawalReason!);
                record.WithdrawalReason = null;
            }
            await db.SaveChangesAsync(cancellationToken);
            db.ChangeTracker.Clear();
            sealedCount += clear.Count;
        }
        if (sealedCount > 0)
        {
            logger.LogInformation("Sealed {Count} withdrawal reasons that an earlier version kept in clear", sealedCount);
        }
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
