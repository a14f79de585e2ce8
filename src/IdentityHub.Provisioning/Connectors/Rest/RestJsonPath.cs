using Newtonsoft.Json.Linq;

namespace IdentityHub.Provisioning.Connectors.Rest;

/// <summary>
/// JSONPath into a vendor's answer (<c>code</c>, <c>data.items</c>, <c>$.data.list[0].id</c>), evaluated by Json.NET's
/// SelectToken, a maintained JSONPath implementation, instead of a path language of our own.
/// </summary>
public static class RestJsonPath
{
    /// <summary>Null when <paramref name="path"/> is a well-formed JSONPath, else why not.</summary>
    public static string? Problem(string path)
    {
        if (string.IsNullOrWhiteSpace(path))
        {
            return "A JSON path is required here, for example data.id.";
        }

        try
        {
            _ = new JObject().SelectToken(path);
            return null;
        }
        catch (Newtonsoft.Json.JsonException ex)
        {
            return $"Not a valid JSON path: {ex.Message}";
        }
    }

    /// <summary>Parses a JSON text; null when it is empty or not JSON.</summary>
    public static JToken? Parse(string? text)
    {
        if (string.IsNullOrWhiteSpace(text))
        {
            return null;
        }

        try
        {
            return JToken.Parse(text);
        }
        catch (Newtonsoft.Json.JsonException)
        {
            return null;
        }
    }

    public static JToken? Select(JToken? root, string? path) => root is null || string.IsNullOrWhiteSpace(path) ? null : root.SelectToken(path);

    /// <summary>A scalar as text (numbers in invariant form), null for a missing value, null or a container.</summary>
    public static string? Text(JToken? token) => token switch
    {
        JValue { Type: JTokenType.Null or JTokenType.Undefined } => null,
        JValue { Type: JTokenType.String } value => (string?)value,
        JValue { Type: JTokenType.Boolean } value => (bool)value ? "true" : "false",
        JValue value => Convert.ToString(value.Value, System.Globalization.CultureInfo.InvariantCulture),
        _ => null,
    };
}
