using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace Exchange.Node.Persistence;

internal sealed class FindingRecordConfiguration : IEntityTypeConfiguration<FindingRecord>
{
    public void Configure(EntityTypeBuilder<FindingRecord> b)
    {
        b.ToTable("findings");
        b.HasKey(f => f.Seq);
        b.Property(f => f.Seq).ValueGeneratedOnAdd();
        b.Property(f => f.Id).HasMaxLength(80);
        b.Property(f => f.OriginInstitute).HasMaxLength(32);
        b.Property(f => f.ModelName).HasMaxLength(200);
        b.Property(f => f.ModelDeveloper).HasMaxLength(200);
        b.Property(f => f.SubmittedBy).HasMaxLength(200);
        b.Property(f => f.RequestId).HasMaxLength(128);
        b.Property(f => f.WithdrawalReason).HasMaxLength(1000);
        b.HasIndex(f => new { f.Id, f.Version }).IsUnique();
        // A retried Submit finds its first attempt here: one finding per client and request id.
        b.HasIndex(f => new { f.SubmittedBy, f.RequestId }).IsUnique();
        b.HasIndex(f => new { f.IsCurrent, f.Seq });
        b.HasIndex(f => f.HeldUntil);
    }
}

internal sealed class DecisionRecordConfiguration : IEntityTypeConfiguration<DecisionRecord>
{
    public void Configure(EntityTypeBuilder<DecisionRecord> b)
    {
        b.ToTable("decisions");
        b.HasKey(d => d.Id);
        b.Property(d => d.FindingId).HasMaxLength(80);
        b.Property(d => d.InstituteId).HasMaxLength(32);
        b.HasIndex(d => new { d.FindingId, d.FindingVersion, d.InstituteId }).IsUnique();
        b.HasIndex(d => new { d.Delivery, d.ScheduledAt });
    }
}

internal sealed class AuditEventRecordConfiguration : IEntityTypeConfiguration<AuditEventRecord>
{
    public void Configure(EntityTypeBuilder<AuditEventRecord> b)
    {
        b.ToTable("audit_events");
        b.HasKey(e => e.Id);
        b.Property(e => e.Kind).HasMaxLength(64);
        b.Property(e => e.FindingId).HasMaxLength(80);
        b.Property(e => e.Counterparty).HasMaxLength(32);
        b.HasIndex(e => e.LeafIndex).IsUnique();
        // The feed looks up a finding's history by kind; reads of a popular finding would otherwise
        // be scanned with it.
        b.HasIndex(e => new { e.FindingId, e.Kind });
        b.HasIndex(e => e.Counterparty);
        b.HasIndex(e => new { e.Kind, e.LeafIndex });
    }
}

internal sealed class OutboxMessageRecordConfiguration : IEntityTypeConfiguration<OutboxMessageRecord>
{
    public void Configure(EntityTypeBuilder<OutboxMessageRecord> b)
    {
        b.ToTable("outbox");
        b.HasKey(o => o.Id);
        b.Property(o => o.MessageId).HasMaxLength(64);
        b.Property(o => o.Recipient).HasMaxLength(32);
        b.Property(o => o.FindingId).HasMaxLength(80);
        b.Property(o => o.LastError).HasMaxLength(2000);
        b.Property(o => o.AnswerReason).HasMaxLength(2000);
        b.HasIndex(o => o.MessageId).IsUnique();
        // The dispatcher's query: unsent, not cancelled, due.
        b.HasIndex(o => new { o.SentAt, o.CancelledAt, o.NextAttemptAt });
        b.HasIndex(o => new { o.FindingId, o.Recipient });
        b.Property(o => o.Answers).HasMaxLength(64);
        // The dispatcher's second query: sent, unanswered, due to be sent again.
        b.HasIndex(o => o.ResendAt);
        b.HasIndex(o => o.Answers);
    }
}

internal sealed class InboxMessageRecordConfiguration : IEntityTypeConfiguration<InboxMessageRecord>
{
    public void Configure(EntityTypeBuilder<InboxMessageRecord> b)
    {
        b.ToTable("inbox");
        b.HasKey(i => i.MessageId);
        b.Property(i => i.MessageId).HasMaxLength(64);
        b.Property(i => i.Origin).HasMaxLength(32);
        b.Property(i => i.FindingId).HasMaxLength(80);
        b.Property(i => i.Outcome).HasMaxLength(200);
        b.HasIndex(i => new { i.FindingId, i.Kind });
    }
}

internal sealed class NodeKeyRecordConfiguration : IEntityTypeConfiguration<NodeKeyRecord>
{
    public void Configure(EntityTypeBuilder<NodeKeyRecord> b)
    {
        b.ToTable("node_keys");
        b.HasKey(k => k.Id);
        b.Property(k => k.Purpose).HasMaxLength(16);
    }
}

internal sealed class AuditTreeNodeRecordConfiguration : IEntityTypeConfiguration<AuditTreeNodeRecord>
{
    public void Configure(EntityTypeBuilder<AuditTreeNodeRecord> b)
    {
        b.ToTable("audit_tree");
        b.HasKey(n => n.Key);
        b.Property(n => n.Key).ValueGeneratedNever();
    }
}

internal sealed class AuditHeadRecordConfiguration : IEntityTypeConfiguration<AuditHeadRecord>
{
    public void Configure(EntityTypeBuilder<AuditHeadRecord> b)
    {
        b.ToTable("audit_head");
        b.HasKey(h => h.Id);
        b.Property(h => h.Id).ValueGeneratedNever();
        // The row exists from the first migration, so replicas never race to create it.
        b.HasData(new AuditHeadRecord { Id = AuditHeadRecord.SingletonId, Size = 0, Border = [], LastLeafHash = [] });
    }
}

internal sealed class AuditCheckpointRecordConfiguration : IEntityTypeConfiguration<AuditCheckpointRecord>
{
    public void Configure(EntityTypeBuilder<AuditCheckpointRecord> b)
    {
        b.ToTable("audit_checkpoints");
        b.HasKey(c => c.Size);
        b.Property(c => c.Size).ValueGeneratedNever();
    }
}

internal sealed class AuditCosignatureRecordConfiguration : IEntityTypeConfiguration<AuditCosignatureRecord>
{
    public void Configure(EntityTypeBuilder<AuditCosignatureRecord> b)
    {
        b.ToTable("audit_cosignatures");
        b.HasKey(c => new { c.CheckpointSize, c.Witness });
        b.Property(c => c.Witness).HasMaxLength(64);
    }
}

internal sealed class WitnessedCheckpointRecordConfiguration : IEntityTypeConfiguration<WitnessedCheckpointRecord>
{
    public void Configure(EntityTypeBuilder<WitnessedCheckpointRecord> b)
    {
        b.ToTable("witnessed_checkpoints");
        b.HasKey(c => new { c.Origin, c.Size });
        b.Property(c => c.Origin).HasMaxLength(32);
    }
}

internal sealed class WitnessProgressRecordConfiguration : IEntityTypeConfiguration<WitnessProgressRecord>
{
    public void Configure(EntityTypeBuilder<WitnessProgressRecord> b)
    {
        b.ToTable("witness_progress");
        b.HasKey(w => w.Witness);
        b.Property(w => w.Witness).HasMaxLength(32);
    }
}

internal sealed class WitnessAlertRecordConfiguration : IEntityTypeConfiguration<WitnessAlertRecord>
{
    public void Configure(EntityTypeBuilder<WitnessAlertRecord> b)
    {
        b.ToTable("witness_alerts");
        b.HasKey(a => a.Id);
        b.Property(a => a.Origin).HasMaxLength(32);
    }
}
