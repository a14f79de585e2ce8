using System.Text.Json.Nodes;

namespace IdentityHub.Server.Scim;

/// <summary>Reading a client's SCIM JSON: case-insensitive attribute names (RFC 7643 §2.1), types checked, URNs known.</summary>
public static class ScimJson
{
    public static string? KeyOf(JsonObject json, string name)
    {
        ArgumentNullException.ThrowIfNull(json);
        if (json.ContainsKey(name))
        {
            return name;
        }

        return json.Select(p => p.Key).FirstOrDefault(k => string.Equals(k, name, StringComparison.OrdinalIgnoreCase));
    }

    public static JsonNode? Get(JsonObject json, string name) => KeyOf(json, name) is { } key ? json[key] : null;

    public static string? Text(JsonObject json, string name)
    {
        var node = Get(json, name);
        return node switch
        {
            null => null,
            JsonValue value when value.TryGetValue<string>(out var text) => text,
            _ => throw ScimException.InvalidValue($"'{name}' must be a string."),
        };
    }

    public static bool? Flag(JsonObject json, string name)
    {
        var node = Get(json, name);
        return node switch
        {
            null => null,
            JsonValue value when value.TryGetValue<bool>(out var flag) => flag,
            // Some clients send booleans as strings ("True"); RFC 7643 §2.3.2 says boolean, so accept only the two words.
            JsonValue value when value.TryGetValue<string>(out var text) && bool.TryParse(text, out var parsed) => parsed,
            _ => throw ScimException.InvalidValue($"'{name}' must be true or false."),
        };
    }

    public static JsonObject? Complex(JsonObject json, string name) => Get(json, name) switch
    {
        null => null,
        JsonObject found => found,
        _ => throw ScimException.InvalidValue($"'{name}' must be an object."),
    };

    public static JsonArray? Array(JsonObject json, string name) => Get(json, name) switch
    {
        null => null,
        JsonArray found => found,
        _ => throw ScimException.InvalidValue($"'{name}' must be an array."),
    };

    /// <summary>
    /// RFC 7644 §3.3: the body's <c>schemas</c> lists its schema URNs; one IdentityHub does not know (in <c>schemas</c> or as an
    /// extension attribute) is invalidSyntax rather than silently ignored data.
    /// </summary>
    public static void RequireSchemas(JsonObject body, IReadOnlyCollection<string> allowed, string required)
    {
        ArgumentNullException.ThrowIfNull(body);
        ArgumentNullException.ThrowIfNull(allowed);
        if (Get(body, "schemas") is not JsonArray schemas || schemas.Count == 0)
        {
            throw ScimException.InvalidSyntax($"The body needs a \"schemas\" array naming {required}.");
        }

        var named = new List<string>();
        foreach (var schema in schemas)
        {
            if (schema is not JsonValue value || !value.TryGetValue<string>(out var urn))
            {
                throw ScimException.InvalidSyntax("\"schemas\" holds schema URNs as strings.");
            }

            if (!allowed.Contains(urn, StringComparer.OrdinalIgnoreCase))
            {
                throw ScimException.InvalidSyntax($"The schema '{urn}' is not supported here; supported: {string.Join(", ", allowed)}.");
            }

            named.Add(urn);
        }

        if (!named.Contains(required, StringComparer.OrdinalIgnoreCase))
        {
            throw ScimException.InvalidSyntax($"\"schemas\" must name {required}.");
        }

        foreach (var (key, _) in body)
        {
            if (key.StartsWith("urn:", StringComparison.OrdinalIgnoreCase) && !allowed.Contains(key, StringComparer.OrdinalIgnoreCase))
            {
                throw ScimException.InvalidSyntax($"The extension '{key}' is not supported here.");
            }
        }
    }
}
