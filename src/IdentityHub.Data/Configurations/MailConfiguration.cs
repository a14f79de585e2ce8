using IdentityHub.Data.Mail;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace IdentityHub.Data.Configurations;

internal sealed class MailMessageConfiguration : IEntityTypeConfiguration<MailMessage>
{
    public void Configure(EntityTypeBuilder<MailMessage> builder)
    {
        builder.ToTable("MailOutbox");
        builder.Property(m => m.ToAddress).HasMaxLength(256);
        builder.Property(m => m.ToName).HasMaxLength(200);
        builder.Property(m => m.Template).HasMaxLength(64);
        builder.Property(m => m.Locale).HasMaxLength(16);
        builder.Property(m => m.Model).HasMaxLength(8000);
        builder.Property(m => m.UserId).HasMaxLength(450);
        builder.Property(m => m.Status).HasConversion<string>().HasMaxLength(16);
        builder.Property(m => m.ClaimedBy).HasMaxLength(200);
        builder.Property(m => m.LastError).HasMaxLength(500);
        // The sender's query: due pending rows, oldest first.
        builder.HasIndex(m => new { m.Status, m.DueAt });
        builder.HasIndex(m => m.UserId);
    }
}
