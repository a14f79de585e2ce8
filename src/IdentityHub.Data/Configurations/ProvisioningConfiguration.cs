using IdentityHub.Data.Directory;
using IdentityHub.Data.Provisioning;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace IdentityHub.Data.Configurations;

internal sealed class ConnectorConfiguration : IEntityTypeConfiguration<Connector>
{
    public void Configure(EntityTypeBuilder<Connector> builder)
    {
        builder.ToTable("Connectors");
        builder.Property(c => c.Name).HasMaxLength(200);
        builder.HasIndex(c => new { c.ApplicationId, c.Name }).IsUnique();
        builder.Property(c => c.Kind).HasConversion<string>().HasMaxLength(16);
        builder.Property(c => c.Settings).HasMaxLength(8000);
        builder.Property(c => c.ProtectedSecret).HasMaxLength(4000);
        builder.HasOne(c => c.Application).WithMany().HasForeignKey(c => c.ApplicationId).OnDelete(DeleteBehavior.Cascade);
    }
}

internal sealed class OutboxEntryConfiguration : IEntityTypeConfiguration<OutboxEntry>
{
    public void Configure(EntityTypeBuilder<OutboxEntry> builder)
    {
        builder.ToTable("ProvisioningOutbox");
        builder.Property(e => e.UserId).HasMaxLength(450);
        builder.Property(e => e.Change).HasMaxLength(100);
        builder.Property(e => e.Status).HasConversion<string>().HasMaxLength(16);
        builder.Property(e => e.ClaimedBy).HasMaxLength(200);
        builder.Property(e => e.LastError).HasMaxLength(2000);
        // The dispatcher's query: due pending rows, oldest first; and per (connector, user) for coalescing.
        builder.HasIndex(e => new { e.Status, e.DueAt });
        builder.HasIndex(e => new { e.ConnectorId, e.UserId, e.Id });
        builder.HasOne<Connector>().WithMany().HasForeignKey(e => e.ConnectorId).OnDelete(DeleteBehavior.Cascade);
    }
}

internal sealed class ConnectorUserStateConfiguration : IEntityTypeConfiguration<ConnectorUserState>
{
    public void Configure(EntityTypeBuilder<ConnectorUserState> builder)
    {
        builder.ToTable("ConnectorUserStates");
        builder.HasKey(s => new { s.ConnectorId, s.UserId });
        builder.Property(s => s.UserId).HasMaxLength(450);
        builder.Property(s => s.ExternalId).HasMaxLength(450);
        builder.Property(s => s.SentState).HasMaxLength(200);
        builder.Property(s => s.DeliveredState).HasMaxLength(200);
        builder.Property(s => s.Version).IsConcurrencyToken();
        builder.HasOne<Connector>().WithMany().HasForeignKey(s => s.ConnectorId).OnDelete(DeleteBehavior.Cascade);
    }
}

internal sealed class DeliveryAttemptConfiguration : IEntityTypeConfiguration<DeliveryAttempt>
{
    public void Configure(EntityTypeBuilder<DeliveryAttempt> builder)
    {
        builder.ToTable("DeliveryAttempts");
        builder.Property(a => a.UserId).HasMaxLength(450);
        builder.Property(a => a.Error).HasMaxLength(2000);
        builder.HasIndex(a => new { a.ConnectorId, a.At });
        builder.HasIndex(a => new { a.UserId, a.At });
        builder.HasOne<Connector>().WithMany().HasForeignKey(a => a.ConnectorId).OnDelete(DeleteBehavior.Cascade);
    }
}

internal sealed class ReconciliationRunConfiguration : IEntityTypeConfiguration<ReconciliationRun>
{
    public void Configure(EntityTypeBuilder<ReconciliationRun> builder)
    {
        builder.ToTable("ReconciliationRuns");
        builder.Property(r => r.Kind).HasConversion<string>().HasMaxLength(16);
        builder.Property(r => r.RequestedBy).HasMaxLength(256);
        builder.Property(r => r.Error).HasMaxLength(2000);
        // The console asks for the latest run of a kind per connector.
        builder.HasIndex(r => new { r.ConnectorId, r.Kind, r.StartedAt });
        builder.HasOne<Connector>().WithMany().HasForeignKey(r => r.ConnectorId).OnDelete(DeleteBehavior.Cascade);
    }
}

internal sealed class ConnectorDepartmentStateConfiguration : IEntityTypeConfiguration<ConnectorDepartmentState>
{
    public void Configure(EntityTypeBuilder<ConnectorDepartmentState> builder)
    {
        builder.ToTable("ConnectorDepartmentStates");
        builder.HasKey(s => new { s.ConnectorId, s.DepartmentId });
        builder.Property(s => s.Code).HasMaxLength(100);
        builder.Property(s => s.Name).HasMaxLength(200);
        builder.Property(s => s.ParentCode).HasMaxLength(100);
        builder.Property(s => s.ExternalId).HasMaxLength(450);
        builder.Property(s => s.Fingerprint).HasMaxLength(100);
        builder.HasOne<Connector>().WithMany().HasForeignKey(s => s.ConnectorId).OnDelete(DeleteBehavior.Cascade);
    }
}
