using System.Text.Json;
using IdentityHub.Data.Access;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.ChangeTracking;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace IdentityHub.Data.Configurations;

internal sealed class SamlServiceProviderConfiguration : IEntityTypeConfiguration<SamlServiceProvider>
{
    public void Configure(EntityTypeBuilder<SamlServiceProvider> builder)
    {
        builder.ToTable("SamlServiceProviders");
        builder.HasOne<Application>().WithOne().HasForeignKey<SamlServiceProvider>(s => s.ApplicationId).OnDelete(DeleteBehavior.Cascade);
        builder.HasIndex(s => s.ApplicationId).IsUnique();
        builder.Property(s => s.EntityId).HasMaxLength(SamlServiceProvider.EntityIdMaxLength);
        builder.HasIndex(s => s.EntityId).IsUnique();
        builder.Property(s => s.SingleLogoutUrl).HasMaxLength(SamlServiceProvider.UrlMaxLength);
        builder.Property(s => s.SingleLogoutBinding).HasMaxLength(128);
        builder.Property(s => s.NameIdFormat).HasMaxLength(128);
        builder.Property(s => s.PairwiseSalt).HasMaxLength(32);
        // Small lists read and written with their SP: JSON text works the same on every provider.
        builder.Property(s => s.AssertionConsumerServices).HasConversion(Json<SamlAcsEndpoint>(), Comparer<SamlAcsEndpoint>());
        builder.Property(s => s.AttributeMappings).HasConversion(Json<SamlAttributeMapping>(), Comparer<SamlAttributeMapping>());
    }

    private static Microsoft.EntityFrameworkCore.Storage.ValueConversion.ValueConverter<List<T>, string> Json<T>() => new(
        list => JsonSerializer.Serialize(list, JsonSerializerOptions.Web),
        text => JsonSerializer.Deserialize<List<T>>(text, JsonSerializerOptions.Web) ?? new List<T>());

    private static ValueComparer<List<T>> Comparer<T>() => new(
        (a, b) => a != null && b != null && a.SequenceEqual(b),
        list => list.Aggregate(0, (hash, item) => HashCode.Combine(hash, item)),
        list => list.ToList());
}

internal sealed class SamlSeenMessageConfiguration : IEntityTypeConfiguration<SamlSeenMessage>
{
    public void Configure(EntityTypeBuilder<SamlSeenMessage> builder)
    {
        builder.ToTable("SamlSeenMessages");
        builder.HasKey(m => m.Key);
        builder.Property(m => m.Key).HasMaxLength(64);
        builder.HasIndex(m => m.ExpiresAt);
    }
}
