using System.Text.Encodings.Web;
using System.Text.Json;
using IdentityHub.Core;
using IdentityHub.Provisioning.Connectors;
using IdentityHub.Provisioning.Queries;
using Microsoft.AspNetCore.Mvc.ModelBinding;

namespace IdentityHub.Server.Admin.Provisioning;

/// <summary>
/// The console's connector form: what the admin API's create and update take (kind, preset, name, settings as JSON text, the
/// write-only secret), and the revision the page was read at (If-Match). A blank secret means "keep the stored one".
/// </summary>
public sealed class ConnectorForm
{
    public const string Prefix = "Input";

    private static readonly JsonSerializerOptions Indented = new()
    {
        WriteIndented = true,
        // Chinese titles and Liquid templates stay readable in the text area (HTML encoding happens when it is rendered).
        Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
    };

    public string? Kind { get; set; }

    public string? Preset { get; set; }

    public string? Name { get; set; }

    /// <summary>The settings object as JSON text.</summary>
    public string? Settings { get; set; }

    public string? Secret { get; set; }

    public long? Revision { get; set; }

    /// <summary>The edit form of a stored connector: its name and settings, never its secret.</summary>
    public static ConnectorForm Of(ConnectorView connector)
    {
        ArgumentNullException.ThrowIfNull(connector);
        return new ConnectorForm
        {
            Kind = connector.KindName,
            Name = connector.Name,
            Settings = Pretty(connector.Settings),
            Revision = IdentityHub.Core.Revision.Of(connector.UpdatedAt),
        };
    }

    /// <summary>JSON indented for the text area; text that is no JSON comes back as it is.</summary>
    public static string Pretty(string json)
    {
        try
        {
            using var document = JsonDocument.Parse(json);
            return JsonSerializer.Serialize(document.RootElement, Indented);
        }
        catch (JsonException)
        {
            return json;
        }
    }

    public static string Pretty(JsonElement json) => JsonSerializer.Serialize(json, Indented);

    /// <summary>
    /// What the admin API would receive. Settings text that is no JSON at all is refused on its field here (the API's JSON
    /// body could not even carry it); an empty text area sends no settings, as an API request without them does.
    /// </summary>
    public ConnectorInput ToInput()
    {
        var settings = ConsoleForms.SettingsOf(Settings);

        return new ConnectorInput(
            string.IsNullOrWhiteSpace(Kind) ? null : Kind.Trim(),
            Name,
            settings,
            string.IsNullOrEmpty(Secret) ? null : Secret,
            string.IsNullOrWhiteSpace(Preset) ? null : Preset.Trim());
    }

    /// <summary>
    /// The refusal's field errors as the Core and the API name them (<c>name</c>, <c>settings.auth.appKey</c>), in page order;
    /// read back from the model state the refusal was put in under <see cref="Prefix"/>.
    /// </summary>
    public static IReadOnlyList<(string Field, string Message)> Errors(ModelStateDictionary state, string prefix = Prefix)
    {
        ArgumentNullException.ThrowIfNull(state);
        var start = prefix + ".";
        return [.. state
            .Where(e => e.Key.StartsWith(start, StringComparison.Ordinal) && e.Key.Length > start.Length && e.Value is { Errors.Count: > 0 })
            .SelectMany(e => e.Value!.Errors.Select(error => (Field: char.ToLowerInvariant(e.Key[start.Length]) + e.Key[(start.Length + 1)..], error.ErrorMessage)))];
    }
}
