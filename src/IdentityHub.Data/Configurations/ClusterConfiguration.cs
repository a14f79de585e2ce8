using IdentityHub.Data.Cluster;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace IdentityHub.Data.Configurations;

internal sealed class ClusterSignalConfiguration : IEntityTypeConfiguration<ClusterSignal>
{
    public void Configure(EntityTypeBuilder<ClusterSignal> builder)
    {
        builder.ToTable("ClusterSignals");
        builder.Property(s => s.Topic).HasConversion<string>().HasMaxLength(32);
        builder.Property(s => s.Key).HasMaxLength(200);
        builder.Property(s => s.Node).HasMaxLength(64);
        // Pruning deletes by age.
        builder.HasIndex(s => s.At);
    }
}

internal sealed class ClusterNodeConfiguration : IEntityTypeConfiguration<ClusterNode>
{
    public void Configure(EntityTypeBuilder<ClusterNode> builder)
    {
        builder.ToTable("ClusterNodes");
        builder.Property(n => n.Id).HasMaxLength(64);
        builder.Property(n => n.Name).HasMaxLength(200);
        builder.Property(n => n.PublishedKeyIds).HasMaxLength(4000);
    }
}
