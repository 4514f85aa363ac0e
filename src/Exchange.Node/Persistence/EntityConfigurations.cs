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
        b.HasIndex(e => e.FindingId);
    }
}
