using Microsoft.EntityFrameworkCore;
using Npgsql;

namespace Exchange.Testing;

/// <summary>A fresh, empty database for one test fixture, removed afterwards.</summary>
public abstract class TestDatabase : IAsyncDisposable
{
    public const string Sqlite = "Sqlite";
    public const string Postgres = "Postgres";

    public abstract string Provider { get; }
    public abstract string ConnectionString { get; }

    public static async Task<TestDatabase> CreateAsync(string provider, string directory) => provider switch
    {
        Sqlite => new SqliteTestDatabase(directory),
        Postgres => await PostgresTestDatabase.CreateAsync(),
        _ => throw new ArgumentOutOfRangeException(nameof(provider), provider, "unknown provider"),
    };

    public abstract ValueTask DisposeAsync();
}

internal sealed class SqliteTestDatabase(string directory) : TestDatabase
{
    public override string Provider => Sqlite;
    public override string ConnectionString { get; } = $"Data Source={Path.Combine(directory, "node.db")};Default Timeout=60";
    public override ValueTask DisposeAsync() => ValueTask.CompletedTask;
}

/// <summary>
/// A database on the PostgreSQL that tests/run.sh starts (EXCHANGE_TEST_POSTGRES). If it is not
/// reachable the test fails: a missing service must never pass quietly.
/// </summary>
public sealed class PostgresTestDatabase : TestDatabase
{
    private readonly string _name;

    private PostgresTestDatabase(string name, string connectionString)
    {
        _name = name;
        ConnectionString = connectionString;
    }

    public override string Provider => Postgres;
    public override string ConnectionString { get; }

    public static string AdminConnectionString =>
        Environment.GetEnvironmentVariable("EXCHANGE_TEST_POSTGRES")
        ?? "Host=127.0.0.1;Username=exchange;Password=exchange;Database=postgres";

    public static async Task<PostgresTestDatabase> CreateAsync()
    {
        var name = $"exchange_test_{Guid.NewGuid():N}";
        await using (var admin = new NpgsqlConnection(AdminConnectionString))
        {
            try
            {
                await admin.OpenAsync();
            }
            catch (Exception e) when (e is NpgsqlException or System.Net.Sockets.SocketException)
            {
                throw new InvalidOperationException(
                    $"PostgreSQL is not reachable at '{AdminConnectionString}' ({e.Message}). Run the tests through tests/run.sh, which starts it.", e);
            }
            await using var create = new NpgsqlCommand($"CREATE DATABASE {name}", admin);
            await create.ExecuteNonQueryAsync();
        }
        // Several nodes share one server (max_connections 100 by default): keep each node's pool small.
        var builder = new NpgsqlConnectionStringBuilder(AdminConnectionString) { Database = name, MaxPoolSize = 20 };
        return new PostgresTestDatabase(name, builder.ConnectionString);
    }

    public override async ValueTask DisposeAsync()
    {
        NpgsqlConnection.ClearAllPools();
        await using var admin = new NpgsqlConnection(AdminConnectionString);
        await admin.OpenAsync();
        await using var drop = new NpgsqlCommand($"DROP DATABASE IF EXISTS {_name} WITH (FORCE)", admin);
        await drop.ExecuteNonQueryAsync();
    }
}

/// <summary>Opens a node's database from outside the node, for tests that check what it holds.</summary>
public static class TestDatabaseContexts
{
    public static Exchange.Node.Persistence.NodeDbContext Open(string provider, string connectionString) => provider switch
    {
        TestDatabase.Postgres => new Exchange.Node.Persistence.PostgresNodeDbContext(
            new Microsoft.EntityFrameworkCore.DbContextOptionsBuilder<Exchange.Node.Persistence.PostgresNodeDbContext>()
                .UseNpgsql(connectionString).UseOpenIddict().Options),
        _ => new Exchange.Node.Persistence.SqliteNodeDbContext(
            new Microsoft.EntityFrameworkCore.DbContextOptionsBuilder<Exchange.Node.Persistence.SqliteNodeDbContext>()
                .UseSqlite(connectionString).UseOpenIddict().Options),
    };

    public static Exchange.Node.Persistence.NodeDbContext Open(this TestDatabase database) => Open(database.Provider, database.ConnectionString);
}
