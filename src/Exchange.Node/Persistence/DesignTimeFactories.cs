using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Design;

namespace Exchange.Node.Persistence;

// Used only by `dotnet ef migrations add`, one migration set per provider.
internal sealed class SqliteDesignTimeFactory : IDesignTimeDbContextFactory<SqliteNodeDbContext>
{
    public SqliteNodeDbContext CreateDbContext(string[] args) =>
        new(new DbContextOptionsBuilder<SqliteNodeDbContext>().UseSqlite("Data Source=design.db").UseOpenIddict().Options);
}

internal sealed class PostgresDesignTimeFactory : IDesignTimeDbContextFactory<PostgresNodeDbContext>
{
    public PostgresNodeDbContext CreateDbContext(string[] args) =>
        new(new DbContextOptionsBuilder<PostgresNodeDbContext>().UseNpgsql("Host=localhost;Database=design").UseOpenIddict().Options);
}
