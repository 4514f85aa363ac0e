using System.Data.Common;
using Microsoft.EntityFrameworkCore.Diagnostics;

namespace Exchange.Node.Persistence;

/// <summary>
/// Creates the database file owner-only before SQLite first opens it (<see cref="OwnerOnlyDatabaseFile"/>),
/// whichever part of the node opens it first. And lets SQLite itself wait for its write lock (busy_timeout, with millisecond back-off) instead of
/// Microsoft.Data.Sqlite's own retry, which sleeps 150 ms at a time and, with several writers
/// (requests, consumers, the outbox, the audit integrator), turns contention into seconds of latency.
/// </summary>
internal sealed class SqliteConnectionSetup : DbConnectionInterceptor
{
    private const string Pragmas = "PRAGMA busy_timeout = 30000;";

    public override InterceptionResult ConnectionOpening(DbConnection connection, ConnectionEventData eventData, InterceptionResult result)
    {
        OwnerOnlyDatabaseFile.Prepare(connection.ConnectionString);
        return result;
    }

    public override ValueTask<InterceptionResult> ConnectionOpeningAsync(DbConnection connection, ConnectionEventData eventData, InterceptionResult result, CancellationToken cancellationToken = default)
    {
        OwnerOnlyDatabaseFile.Prepare(connection.ConnectionString);
        return ValueTask.FromResult(result);
    }

    public override void ConnectionOpened(DbConnection connection, ConnectionEndEventData eventData)
    {
        using var command = connection.CreateCommand();
        command.CommandText = Pragmas;
        command.ExecuteNonQuery();
    }

    public override async Task ConnectionOpenedAsync(DbConnection connection, ConnectionEndEventData eventData, CancellationToken cancellationToken = default)
    {
        await using var command = connection.CreateCommand();
        command.CommandText = Pragmas;
        await command.ExecuteNonQueryAsync(cancellationToken);
    }
}
