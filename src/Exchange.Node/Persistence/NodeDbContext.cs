using Microsoft.AspNetCore.DataProtection.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore;

namespace Exchange.Node.Persistence;

/// <summary>
/// The node's one database: findings, decisions, the outbox and inbox, the audit log, the Data
/// Protection key ring and the OpenIddict stores. One database means one transaction can hold a
/// finding, its decisions, its outbox rows and its audit events.
/// </summary>
public abstract class NodeDbContext(DbContextOptions options) : DbContext(options), IDataProtectionKeyContext
{
    public DbSet<FindingRecord> Findings => Set<FindingRecord>();
    public DbSet<DecisionRecord> Decisions => Set<DecisionRecord>();
    public DbSet<AuditEventRecord> AuditEvents => Set<AuditEventRecord>();
    public DbSet<OutboxMessageRecord> Outbox => Set<OutboxMessageRecord>();
    public DbSet<InboxMessageRecord> Inbox => Set<InboxMessageRecord>();
    public DbSet<NodeKeyRecord> NodeKeys => Set<NodeKeyRecord>();
    public DbSet<AuditTreeNodeRecord> AuditTree => Set<AuditTreeNodeRecord>();
    public DbSet<AuditHeadRecord> AuditHead => Set<AuditHeadRecord>();
    public DbSet<AuditCheckpointRecord> AuditCheckpoints => Set<AuditCheckpointRecord>();
    public DbSet<AuditCosignatureRecord> AuditCosignatures => Set<AuditCosignatureRecord>();
    public DbSet<WitnessedCheckpointRecord> WitnessedCheckpoints => Set<WitnessedCheckpointRecord>();
    public DbSet<WitnessProgressRecord> WitnessProgress => Set<WitnessProgressRecord>();
    public DbSet<WitnessAlertRecord> WitnessAlerts => Set<WitnessAlertRecord>();
    public DbSet<DataProtectionKey> DataProtectionKeys => Set<DataProtectionKey>();

    protected override void OnModelCreating(ModelBuilder modelBuilder)
    {
        base.OnModelCreating(modelBuilder);
        modelBuilder.ApplyConfigurationsFromAssembly(typeof(NodeDbContext).Assembly);
        // OpenIddict's entities live in the same database under their default names.
        modelBuilder.UseOpenIddict();
    }
}

public sealed class SqliteNodeDbContext(DbContextOptions<SqliteNodeDbContext> options) : NodeDbContext(options)
{
    protected override void ConfigureConventions(ModelConfigurationBuilder configurationBuilder)
    {
        // SQLite cannot compare or order DateTimeOffset values; stored as binary ticks they can.
        configurationBuilder.Properties<DateTimeOffset>().HaveConversion<Microsoft.EntityFrameworkCore.Storage.ValueConversion.DateTimeOffsetToBinaryConverter>();
    }
}

public sealed class PostgresNodeDbContext(DbContextOptions<PostgresNodeDbContext> options) : NodeDbContext(options);
