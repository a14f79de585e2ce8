using IdentityHub.Data.Directory;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace IdentityHub.Data.Configurations;

internal sealed class UserAccountConfiguration : IEntityTypeConfiguration<UserAccount>
{
    public void Configure(EntityTypeBuilder<UserAccount> builder)
    {
        builder.Property(u => u.EmployeeNumber).HasMaxLength(64);
        builder.HasIndex(u => u.EmployeeNumber).IsUnique();
        builder.Property(u => u.DisplayName).HasMaxLength(200);
        builder.Property(u => u.Status).HasConversion<string>().HasMaxLength(16);
        builder.Property(u => u.ManagerId).HasMaxLength(450);
        builder.Property(u => u.ExternalId).HasMaxLength(256);
        builder.Property(u => u.PendingManagerRef).HasMaxLength(256);
        builder.Property(u => u.PreferredLocale).HasMaxLength(16);
        // A source names each of its people once; the same push twice finds the same person.
        builder.HasIndex(u => new { u.SourceId, u.ExternalId }).IsUnique();
        builder.HasOne<Inbound.InboundSource>().WithMany().HasForeignKey(u => u.SourceId).OnDelete(DeleteBehavior.SetNull);
        builder.HasOne(u => u.Department).WithMany().HasForeignKey(u => u.DepartmentId).OnDelete(DeleteBehavior.Restrict);
        builder.HasOne<UserAccount>().WithMany().HasForeignKey(u => u.ManagerId).OnDelete(DeleteBehavior.Restrict);
    }
}
