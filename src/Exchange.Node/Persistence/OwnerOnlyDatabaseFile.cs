using System.Collections.Concurrent;
using Exchange.Envelopes;
using Microsoft.Data.Sqlite;

namespace Exchange.Node.Persistence;

/// <summary>
/// A SQLite database file created 0600 before SQLite first opens it. SQLite would create it 0644
/// (less the umask); it creates the -wal, -shm and -journal files beside it with the database
/// file's own mode, so these are owner-only too, from their first byte.
/// </summary>
internal static class OwnerOnlyDatabaseFile
{
    // Connection strings parsed once: the node opens connections all the time.
    private static readonly ConcurrentDictionary<string, string?> Paths = new(StringComparer.Ordinal);

    /// <summary>
    /// Creates the file of <paramref name="connectionString"/> owner-only if it does not exist (it is
    /// checked at every open, so a file removed while the node runs is made owner-only again);
    /// in-memory databases have none.
    /// </summary>
    public static void Prepare(string connectionString)
    {
        if (Paths.GetOrAdd(connectionString, PathOf) is { } path && !File.Exists(path))
        {
            OwnerOnlyFile.CreateEmpty(path);
        }
    }

    /// <summary>
    /// The database file a connection string lets SQLite create; null for in-memory databases, URI
    /// forms and modes that never create a file.
    /// </summary>
    public static string? PathOf(string connectionString)
    {
        var builder = new SqliteConnectionStringBuilder(connectionString);
        var source = builder.DataSource;
        return builder.Mode != SqliteOpenMode.ReadWriteCreate || string.IsNullOrWhiteSpace(source) || source == ":memory:" || source.StartsWith("file:", StringComparison.OrdinalIgnoreCase)
            ? null
            : source;
    }

    /// <summary>
    /// Makes an existing database, and its -wal, -shm and -journal files, owner-only: a node
    /// upgraded from a version that let SQLite create them 0644. Returns the files it changed.
    /// </summary>
    public static IReadOnlyList<string> Tighten(string connectionString)
    {
        if (OperatingSystem.IsWindows() || PathOf(connectionString) is not { } path)
        {
            return [];
        }
        var changed = new List<string>();
        foreach (var file in new[] { path, $"{path}-wal", $"{path}-shm", $"{path}-journal" }.Where(File.Exists))
        {
            if (OwnerOnlyFile.IsOpenToOthers(file))
            {
                File.SetUnixFileMode(file, File.GetUnixFileMode(file) & ~OwnerOnlyFile.OthersMask);
                changed.Add(file);
            }
        }
        return changed;
    }
}
