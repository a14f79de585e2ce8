using System.Text.Json;
using Microsoft.EntityFrameworkCore.ChangeTracking;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace IdentityHub.Data.Configurations;

/// <summary>Stores a small string dictionary (permission parameters) as one JSON column on every provider.</summary>
internal static class JsonDictionary
{
    public static PropertyBuilder<Dictionary<string, string>> StoredAsJson(this PropertyBuilder<Dictionary<string, string>> property) =>
        property
            .HasConversion(
                value => JsonSerializer.Serialize(value, JsonSerializerOptions.Default),
                json => JsonSerializer.Deserialize<Dictionary<string, string>>(json, JsonSerializerOptions.Default) ?? new Dictionary<string, string>(),
                new ValueComparer<Dictionary<string, string>>(
                    (a, b) => a != null && b != null && a.Count == b.Count && !a.Except(b).Any(),
                    value => value.Aggregate(0, (hash, pair) => hash ^ HashCode.Combine(pair.Key, pair.Value)),
                    value => new Dictionary<string, string>(value)))
            .HasMaxLength(4000);
}
