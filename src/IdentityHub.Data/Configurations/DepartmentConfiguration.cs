using IdentityHub.Data.Directory;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace IdentityHub.Data.Configurations;

internal sealed class DepartmentConfiguration : IEntityTypeConfiguration<Department>
{
    public void Configure(EntityTypeBuilder<Department> builder)
    {
        builder.ToTable("Departments");
        builder.Property(d => d.Code).HasMaxLength(64);
        builder.HasIndex(d => d.Code).IsUnique();
        builder.Property(d => d.Name).HasMaxLength(200);
        builder.Property(d => d.Path).HasMaxLength(2000);
        builder.HasIndex(d => d.Path);
        builder.HasIndex(d => d.ParentId);
        builder.Property(d => d.ExternalId).HasMaxLength(256);
        builder.HasIndex(d => new { d.SourceId, d.ExternalId }).IsUnique();
        builder.HasOne<Inbound.InboundSource>().WithMany().HasForeignKey(d => d.SourceId).OnDelete(DeleteBehavior.SetNull);
        builder.HasOne(d => d.Parent).WithMany().HasForeignKey(d => d.ParentId).OnDelete(DeleteBehavior.Restrict);
    }
}
