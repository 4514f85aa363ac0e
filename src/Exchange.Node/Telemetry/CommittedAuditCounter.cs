using System.Data.Common;
using System.Runtime.CompilerServices;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Diagnostics;

namespace Exchange.Node.Telemetry;

/// <summary>
/// Holds back the counting of audit events saved inside an explicit transaction until that
/// transaction commits, and forgets them if it does not: a metric then counts exactly what the
/// audit log holds, even when a commit fails and the work is retried.
/// </summary>
public sealed class CommittedAuditCounter : DbTransactionInterceptor
{
    private static readonly ConditionalWeakTable<DbContext, List<Action>> Waiting = new();

    /// <summary>Runs <paramref name="count"/> when the transaction open on <paramref name="db"/> commits.</summary>
    public static void OnCommit(DbContext db, Action count) => Waiting.GetOrCreateValue(db).Add(count);

    public override DbTransaction TransactionStarted(DbConnection connection, TransactionEndEventData eventData, DbTransaction result)
    {
        Forget(eventData.Context);
        return result;
    }

    public override ValueTask<DbTransaction> TransactionStartedAsync(DbConnection connection, TransactionEndEventData eventData, DbTransaction result, CancellationToken cancellationToken = default)
    {
        Forget(eventData.Context);
        return ValueTask.FromResult(result);
    }

    public override void TransactionCommitted(DbTransaction transaction, TransactionEndEventData eventData) => Count(eventData.Context);

    public override Task TransactionCommittedAsync(DbTransaction transaction, TransactionEndEventData eventData, CancellationToken cancellationToken = default)
    {
        Count(eventData.Context);
        return Task.CompletedTask;
    }

    public override void TransactionRolledBack(DbTransaction transaction, TransactionEndEventData eventData) => Forget(eventData.Context);

    public override Task TransactionRolledBackAsync(DbTransaction transaction, TransactionEndEventData eventData, CancellationToken cancellationToken = default)
    {
        Forget(eventData.Context);
        return Task.CompletedTask;
    }

    public override void TransactionFailed(DbTransaction transaction, TransactionErrorEventData eventData) => Forget(eventData.Context);

    public override Task TransactionFailedAsync(DbTransaction transaction, TransactionErrorEventData eventData, CancellationToken cancellationToken = default)
    {
        Forget(eventData.Context);
        return Task.CompletedTask;
    }

    private static void Count(DbContext? db)
    {
        if (db is not null && Waiting.TryGetValue(db, out var counts))
        {
            Waiting.Remove(db);
            foreach (var count in counts)
            {
                count();
            }
        }
    }

    private static void Forget(DbContext? db)
    {
        if (db is not null)
        {
            Waiting.Remove(db);
        }
    }
}
