using System.Text.Json.Nodes;
using System.Text.RegularExpressions;

namespace IdentityHub.Server.Scim;

/// <summary>
/// RFC 7644 §3.5.2 PATCH on a resource's SCIM representation: each operation (add, replace, remove) changes the
/// JSON the client last read, and the caller turns the result back into the same write a PUT makes. Paths may name a
/// sub-attribute (<c>name.formatted</c>), an extension attribute by its URN, or select values with a filter
/// (<c>emails[type eq "work"].value</c>). Attribute names are case-insensitive (RFC 7643 §2.1).
/// </summary>
public static partial class ScimPatch
{
    public const int MaxOperations = 100;

    public static void Apply(JsonObject resource, JsonObject request, IReadOnlyCollection<string> extensions)
    {
        ArgumentNullException.ThrowIfNull(resource);
        ArgumentNullException.ThrowIfNull(request);
        ArgumentNullException.ThrowIfNull(extensions);
        ScimJson.RequireSchemas(request, [ScimSchemas.PatchOp], ScimSchemas.PatchOp);
        if (ScimJson.Get(request, "Operations") is not JsonArray operations || operations.Count == 0)
        {
            throw ScimException.InvalidSyntax("A PATCH request needs a non-empty \"Operations\" array.");
        }

        if (operations.Count > MaxOperations)
        {
            throw ScimException.InvalidSyntax($"A PATCH request may have up to {MaxOperations} operations.");
        }

        foreach (var item in operations)
        {
            if (item is not JsonObject operation)
            {
                throw ScimException.InvalidSyntax("Each PATCH operation is an object with \"op\", \"path\" and \"value\".");
            }

            var op = ScimJson.Text(operation, "op")?.ToLowerInvariant();
            var path = ScimJson.Text(operation, "path");
            var value = ScimJson.Get(operation, "value")?.DeepClone();
            switch (op)
            {
                case "add" or "replace" when path is null:
                    if (value is not JsonObject attributes)
                    {
                        throw ScimException.InvalidValue($"An '{op}' without a path needs an object of attributes as its value.");
                    }

                    foreach (var (name, attribute) in attributes.ToList())
                    {
                        var extension = extensions.FirstOrDefault(e => string.Equals(e, name, StringComparison.OrdinalIgnoreCase));
                        if (extension is not null && attribute is JsonObject extensionValues)
                        {
                            var container = ContainerOf(resource, extension, create: true)!;
                            foreach (var (subName, subValue) in extensionValues.ToList())
                            {
                                Set(container, subName, subValue?.DeepClone(), op == "add");
                            }
                        }
                        else
                        {
                            Set(resource, name, attribute?.DeepClone(), op == "add");
                        }
                    }

                    break;
                case "add" or "replace":
                    ApplyAtPath(resource, path!, extensions, target => Set(target.Container, target.Name, value?.DeepClone(), op == "add"), op, value);
                    break;
                case "remove" when path is null:
                    // RFC 7644 §3.5.2.2: a remove without a path is noTarget.
                    throw ScimException.NoTarget("A 'remove' operation needs a path.");
                case "remove":
                    Remove(resource, path!, extensions, value);
                    break;
                default:
                    throw ScimException.InvalidSyntax($"'{op}' is not a PATCH operation (add, replace, remove).");
            }
        }
    }

    private sealed record Target(JsonObject Container, string Name);

    private sealed record PathParts(JsonObject? Container, string Attribute, FilterNode? Filter, string? SubAttribute);

    private static PathParts Parse(JsonObject resource, string path, IReadOnlyCollection<string> extensions, bool create)
    {
        JsonObject? container = resource;
        var rest = path;
        foreach (var schema in ScimSchemas.Resource)
        {
            if (path.StartsWith(schema + ":", StringComparison.OrdinalIgnoreCase))
            {
                rest = path[(schema.Length + 1)..];
                var extension = extensions.FirstOrDefault(e => string.Equals(e, schema, StringComparison.OrdinalIgnoreCase));
                container = extension is null ? resource : ContainerOf(resource, extension, create);
                break;
            }
        }

        var match = PathPattern().Match(rest);
        if (!match.Success)
        {
            throw ScimException.InvalidPath($"'{path}' is not a SCIM attribute path.");
        }

        var filter = match.Groups["filter"].Success ? ParseValueFilter(match.Groups["filter"].Value) : null;
        var sub = match.Groups["sub"].Success ? match.Groups["sub"].Value : null;
        return new PathParts(container, match.Groups["attr"].Value, filter, sub);
    }

    private static FilterNode ParseValueFilter(string text)
    {
        try
        {
            return ScimFilter.Parse(text);
        }
        catch (ScimException error)
        {
            throw ScimException.InvalidPath($"The value filter '{text}' is not valid: {error.Message}");
        }
    }

    private static void ApplyAtPath(JsonObject resource, string path, IReadOnlyCollection<string> extensions, Action<Target> apply, string op, JsonNode? value)
    {
        var parts = Parse(resource, path, extensions, create: true);
        var container = parts.Container!;
        if (parts.Filter is null)
        {
            if (parts.SubAttribute is null)
            {
                apply(new Target(container, parts.Attribute));
                return;
            }

            var key = ScimJson.KeyOf(container, parts.Attribute) ?? parts.Attribute;
            switch (container[key])
            {
                case JsonObject complex:
                    Set(complex, parts.SubAttribute, value?.DeepClone(), add: op == "add");
                    break;
                case JsonArray values:
                    foreach (var element in values.OfType<JsonObject>())
                    {
                        Set(element, parts.SubAttribute, value?.DeepClone(), add: false);
                    }

                    break;
                default:
                    container[key] = new JsonObject { [parts.SubAttribute] = value?.DeepClone() };
                    break;
            }

            return;
        }

        var matches = Matching(container, parts);
        if (matches.Count == 0)
        {
            // RFC 7644 §3.5.2.3: a value filter that selects nothing is noTarget.
            throw ScimException.NoTarget($"No value of '{parts.Attribute}' matches the filter in '{path}'.");
        }

        foreach (var element in matches)
        {
            if (parts.SubAttribute is not null)
            {
                Set(element, parts.SubAttribute, value?.DeepClone(), add: false);
            }
            else if (value is JsonObject replacement)
            {
                foreach (var (name, sub) in replacement)
                {
                    Set(element, name, sub?.DeepClone(), add: false);
                }
            }
            else
            {
                throw ScimException.InvalidValue($"The value for '{path}' must be an object.");
            }
        }
    }

    private static void Remove(JsonObject resource, string path, IReadOnlyCollection<string> extensions, JsonNode? value)
    {
        var parts = Parse(resource, path, extensions, create: false);
        if (parts.Container is null)
        {
            return;
        }

        var key = ScimJson.KeyOf(parts.Container, parts.Attribute);
        if (key is null)
        {
            return;
        }

        if (parts.Filter is null && parts.SubAttribute is null)
        {
            // Some clients (Entra ID) send the values to remove from a multi-valued attribute as the value.
            if (value is JsonArray removed && parts.Container[key] is JsonArray current)
            {
                var values = removed.OfType<JsonObject>().Select(v => ScimJson.Text(v, "value")).OfType<string>().ToHashSet(StringComparer.Ordinal);
                foreach (var element in current.OfType<JsonObject>().Where(e => ScimJson.Text(e, "value") is { } v && values.Contains(v)).ToList())
                {
                    current.Remove(element);
                }

                return;
            }

            parts.Container.Remove(key);
            return;
        }

        if (parts.Filter is null)
        {
            switch (parts.Container[key])
            {
                case JsonObject complex when ScimJson.KeyOf(complex, parts.SubAttribute!) is { } subKey:
                    complex.Remove(subKey);
                    break;
                case JsonArray values:
                    foreach (var element in values.OfType<JsonObject>())
                    {
                        if (ScimJson.KeyOf(element, parts.SubAttribute!) is { } elementKey)
                        {
                            element.Remove(elementKey);
                        }
                    }

                    break;
            }

            return;
        }

        var matches = Matching(parts.Container, parts);
        if (parts.Container[key] is not JsonArray array)
        {
            return;
        }

        foreach (var element in matches)
        {
            if (parts.SubAttribute is null)
            {
                array.Remove(element);
            }
            else if (ScimJson.KeyOf(element, parts.SubAttribute) is { } subKey)
            {
                element.Remove(subKey);
            }
        }
    }

    private static List<JsonObject> Matching(JsonObject container, PathParts parts)
    {
        var key = ScimJson.KeyOf(container, parts.Attribute);
        return key is not null && container[key] is JsonArray values
            ? [.. values.OfType<JsonObject>().Where(v => Matches(parts.Filter!, v))]
            : [];
    }

    /// <summary>Sets an attribute; <paramref name="add"/> appends to a multi-valued attribute and merges a complex one (RFC 7644 §3.5.2.1).</summary>
    private static void Set(JsonObject container, string name, JsonNode? value, bool add)
    {
        var key = ScimJson.KeyOf(container, name) ?? name;
        if (add && container[key] is JsonArray existing && value is JsonArray added)
        {
            foreach (var item in added.ToList())
            {
                var clone = item?.DeepClone();
                if (!existing.Any(e => JsonNode.DeepEquals(e, clone)))
                {
                    existing.Add(clone);
                }
            }

            return;
        }

        if (add && container[key] is JsonObject complex && value is JsonObject merged)
        {
            foreach (var (sub, subValue) in merged.ToList())
            {
                Set(complex, sub, subValue?.DeepClone(), add: true);
            }

            return;
        }

        container.Remove(key);
        container[key] = value;
    }

    private static JsonObject? ContainerOf(JsonObject resource, string extension, bool create)
    {
        var key = ScimJson.KeyOf(resource, extension);
        if (key is not null && resource[key] is JsonObject found)
        {
            return found;
        }

        if (!create)
        {
            return null;
        }

        var container = new JsonObject();
        resource[extension] = container;
        return container;
    }

    /// <summary>Evaluates a value filter on one value of a multi-valued attribute (<c>type eq "work"</c>).</summary>
    private static bool Matches(FilterNode filter, JsonObject value) => filter switch
    {
        FilterAnd and => Matches(and.Left, value) && Matches(and.Right, value),
        FilterOr or => Matches(or.Left, value) || Matches(or.Right, value),
        FilterNot not => !Matches(not.Inner, value),
        FilterComparison comparison => Compare(comparison, ScimJson.Get(value, comparison.Path)),
        _ => false,
    };

    private static bool Compare(FilterComparison comparison, JsonNode? actual)
    {
        if (comparison.Operator == "pr")
        {
            return actual is not null;
        }

        if (actual is not JsonValue scalar)
        {
            return comparison.Operator == "eq" ? comparison.Value is null : comparison.Operator == "ne" && comparison.Value is not null;
        }

        if (comparison.Value is bool expected && scalar.TryGetValue<bool>(out var flag))
        {
            return comparison.Operator == "eq" ? flag == expected : comparison.Operator == "ne" && flag != expected;
        }

        var text = scalar.ToString();
        var wanted = Convert.ToString(comparison.Value, System.Globalization.CultureInfo.InvariantCulture) ?? "";
        var order = string.Compare(text, wanted, StringComparison.OrdinalIgnoreCase);
        return comparison.Operator switch
        {
            "eq" => order == 0,
            "ne" => order != 0,
            "co" => text.Contains(wanted, StringComparison.OrdinalIgnoreCase),
            "sw" => text.StartsWith(wanted, StringComparison.OrdinalIgnoreCase),
            "ew" => text.EndsWith(wanted, StringComparison.OrdinalIgnoreCase),
            "gt" => order > 0,
            "ge" => order >= 0,
            "lt" => order < 0,
            "le" => order <= 0,
            _ => false,
        };
    }

    [GeneratedRegex(@"^(?<attr>[A-Za-z$][\w$-]*)(?:\[(?<filter>.+)\])?(?:\.(?<sub>[A-Za-z$][\w$-]*))?$", RegexOptions.CultureInvariant, matchTimeoutMilliseconds: 1000)]
    private static partial Regex PathPattern();
}
