using IdentityHub.Data.Sessions;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace IdentityHub.Data.Configurations;

internal sealed class SessionParticipantConfiguration : IEntityTypeConfiguration<SessionParticipant>
{
    public void Configure(EntityTypeBuilder<SessionParticipant> builder)
    {
        builder.ToTable("SessionParticipants");
        builder.Property(p => p.Sid).HasMaxLength(64);
        builder.Property(p => p.Protocol).HasMaxLength(8);
        builder.Property(p => p.ClientId).HasMaxLength(256);
        builder.Property(p => p.UserId).HasMaxLength(450);
        builder.Property(p => p.NameId).HasMaxLength(64);
        // One row per application and session: taking part twice changes nothing.
        builder.HasIndex(p => new { p.Sid, p.Protocol, p.ClientId }).IsUnique();
        builder.HasIndex(p => p.UserId);
    }
}

internal sealed class BackchannelLogoutDeliveryConfiguration : IEntityTypeConfiguration<BackchannelLogoutDelivery>
{
    public void Configure(EntityTypeBuilder<BackchannelLogoutDelivery> builder)
    {
        builder.ToTable("BackchannelLogoutDeliveries");
        builder.Property(d => d.ClientId).HasMaxLength(256);
        builder.Property(d => d.LogoutUri).HasMaxLength(2048);
        builder.Property(d => d.Issuer).HasMaxLength(2048);
        builder.Property(d => d.Sid).HasMaxLength(64);
        builder.Property(d => d.UserId).HasMaxLength(450);
        builder.Property(d => d.LastError).HasMaxLength(1024);
        builder.HasIndex(d => new { d.DeliveredAt, d.AbandonedAt, d.NextAttemptAt });
    }
}

internal sealed class UserSessionConfiguration : IEntityTypeConfiguration<UserSession>
{
    public void Configure(EntityTypeBuilder<UserSession> builder)
    {
        builder.ToTable("UserSessions");
        builder.Property(s => s.Id).HasMaxLength(UserSession.IdMaxLength);
        builder.Property(s => s.UserId).HasMaxLength(450);
        builder.Property(s => s.EndReason).HasMaxLength(UserSession.EndReasonMaxLength);
        builder.Property(s => s.IpAddress).HasMaxLength(UserSession.IpAddressMaxLength);
        builder.Property(s => s.UserAgent).HasMaxLength(UserSession.UserAgentMaxLength);
        builder.Property(s => s.Issuer).HasMaxLength(UserSession.IssuerMaxLength);
        // A user's live sessions: what an administrator or "sign out others" ends.
        builder.HasIndex(s => new { s.UserId, s.EndedAt });
    }
}
