using System.Text.Json;

namespace IdentityHub.Provisioning.Connectors.Rest;

/// <summary>
/// The REST connector presets shipped as data files (Presets/*.json, embedded): an administrator picks one and edits what
/// differs; creating a connector with a preset lays the given settings over the preset's (<see cref="ConnectorPreset.Apply"/>).
/// No vendor is hard-coded anywhere else.
/// </summary>
public sealed class RestPresets
{
    public RestPresets()
    {
        var assembly = typeof(RestPresets).Assembly;
        All = [.. assembly.GetManifestResourceNames()
            .Where(n => n.Contains(".Connectors.Rest.Presets.", StringComparison.Ordinal) && n.EndsWith(".json", StringComparison.Ordinal))
            .Select(n =>
            {
                using var stream = assembly.GetManifestResourceStream(n)!;
                var file = JsonSerializer.Deserialize<PresetFile>(stream, RestConnectorSettings.Json)!;
                return new ConnectorPreset("rest", file.Name, file.Title, file.Description, file.Settings);
            })
            .OrderBy(p => p.Name, StringComparer.Ordinal)];
    }

    public IReadOnlyList<ConnectorPreset> All { get; }

    /// <summary>A preset file as shipped: its name, title and description in English and Chinese, and the settings it fills.</summary>
    private sealed record PresetFile(string Name, IReadOnlyDictionary<string, string> Title, IReadOnlyDictionary<string, string> Description, JsonElement Settings);
}
