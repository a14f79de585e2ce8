using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Nodes;
using Fluid;
using Fluid.Values;

namespace IdentityHub.Provisioning.Connectors.Rest;

/// <summary>A template that could not be rendered into a usable request: a configuration error, never retried.</summary>
public sealed class RestTemplateException(string field, string message) : Exception(message)
{
    /// <summary>The settings field (<c>operations.upsertUser.body</c>) whose template failed.</summary>
    public string Field { get; } = field;
}

/// <summary>
/// Liquid templates through Fluid: one parser for every connector, and per connector settings the options with its
/// filters — <c>json</c> (a JSON literal of any value) and <c>map</c> (the settings' value maps). A body is rendered
/// with JSON-string escaping, so <c>"{{ user.displayName }}"</c> inside quotes stays valid JSON whatever the name holds;
/// <c>json</c> writes its literal unescaped. A URL escapes every value it inserts, so an employee number with a slash stays one path segment.
/// </summary>
public static class RestTemplates
{
    private static readonly FluidParser Parser = new();

    private static readonly JsonSerializerOptions LiteralJson = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    /// <summary>Parses a template; null with the parser's message when it does not parse.</summary>
    public static IFluidTemplate? Parse(string source, out string? error)
    {
        ArgumentNullException.ThrowIfNull(source);
        if (Parser.TryParse(source, out var template, out var message))
        {
            error = null;
            return template;
        }

        error = message;
        return null;
    }

    /// <summary>The options a connector's templates render with: bounded work and output, its value maps behind <c>map</c>.</summary>
    public static TemplateOptions OptionsFor(RestConnectorSettings settings)
    {
        ArgumentNullException.ThrowIfNull(settings);
        var maps = settings.ValueMaps;
        return new TemplateOptionsBuilder()
            .WithStrictFilters(true)
            .WithMaxSteps(100_000)
            .WithMaxOutputSize(512 * 1024)
            .WithCultureInfo(System.Globalization.CultureInfo.InvariantCulture)
            .AddFilter("json", JsonFilterAsync)
            .AddFilter("map", (input, arguments, context) => MapFilterAsync(maps, input, arguments, context))
            .Build();
    }

    public static string RenderBody(IFluidTemplate template, object model, TemplateOptions options) =>
        Render(template, model, options, JavaScriptEncoder.UnsafeRelaxedJsonEscaping);

    public static string RenderUrl(IFluidTemplate template, object model, TemplateOptions options) =>
        Render(template, model, options, UrlEncoder.Default);

    public static string RenderText(IFluidTemplate template, object model, TemplateOptions options) =>
        Render(template, model, options, NullEncoder.Default);

    // The model is in memory and no filter does I/O, so rendering completes synchronously.
    private static string Render(IFluidTemplate template, object model, TemplateOptions options, TextEncoder encoder)
    {
        ArgumentNullException.ThrowIfNull(template);
        var context = new TemplateContext(model, options);
        return template.Render(context, encoder);
    }

    /// <summary>A JSON literal (string, number, boolean, null, array or object) of any template value, written as is.</summary>
    private static async ValueTask<FluidValue> JsonFilterAsync(FluidValue input, FilterArguments arguments, TemplateContext context)
    {
        var node = await ToJsonAsync(input, context);
        return StringValue.Create(node is null ? "null" : node.ToJsonString(LiteralJson), encode: false);
    }

    /// <summary>
    /// <c>value | map: "name"</c>: the value through the settings' map <c>name</c> (its <c>*</c> entry for anything else,
    /// else nil); an array maps each item and drops the ones without an entry.
    /// </summary>
    private static async ValueTask<FluidValue> MapFilterAsync(
        IReadOnlyDictionary<string, IReadOnlyDictionary<string, JsonElement>> maps, FluidValue input, FilterArguments arguments, TemplateContext context)
    {
        var name = arguments.At(0).ToStringValue(context);
        if (!maps.TryGetValue(name, out var map))
        {
            throw new InvalidOperationException($"No value map named \"{name}\" in valueMaps.");
        }

        if (input.Type == FluidValues.Array)
        {
            var mapped = new List<FluidValue>();
            await foreach (var item in input.EnumerateAsync(context))
            {
                if (Lookup(map, item.ToStringValue(context)) is { } value)
                {
                    mapped.Add(value);
                }
            }

            return ArrayValue.Create(mapped);
        }

        return Lookup(map, input.ToStringValue(context)) ?? NilValue.Instance;
    }

    private static FluidValue? Lookup(IReadOnlyDictionary<string, JsonElement> map, string key) =>
        map.TryGetValue(key, out var value) || map.TryGetValue("*", out value) ? FromJson(value) : null;

    private static FluidValue FromJson(JsonElement value) => value.ValueKind switch
    {
        JsonValueKind.String => StringValue.Create(value.GetString()!),
        JsonValueKind.Number => NumberValue.Create(value.GetDecimal()),
        JsonValueKind.True => BooleanValue.True,
        JsonValueKind.False => BooleanValue.False,
        _ => NilValue.Instance,
    };

    /// <summary>A template value as JSON: arrays and dictionaries walked, numbers kept as numbers, nil as null.</summary>
    public static async ValueTask<JsonNode?> ToJsonAsync(FluidValue value, TemplateContext context)
    {
        ArgumentNullException.ThrowIfNull(value);
        switch (value.Type)
        {
            case FluidValues.Nil or FluidValues.Empty or FluidValues.Blank:
                return null;
            case FluidValues.Boolean:
                return JsonValue.Create(value.ToBooleanValue(context));
            case FluidValues.Number:
                return JsonValue.Create(value.ToNumberValue(context));
            case FluidValues.Array:
                var array = new JsonArray();
                await foreach (var item in value.EnumerateAsync(context))
                {
                    array.Add(await ToJsonAsync(item, context));
                }

                return array;
            case FluidValues.Dictionary when value.ToObjectValue(context) is IFluidIndexable indexable:
                var json = new JsonObject();
                foreach (var key in indexable.Keys)
                {
                    json[key] = indexable.TryGetValue(key, out var item) ? await ToJsonAsync(item, context) : null;
                }

                return json;
            default:
                return JsonValue.Create(value.ToStringValue(context));
        }
    }
}
