using System.Data.Common;
using Exchange.Envelopes;
using Exchange.Node.Settings;
using Exchange.Node.Startup;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace Exchange.Node.Persistence;

public static class PersistenceExtensions
{
    public static IHostApplicationBuilder AddPersistence(this IHostApplicationBuilder builder)
    {
        var options = builder.Configuration.GetOptions<DatabaseOptions>(DatabaseOptions.Section);
        var node = builder.Configuration.GetOptions<NodeOptions>(NodeOptions.Section);
        builder.Services.AddOptions<DatabaseOptions>().BindSection(DatabaseOptions.Section)
            .Validate(o => o.Provider == DatabaseProvider.Sqlite || !string.IsNullOrWhiteSpace(o.ConnectionString),
                "Database:ConnectionString is required when Database:Provider is Postgres")
            .ValidateOnStart();

        switch (options.Provider)
        {
            case DatabaseProvider.Postgres:
                builder.Services.AddDbContext<NodeDbContext, PostgresNodeDbContext>(o => o
                    // No retrying execution strategy: the node runs its own transactions (outbox, audit) and
                    // retries at a higher level (the dispatcher, idempotent request ids).
                    .UseNpgsql(options.ConnectionString)
                    .AddInterceptors(new Telemetry.CommittedAuditCounter())
                    .UseOpenIddict());
                break;
            default:
                var connectionString = string.IsNullOrWhiteSpace(options.ConnectionString)
                    ? $"Data Source={Path.Combine(node.DataDirectory, "node.db")};Default Timeout=60"
                    : options.ConnectionString;
                builder.Services.AddDbContext<NodeDbContext, SqliteNodeDbContext>(o => o
                    .UseSqlite(connectionString)
                    .AddInterceptors(new SqliteConnectionSetup(), new Telemetry.CommittedAuditCounter())
                    .UseOpenIddict());
                break;
        }
        builder.Services.AddHostedService<DatabaseInitializer>();
        return builder;
    }
}

/// <summary>Creates the data directory and applies migrations before anything else starts.</summary>
internal sealed class DatabaseInitializer(IServiceProvider services, IOptions<DatabaseOptions> database, IOptions<NodeOptions> node, ILogger<DatabaseInitializer> logger) : IHostedService
{
    public async Task StartAsync(CancellationToken cancellationToken)
    {
        if (database.Value.Provider == DatabaseProvider.Sqlite)
        {
            try
            {
                // Owner-only: the database, the Inspect uploads being imported, and anything else the node keeps here.
                OwnerOnlyFile.CreateDirectory(node.Value.DataDirectory);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                throw new StartRefusedException("Node:DataDirectory", $"'{node.Value.DataDirectory}' cannot be created: {e.Message}",
                    "point Node:DataDirectory at a folder this node may write, and start it again", e);
            }
            await using var scope = services.CreateAsyncScope();
            var connectionString = scope.ServiceProvider.GetRequiredService<NodeDbContext>().Database.GetConnectionString() ?? "";
            foreach (var file in OwnerOnlyDatabaseFile.Tighten(connectionString))
            {
                logger.LogWarning("{File} could be read by other users of this machine; it is now readable by its owner only", file);
            }
        }
        var deadline = DateTimeOffset.UtcNow + database.Value.StartupWait;
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                await PrepareAsync(cancellationToken);
                return;
            }
            catch (Exception e) when (TransientDatabaseFailure.Is(e) && DateTimeOffset.UtcNow < deadline && !cancellationToken.IsCancellationRequested)
            {
                var wait = TimeSpan.FromSeconds(Math.Min(attempt, 5));
                logger.LogWarning("The database did not answer ({Error}); trying again in {Wait} s", e.Message, wait.TotalSeconds);
                await Task.Delay(wait, cancellationToken);
            }
            catch (Exception e) when (e is DbException || TransientDatabaseFailure.Is(e))
            {
                throw Unusable(e);
            }
        }
    }

    // The database is the operator's to provide: one that cannot be reached (within StartupWait),
    // refuses our credentials or cannot be opened is a refused start, not a fault of the node.
    private StartRefusedException Unusable(Exception e)
    {
        var (entry, fix) = database.Value.Provider == DatabaseProvider.Sqlite
            ? ("Database:ConnectionString / Node:DataDirectory", "point Node:DataDirectory (or Database:ConnectionString) at a SQLite file this node may write, and start it again")
            : ("Database:ConnectionString", "start the database or correct Database:ConnectionString (host, port, database, user, password), " +
                                            "or give it longer with Database:StartupWait, and start the node again");
        var problem = TransientDatabaseFailure.Is(e)
            ? $"the {database.Value.Provider} database did not answer within Database:StartupWait ({database.Value.StartupWait}): {Innermost(e).Message}"
            : $"the {database.Value.Provider} database cannot be used: {Innermost(e).Message}";
        return new StartRefusedException(entry, problem, fix, e);
    }

    private static Exception Innermost(Exception e) => e is DbException || e.InnerException is null ? e : Innermost(e.InnerException);

    private async Task PrepareAsync(CancellationToken cancellationToken)
    {
        await using var scope = services.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<NodeDbContext>();
        if (database.Value.Provider == DatabaseProvider.Sqlite)
        {
            // WAL lets readers run beside the one writer; the setting is kept in the file.
            await db.Database.OpenConnectionAsync(cancellationToken);
            await db.Database.ExecuteSqlRawAsync("PRAGMA journal_mode=WAL;", cancellationToken);
            await db.Database.CloseConnectionAsync();
        }
        if (database.Value.MigrateOnStart)
        {
            await db.Database.MigrateAsync(cancellationToken);
            logger.LogInformation("Database ready ({Provider})", database.Value.Provider);
        }
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
