using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using IdentityHub.Data.Provisioning;

namespace IdentityHub.Provisioning.Connectors.Scim;

/// <summary>A SCIM answer the caller asked to see: a 2xx, or a status it handles itself (404, 409).</summary>
public sealed record ScimAnswer(int Status, JsonElement? Body)
{
    public bool Succeeded => Status is >= 200 and < 300;
}

/// <summary>Opens authenticated SCIM sessions for a connector.</summary>
public sealed class ScimSessions(IHttpClientFactory httpClients, ScimAccessTokens tokens, TimeProvider clock)
{
    public async Task<ScimSession> OpenAsync(ScimSettings settings, string? secret, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(settings);
        var http = httpClients.CreateClient(ProvisioningHttp.ClientName);
        if (settings.Authentication != ScimAuthentication.ClientCredentials)
        {
            return new ScimSession(http, settings, secret, clock);
        }

        var token = await tokens.GetAsync(settings, secret, cancellationToken);
        // A cached token refused with 401 was rotated or revoked at the token server: forget it and fetch a new one, once.
        return new ScimSession(http, settings, token.Value, clock, !token.Cached ? null : async (refused, ct) =>
        {
            tokens.Forget(settings, secret, refused);
            return (await tokens.GetAsync(settings, secret, ct)).Value;
        });
    }

    /// <summary>The connector's settings, or a permanent failure naming what is wrong with them.</summary>
    public static ScimSettings SettingsOf(Connector connector)
    {
        ArgumentNullException.ThrowIfNull(connector);
        var settings = ScimSettings.Parse(connector.Settings, out var errors);
        if (errors.Count > 0)
        {
            throw new ScimCallException(new DeliveryOutcome.Permanent(
                "The SCIM connector's settings are incomplete: " + string.Join(" ", errors.Select(e => $"{e.Key}: {string.Join(" ", e.Value)}"))));
        }

        return settings;
    }
}

/// <summary>
/// HTTP calls to one SCIM service provider (RFC 7644 §3), each with the connector's timeout. With
/// <paramref name="renewToken"/>, a 401 is answered once by renewing the bearer token and sending again.
/// </summary>
public sealed class ScimSession(HttpClient http, ScimSettings settings, string? bearerToken, TimeProvider clock, Func<string, CancellationToken, Task<string>>? renewToken = null)
{
    private const string ScimMediaType = "application/scim+json";

    private string? _bearerToken = bearerToken;
    private Func<string, CancellationToken, Task<string>>? _renewToken = renewToken;

    public ScimSettings Settings => settings;

    /// <summary>Sends one request; a status outside 2xx and <paramref name="handled"/> throws <see cref="ScimCallException"/>.</summary>
    public async Task<ScimAnswer> SendAsync(HttpMethod method, string path, JsonNode? body, CancellationToken cancellationToken, params int[] handled)
    {
        ArgumentNullException.ThrowIfNull(method);
        var answer = await SendOnceAsync(method, path, body, cancellationToken);
        // RFC 6750 §3.1: 401 invalid_token; the token may have been revoked since it was cached, so a new one gets one more try.
        if (answer.Response.StatusCode == HttpStatusCode.Unauthorized && _renewToken is { } renew && _bearerToken is { } refused)
        {
            _renewToken = null;
            answer.Response.Dispose();
            _bearerToken = await renew(refused, cancellationToken);
            answer = await SendOnceAsync(method, path, body, cancellationToken);
        }

        using var response = answer.Response;
        var status = (int)response.StatusCode;
        if (!response.IsSuccessStatusCode && !handled.Contains(status))
        {
            throw new ScimCallException(ScimResponses.Failure(method, PathOnly(path), response.StatusCode, answer.Text, response.Headers.RetryAfter, clock.GetUtcNow()));
        }

        try
        {
            return new ScimAnswer(status, string.IsNullOrWhiteSpace(answer.Text) || !response.IsSuccessStatusCode ? null : JsonDocument.Parse(answer.Text).RootElement.Clone());
        }
        catch (JsonException ex)
        {
            throw new ScimCallException(new DeliveryOutcome.Retry($"{method} {PathOnly(path)}: the answer is not JSON ({ex.Message})"));
        }
    }

    private async Task<(HttpResponseMessage Response, string Text)> SendOnceAsync(HttpMethod method, string path, JsonNode? body, CancellationToken cancellationToken)
    {
        using var request = new HttpRequestMessage(method, new Uri(settings.BaseUrl!.ToString().TrimEnd('/') + path));
        // RFC 7644 §3.1: SCIM messages use application/scim+json.
        request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue(ScimMediaType));
        if (_bearerToken is not null)
        {
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", _bearerToken);
        }

        if (body is not null)
        {
            request.Content = new StringContent(body.ToJsonString(), Encoding.UTF8, ScimMediaType);
        }

        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(settings.Timeout);
        HttpResponseMessage? response = null;
        try
        {
            response = await http.SendAsync(request, timeout.Token);
            return (response, await response.Content.ReadAsStringAsync(timeout.Token));
        }
        catch (Exception ex) when (ex is HttpRequestException or Polly.Timeout.TimeoutRejectedException || (ex is OperationCanceledException && !cancellationToken.IsCancellationRequested))
        {
            response?.Dispose();
            throw new ScimCallException(ScimResponses.Unreachable(method, PathOnly(path), ex)) { Unreachable = true };
        }
    }

    /// <summary>RFC 7644 §3.4.2.2: the resources matching one filter (first page is enough for a unique attribute).</summary>
    public async Task<IReadOnlyList<JsonElement>> FindAsync(string endpoint, string filter, CancellationToken cancellationToken)
    {
        var answer = await SendAsync(HttpMethod.Get, $"{endpoint}?filter={Uri.EscapeDataString(filter)}", null, cancellationToken);
        return Resources(answer.Body);
    }

    /// <summary>RFC 7644 §3.4.2.4: every resource of an endpoint, page by page (startIndex is 1-based) until totalResults.</summary>
    public async IAsyncEnumerable<JsonElement> ListAsync(string endpoint, int pageSize, [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var startIndex = 1;
        while (true)
        {
            var answer = await SendAsync(HttpMethod.Get, $"{endpoint}?startIndex={startIndex}&count={pageSize}", null, cancellationToken);
            var page = Resources(answer.Body);
            foreach (var resource in page)
            {
                yield return resource;
            }

            var total = answer.Body is { } b && b.TryGetProperty("totalResults", out var t) && t.TryGetInt32(out var n) ? n : 0;
            startIndex += page.Count;
            // A provider that returns fewer than asked or an empty page has nothing more; guard against one that ignores paging.
            if (page.Count == 0 || startIndex > total)
            {
                yield break;
            }
        }
    }

    private static List<JsonElement> Resources(JsonElement? listResponse) =>
        listResponse is { } list && list.TryGetProperty("Resources", out var resources) && resources.ValueKind == JsonValueKind.Array
            ? [.. resources.EnumerateArray()]
            : [];

    // Filter values may carry personal data; errors name the endpoint only.
    private static string PathOnly(string path) => path.Split('?')[0];
}
