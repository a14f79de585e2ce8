using System.Text.Json;
using System.Text.Json.Nodes;

namespace IdentityHub.Provisioning.Connectors.Rest;

/// <summary>A preset as the admin API lists it: its name, title and description in English and Chinese, and the settings it fills.</summary>
public sealed record RestPreset(string Name, IReadOnlyDictionary<string, string> Title, IReadOnlyDictionary<string, string> Description, JsonElement Settings);

/// <summary>
/// The REST connector presets shipped as data files (Presets/*.json, embedded): an administrator picks one and edits what
/// differs. Creating a connector with a preset merges the preset's settings under the given ones: objects field by
/// field, anything else (arrays included) replaced by what was given. No vendor is hard-coded anywhere else.
/// </summary>
public sealed class RestPresets
{
    private readonly Dictionary<string, RestPreset> _presets;

    public RestPresets()
    {
        var assembly = typeof(RestPresets).Assembly;
        _presets = assembly.GetManifestResourceNames()
            .Where(n => n.Contains(".Connectors.Rest.Presets.", StringComparison.Ordinal) && n.EndsWith(".json", StringComparison.Ordinal))
            .Select(n =>
            {
                using var stream = assembly.GetManifestResourceStream(n)!;
                return JsonSerializer.Deserialize<RestPreset>(stream, RestConnectorSettings.Json)!;
            })
            .ToDictionary(p => p.Name, StringComparer.Ordinal);
    }

    public IReadOnlyList<RestPreset> All => [.. _presets.Values.OrderBy(p => p.Name, StringComparer.Ordinal)];

    public RestPreset? Find(string name) => _presets.GetValueOrDefault(name);

    /// <summary>The preset's settings with <paramref name="given"/> laid over them.</summary>
    public static JsonElement Merge(RestPreset preset, JsonElement given)
    {
        ArgumentNullException.ThrowIfNull(preset);
        var merged = JsonNode.Parse(preset.Settings.GetRawText())!;
        if (given.ValueKind == JsonValueKind.Object)
        {
            merged = Overlay(merged, JsonNode.Parse(given.GetRawText()));
        }

        return JsonSerializer.SerializeToElement(merged);
    }

    private static JsonNode? Overlay(JsonNode? under, JsonNode? over)
    {
        if (under is not JsonObject baseObject || over is not JsonObject overObject)
        {
            return over?.DeepClone();
        }

        var result = (JsonObject)baseObject.DeepClone();
        foreach (var (name, value) in overObject)
        {
            result[name] = Overlay(result[name], value);
        }

        return result;
    }
}
