using System.Net;
using System.Text.Json;

namespace IdentityHub.Provisioning.Connectors.Webhooks;

/// <summary>A webhook connector's settings JSON: <c>{"url": "https://..."}</c>. The signing secret is the connector's protected secret.</summary>
public sealed record WebhookSettings(Uri Url)
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    public static WebhookSettings Parse(string settings) =>
        TryParse(settings, out var parsed, out var errors) ? parsed! : throw new InvalidOperationException(string.Join(" ", errors.SelectMany(e => e.Value)));

    /// <summary>Field errors keyed like the API's request (<c>settings.url</c>).</summary>
    public static bool TryParse(string? settings, out WebhookSettings? parsed, out Dictionary<string, string[]> errors)
    {
        parsed = null;
        errors = new Dictionary<string, string[]>(StringComparer.Ordinal);
        string? url;
        try
        {
            using var document = JsonDocument.Parse(string.IsNullOrWhiteSpace(settings) ? "{}" : settings);
            url = document.RootElement.ValueKind == JsonValueKind.Object && document.RootElement.TryGetProperty("url", out var value) && value.ValueKind == JsonValueKind.String
                ? value.GetString()
                : null;
        }
        catch (JsonException)
        {
            errors["settings"] = ["settings must be a JSON object."];
            return false;
        }

        if (string.IsNullOrWhiteSpace(url) || !Uri.TryCreate(url, UriKind.Absolute, out var uri) || (uri.Scheme != Uri.UriSchemeHttps && uri.Scheme != Uri.UriSchemeHttp))
        {
            errors["settings.url"] = ["settings.url must be an absolute http(s) URL."];
            return false;
        }

        // Identities travel in the body: plain HTTP only to this machine (a local relay or a test receiver).
        if (uri.Scheme == Uri.UriSchemeHttp && !uri.IsLoopback && !(IPAddress.TryParse(uri.Host, out var ip) && IPAddress.IsLoopback(ip)))
        {
            errors["settings.url"] = ["settings.url must use https (http is accepted only for loopback addresses)."];
            return false;
        }

        if (!string.IsNullOrEmpty(uri.UserInfo) || !string.IsNullOrEmpty(uri.Fragment))
        {
            errors["settings.url"] = ["settings.url must not carry credentials or a fragment."];
            return false;
        }

        parsed = new WebhookSettings(uri);
        return true;
    }

    public string ToJson() => JsonSerializer.Serialize(new { url = Url.ToString() }, Json);
}
