using System.Data.Common;

namespace Exchange.Node.Persistence;

/// <summary>
/// Failures of the database that pass with time (unreachable, out of connections, shutting down),
/// as opposed to a wrong schema or a bad query. Npgsql marks them transient; EF Core wraps what
/// fails inside SaveChanges and connection opening.
/// </summary>
public static class TransientDatabaseFailure
{
    public static bool Is(Exception e) => e switch
    {
        DbException { IsTransient: true } => true,
        Microsoft.EntityFrameworkCore.DbUpdateException { InnerException: { } inner } => Is(inner),
        InvalidOperationException { InnerException: { } inner } => Is(inner),
        TimeoutException => true,
        _ => false,
    };
}
