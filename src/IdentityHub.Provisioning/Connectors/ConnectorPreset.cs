using System.Text.Json;
using System.Text.Json.Nodes;

namespace IdentityHub.Provisioning.Connectors;

/// <summary>
/// Settings a kind ships for a known kind of target (an expense or attendance vendor), which an administrator picks and
/// edits: its name, its title and description per language (<c>en</c>, <c>zh-CN</c>), and the settings it fills.
/// </summary>
public sealed record ConnectorPreset(string Kind, string Name, IReadOnlyDictionary<string, string> Title, IReadOnlyDictionary<string, string> Description, JsonElement Settings)
{
    /// <summary>
    /// The preset's settings with <paramref name="given"/> laid over them: objects field by field, anything else (arrays
    /// included) replaced by what was given. Nothing given (undefined): the preset's settings as they are.
    /// </summary>
    public JsonElement Apply(JsonElement given)
    {
        var merged = JsonNode.Parse(Settings.GetRawText());
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
