using IdentityHub.Data.Access;
using IdentityHub.Data.Directory;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace IdentityHub.Data.Configurations;

internal sealed class PermissionConfiguration : IEntityTypeConfiguration<Permission>
{
    public void Configure(EntityTypeBuilder<Permission> builder)
    {
        builder.ToTable("Permissions");
        builder.Property(p => p.Name).HasMaxLength(Permission.NameMaxLength);
        builder.Property(p => p.Description).HasMaxLength(2000);
        builder.Property(p => p.Parameters).StoredAsJson();
        builder.HasIndex(p => new { p.ApplicationId, p.Name }).IsUnique();
        builder.HasOne(p => p.Application).WithMany().HasForeignKey(p => p.ApplicationId).OnDelete(DeleteBehavior.Cascade);
    }
}

internal sealed class RoleConfiguration : IEntityTypeConfiguration<Role>
{
    public void Configure(EntityTypeBuilder<Role> builder)
    {
        builder.ToTable("AccessRoles");
        builder.Property(r => r.Name).HasMaxLength(Role.NameMaxLength);
        builder.Property(r => r.DisplayName).HasMaxLength(Role.DisplayNameMaxLength);
        builder.Property(r => r.Description).HasMaxLength(2000);
        builder.HasIndex(r => new { r.ApplicationId, r.Name }).IsUnique();
        builder.HasOne(r => r.Application).WithMany().HasForeignKey(r => r.ApplicationId).OnDelete(DeleteBehavior.Restrict);
        builder.HasMany(r => r.Permissions).WithOne().HasForeignKey(p => p.RoleId).OnDelete(DeleteBehavior.Cascade);
    }
}

internal sealed class RolePermissionConfiguration : IEntityTypeConfiguration<RolePermission>
{
    public void Configure(EntityTypeBuilder<RolePermission> builder)
    {
        builder.ToTable("RolePermissions");
        builder.HasKey(p => new { p.RoleId, p.PermissionId });
        builder.Property(p => p.Parameters).StoredAsJson();
        builder.HasOne(p => p.Permission).WithMany().HasForeignKey(p => p.PermissionId).OnDelete(DeleteBehavior.Restrict);
    }
}

internal sealed class RoleAssignmentConfiguration : IEntityTypeConfiguration<RoleAssignment>
{
    public void Configure(EntityTypeBuilder<RoleAssignment> builder)
    {
        builder.ToTable("RoleAssignments");
        builder.Property(a => a.UserId).HasMaxLength(450);
        builder.Property(a => a.Reason).HasMaxLength(RoleAssignment.ReasonMaxLength);
        builder.Property(a => a.GrantedBy).HasMaxLength(500);
        builder.Property(a => a.EndedBy).HasMaxLength(500);
        builder.Property(a => a.EndReason).HasMaxLength(RoleAssignment.ReasonMaxLength);
        builder.HasIndex(a => new { a.UserId, a.EndedAt });
        builder.HasIndex(a => new { a.RoleId, a.EndedAt });
        builder.HasIndex(a => new { a.EndedAt, a.ExpiryRecordedAt, a.ValidUntil });
        builder.HasOne<UserAccount>().WithMany().HasForeignKey(a => a.UserId).OnDelete(DeleteBehavior.Restrict);
        builder.HasOne(a => a.Role).WithMany().HasForeignKey(a => a.RoleId).OnDelete(DeleteBehavior.Restrict);
        builder.HasOne(a => a.Department).WithMany().HasForeignKey(a => a.DepartmentId).OnDelete(DeleteBehavior.Restrict);
    }
}

internal sealed class SeparationOfDutyRuleConfiguration : IEntityTypeConfiguration<SeparationOfDutyRule>
{
    public void Configure(EntityTypeBuilder<SeparationOfDutyRule> builder)
    {
        builder.ToTable("SeparationOfDutyRules");
        builder.Property(r => r.Name).HasMaxLength(200);
        builder.HasIndex(r => r.Name).IsUnique();
        builder.Property(r => r.Description).HasMaxLength(2000);
        builder.HasOne<Role>().WithMany().HasForeignKey(r => r.FirstRoleId).OnDelete(DeleteBehavior.Restrict);
        builder.HasOne<Role>().WithMany().HasForeignKey(r => r.SecondRoleId).OnDelete(DeleteBehavior.Restrict);
        builder.HasOne<Permission>().WithMany().HasForeignKey(r => r.FirstPermissionId).OnDelete(DeleteBehavior.Restrict);
        builder.HasOne<Permission>().WithMany().HasForeignKey(r => r.SecondPermissionId).OnDelete(DeleteBehavior.Restrict);
    }
}

internal sealed class AdministeredDepartmentConfiguration : IEntityTypeConfiguration<AdministeredDepartment>
{
    public void Configure(EntityTypeBuilder<AdministeredDepartment> builder)
    {
        builder.ToTable("AdministeredDepartments");
        builder.Property(a => a.UserId).HasMaxLength(450);
        builder.HasKey(a => new { a.UserId, a.DepartmentId });
        builder.HasOne<UserAccount>().WithMany().HasForeignKey(a => a.UserId).OnDelete(DeleteBehavior.Cascade);
        builder.HasOne(a => a.Department).WithMany().HasForeignKey(a => a.DepartmentId).OnDelete(DeleteBehavior.Cascade);
    }
}
