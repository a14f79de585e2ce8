using System.Collections;
using System.Collections.Concurrent;
using System.ComponentModel.DataAnnotations;
using System.Reflection;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace IdentityHub.Server.AdminApi;

/// <summary>
/// One check of every admin API request body before the endpoint runs, so a malformed body changes nothing: no
/// <c>null</c> element in any array, at least as many elements as <see cref="MinLengthAttribute"/> asks, and no string
/// longer than its <see cref="MaxLengthAttribute"/> (the column it is stored in). Each problem names the field by its JSON
/// path (<c>permissions[0]</c>). The Core's own rules come after, as <c>RuleViolation</c>s.
/// </summary>
public static class RequestBodies
{
    private const int MaxDepth = 16;

    private static readonly ConcurrentDictionary<Type, IReadOnlyList<BodyProperty>> Properties = new();

    public static async ValueTask<object?> RequireWellFormedBodies(EndpointFilterInvocationContext context, EndpointFilterDelegate next)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(next);
        var bodyType = context.HttpContext.GetEndpoint()?.Metadata.GetMetadata<Microsoft.AspNetCore.Http.Metadata.IAcceptsMetadata>()?.RequestType;
        if (bodyType is not null)
        {
            var errors = new Dictionary<string, string[]>(StringComparer.Ordinal);
            foreach (var argument in context.Arguments)
            {
                if (argument is not null && argument.GetType() == bodyType)
                {
                    Check(argument, "", errors, depth: 0);
                }
            }

            if (errors.Count > 0)
            {
                return TypedResults.ValidationProblem(errors, title: "The request body has invalid fields.", detail: string.Join(" ", errors.Select(e => $"{e.Key}: {string.Join(" ", e.Value)}")));
            }
        }

        return await next(context);
    }

    private static void Check(object value, string path, Dictionary<string, string[]> errors, int depth)
    {
        if (depth > MaxDepth)
        {
            return;
        }

        switch (value)
        {
            case string:
                return;
            case JsonElement element:
                CheckJson(element, path, errors, depth);
                return;
            case IDictionary dictionary:
                foreach (DictionaryEntry entry in dictionary)
                {
                    if (entry.Value is not null)
                    {
                        Check(entry.Value, $"{path}.{entry.Key}", errors, depth + 1);
                    }
                }

                return;
            case IEnumerable items:
                var index = 0;
                foreach (var item in items)
                {
                    if (item is null)
                    {
                        errors[$"{path}[{index}]"] = ["An array element must not be null."];
                    }
                    else
                    {
                        Check(item, $"{path}[{index}]", errors, depth + 1);
                    }

                    index++;
                }

                return;
        }

        if (!IsRequestType(value.GetType()))
        {
            return;
        }

        foreach (var property in PropertiesOf(value.GetType()))
        {
            var field = path.Length == 0 ? property.Name : $"{path}.{property.Name}";
            var member = property.Info.GetValue(value);
            if (member is string text && property.MaxLength is { } max && text.Length > max)
            {
                errors[field] = [$"{field} is at most {max} characters long (this one has {text.Length})."];
            }
            else if (member is ICollection collection && property.MinLength is { } min && collection.Count < min)
            {
                errors[field] = [$"{field} needs at least {min} element{(min == 1 ? "" : "s")}."];
            }
            else if (member is not null)
            {
                Check(member, field, errors, depth + 1);
            }
        }
    }

    /// <summary>Free-form JSON (a connector's settings) has no declared lengths, but a null element is refused there too.</summary>
    private static void CheckJson(JsonElement element, string path, Dictionary<string, string[]> errors, int depth)
    {
        if (depth > MaxDepth)
        {
            return;
        }

        if (element.ValueKind == JsonValueKind.Object)
        {
            foreach (var property in element.EnumerateObject())
            {
                CheckJson(property.Value, $"{path}.{property.Name}", errors, depth + 1);
            }
        }
        else if (element.ValueKind == JsonValueKind.Array)
        {
            var index = 0;
            foreach (var item in element.EnumerateArray())
            {
                if (item.ValueKind == JsonValueKind.Null)
                {
                    errors[$"{path}[{index}]"] = ["An array element must not be null."];
                }
                else
                {
                    CheckJson(item, $"{path}[{index}]", errors, depth + 1);
                }

                index++;
            }
        }
    }

    private static bool IsRequestType(Type type) =>
        type.IsClass && type.Namespace?.StartsWith("IdentityHub.", StringComparison.Ordinal) == true;

    private static IReadOnlyList<BodyProperty> PropertiesOf(Type type) => Properties.GetOrAdd(type, static type =>
    {
        // A positional record's attributes sit on its constructor parameters unless targeted at the property.
        var parameters = type.GetConstructors().SelectMany(c => c.GetParameters())
            .GroupBy(p => p.Name ?? "", StringComparer.Ordinal).ToDictionary(g => g.Key, g => g.First(), StringComparer.Ordinal);
        return [.. type.GetProperties(BindingFlags.Public | BindingFlags.Instance)
            .Where(p => p.CanRead && p.GetIndexParameters().Length == 0 && p.GetCustomAttribute<JsonIgnoreAttribute>() is null)
            .Select(p =>
            {
                var parameter = parameters.GetValueOrDefault(p.Name);
                var max = p.GetCustomAttribute<MaxLengthAttribute>()?.Length ?? parameter?.GetCustomAttribute<MaxLengthAttribute>()?.Length
                    ?? p.GetCustomAttribute<StringLengthAttribute>()?.MaximumLength ?? parameter?.GetCustomAttribute<StringLengthAttribute>()?.MaximumLength;
                var min = p.GetCustomAttribute<MinLengthAttribute>()?.Length ?? parameter?.GetCustomAttribute<MinLengthAttribute>()?.Length;
                var name = p.GetCustomAttribute<JsonPropertyNameAttribute>()?.Name ?? JsonNamingPolicy.CamelCase.ConvertName(p.Name);
                return new BodyProperty(name, p, max, min);
            })];
    });

    private sealed record BodyProperty(string Name, PropertyInfo Info, int? MaxLength, int? MinLength);
}
