using IdentityHub.Data.Inbound;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace IdentityHub.Data.Configurations;

internal sealed class InboundSourceConfiguration : IEntityTypeConfiguration<InboundSource>
{
    public void Configure(EntityTypeBuilder<InboundSource> builder)
    {
        builder.ToTable("InboundSources");
        builder.Property(s => s.Name).HasMaxLength(200);
        builder.HasIndex(s => s.Name).IsUnique();
        builder.Property(s => s.Kind).HasConversion<string>().HasMaxLength(16);
        builder.Property(s => s.ConflictPolicy).HasConversion<string>().HasMaxLength(16);
        builder.Property(s => s.OwnedAttributes).HasMaxLength(500);
        builder.Property(s => s.Settings).HasMaxLength(16000);
        builder.Property(s => s.TokenHash).HasMaxLength(64);
        // A SCIM request finds its source by the token's hash.
        builder.HasIndex(s => s.TokenHash).IsUnique();
        builder.Property(s => s.TokenHint).HasMaxLength(16);
        builder.Property(s => s.ProtectedSecret).HasMaxLength(4000);
        builder.Property(s => s.Cursor).HasMaxLength(1000);
        builder.HasMany(s => s.Subtrees).WithOne().HasForeignKey(t => t.SourceId).OnDelete(DeleteBehavior.Cascade);
    }
}

internal sealed class InboundSourceSubtreeConfiguration : IEntityTypeConfiguration<InboundSourceSubtree>
{
    public void Configure(EntityTypeBuilder<InboundSourceSubtree> builder)
    {
        builder.ToTable("InboundSourceSubtrees");
        builder.HasKey(t => new { t.SourceId, t.DepartmentId });
        builder.HasOne(t => t.Department).WithMany().HasForeignKey(t => t.DepartmentId).OnDelete(DeleteBehavior.Cascade);
    }
}

internal sealed class InboundRunConfiguration : IEntityTypeConfiguration<InboundRun>
{
    public void Configure(EntityTypeBuilder<InboundRun> builder)
    {
        builder.ToTable("InboundRuns");
        builder.Property(r => r.Kind).HasConversion<string>().HasMaxLength(16);
        builder.Property(r => r.RequestedBy).HasMaxLength(256);
        builder.Property(r => r.Errors).HasMaxLength(16000);
        builder.Property(r => r.Failure).HasMaxLength(2000);
        // The console asks for the latest runs of a source; pushes find the day's run.
        builder.HasIndex(r => new { r.SourceId, r.Kind, r.StartedAt });
        builder.HasOne<InboundSource>().WithMany().HasForeignKey(r => r.SourceId).OnDelete(DeleteBehavior.Cascade);
    }
}

internal sealed class InboundConflictConfiguration : IEntityTypeConfiguration<InboundConflict>
{
    public void Configure(EntityTypeBuilder<InboundConflict> builder)
    {
        builder.ToTable("InboundConflicts");
        builder.Property(c => c.UserId).HasMaxLength(450);
        builder.Property(c => c.Attribute).HasMaxLength(64);
        builder.Property(c => c.LocalValue).HasMaxLength(1000);
        builder.Property(c => c.SourceValue).HasMaxLength(1000);
        builder.Property(c => c.Resolution).HasMaxLength(16);
        builder.Property(c => c.ChangedBy).HasMaxLength(256);
        builder.HasIndex(c => new { c.SourceId, c.OccurredAt });
        builder.HasOne<InboundSource>().WithMany().HasForeignKey(c => c.SourceId).OnDelete(DeleteBehavior.Cascade);
    }
}
