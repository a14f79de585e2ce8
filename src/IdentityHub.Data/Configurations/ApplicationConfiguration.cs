using IdentityHub.Data.Access;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace IdentityHub.Data.Configurations;

internal sealed class ApplicationConfiguration : IEntityTypeConfiguration<Application>
{
    public void Configure(EntityTypeBuilder<Application> builder)
    {
        builder.ToTable("Applications");
        builder.Property(a => a.Name).HasMaxLength(Application.NameMaxLength);
        builder.HasIndex(a => a.Name).IsUnique();
        builder.Property(a => a.Description).HasMaxLength(Application.DescriptionMaxLength);
        builder.Property(a => a.LaunchUrl).HasMaxLength(Application.LaunchUrlMaxLength);
        builder.Property(a => a.IconUrl).HasMaxLength(Application.IconUrlMaxLength);
        builder.Property(a => a.Theme).HasMaxLength(Application.ThemeMaxLength);
        // OpenIddict's own client_id column is 100 characters.
        builder.Property(a => a.OidcClientId).HasMaxLength(100);
        builder.HasIndex(a => a.OidcClientId).IsUnique();
        // On unless an administrator switches it off: rows written without the column (older schema, raw SQL) get it too.
        builder.Property(a => a.RevokeTokensOnAccessLoss).HasDefaultValue(true);
    }
}
