using IdentityHub.Data.Directory;
using Microsoft.AspNetCore.Identity;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace IdentityHub.Data.Configurations;

internal sealed class PasskeyUseConfiguration : IEntityTypeConfiguration<PasskeyUse>
{
    public void Configure(EntityTypeBuilder<PasskeyUse> builder)
    {
        builder.ToTable("PasskeyUses");
        builder.HasKey(u => u.CredentialId);
        // As long as Identity's key column (WebAuthn allows credential ids up to 1023 bytes).
        builder.Property(u => u.CredentialId).HasMaxLength(1024);
        builder.HasOne<IdentityUserPasskey<string>>().WithOne().HasForeignKey<PasskeyUse>(u => u.CredentialId).OnDelete(DeleteBehavior.Cascade);
    }
}
