namespace Exchange.Node.Persistence;

public enum DatabaseProvider
{
    Sqlite,
    Postgres,
}

/// <summary>Section <c>Database</c>: SQLite under the data directory unless told otherwise.</summary>
public sealed class DatabaseOptions
{
    public const string Section = "Database";

    public DatabaseProvider Provider { get; set; } = DatabaseProvider.Sqlite;

    /// <summary>Empty for SQLite means <c>{Node:DataDirectory}/node.db</c>; required for PostgreSQL.</summary>
    public string ConnectionString { get; set; } = "";

    /// <summary>Apply pending migrations at start (EF Core takes a lock, so replicas may all do it).</summary>
    public bool MigrateOnStart { get; set; } = true;

    /// <summary>
    /// How long a starting node waits for its database to answer (it may start after the node, or be
    /// slow to take a connection) before giving up.
    /// </summary>
    public TimeSpan StartupWait { get; set; } = TimeSpan.FromMinutes(2);
}
