using System.Runtime.CompilerServices;
using IdentityHub.Provisioning.Connectors.Rest;
using Newtonsoft.Json;
using Newtonsoft.Json.Linq;

namespace IdentityHub.Provisioning.Inbound.Rest;

/// <summary>A source could not be read (refused, unreachable, an answer that is not the list): the run stops and records why.</summary>
public sealed class SourceReadException(string message) : Exception(message);

/// <summary>One page of a list as read: its position (1 for the first page read) and its items as the template model sees them.</summary>
public sealed record RestSourcePage(int Number, IReadOnlyList<object?> Items);

/// <summary>
/// Reads a REST source's lists page by page, each request authenticated as the REST connector authenticates (HMAC
/// signature headers, OAuth 2.0 client credentials, bearer token, API key) through <see cref="RestTransport"/>. A page
/// is handed out only when it was read whole; a failure names the list and the page, never the secret.
/// </summary>
public sealed class RestSourceReader(IHttpClientFactory httpClients, RestTransport transport)
{
    public async IAsyncEnumerable<RestSourcePage> ReadAsync(
        RestSourceCompiled compiled, Guid sourceId, string? secret, RestSourceCompiledList list, string? cursor,
        [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(compiled);
        ArgumentNullException.ThrowIfNull(list);
        var settings = compiled.Settings;
        var paging = list.List.Paging;
        var page = list.List.FirstPage;
        string? pageToken = null;
        Uri? nextUrl = null;
        var items = 0;
        for (var number = 1; ; number++)
        {
            if (number > settings.MaxPages)
            {
                throw new SourceReadException($"{list.Name}: more than {settings.MaxPages} pages (settings.maxPages); the run stopped.");
            }

            var url = nextUrl ?? compiled.RenderUrl(list, cursor, page, pageToken);
            var root = await GetAsync(compiled, sourceId, secret, list.Name, number, url, cancellationToken);
            var found = string.IsNullOrEmpty(list.List.Items) ? root : RestJsonPath.Select(root, list.List.Items);
            var array = found switch
            {
                JArray a => a,
                null or JValue { Type: JTokenType.Null } => [],
                _ => throw new SourceReadException($"{list.Name} page {number}: '{list.List.Items}' in the answer is not a list."),
            };
            items += array.Count;
            if (items > settings.MaxItems)
            {
                throw new SourceReadException($"{list.Name}: more than {settings.MaxItems} items (settings.maxItems); the run stopped.");
            }

            if (array.Count > 0)
            {
                yield return new RestSourcePage(number, [.. array.Select(ToModel)]);
            }

            switch (paging)
            {
                case RestSourcePaging.Page when array.Count > 0 && array.Count >= list.List.PageSize:
                    page++;
                    continue;
                case RestSourcePaging.Token:
                    var next = RestJsonPath.Text(RestJsonPath.Select(root, list.List.NextPage));
                    if (string.IsNullOrWhiteSpace(next) || array.Count == 0)
                    {
                        yield break;
                    }

                    if (next.StartsWith('/') || next.StartsWith("http://", StringComparison.OrdinalIgnoreCase) || next.StartsWith("https://", StringComparison.OrdinalIgnoreCase))
                    {
                        nextUrl = compiled.Resolve(next) is { } resolved && RestCompiledSettings.UrlProblem(resolved) is null
                            ? resolved
                            : throw new SourceReadException($"{list.Name} page {number}: the next page's URL \"{next}\" is not usable.");
                    }
                    else
                    {
                        pageToken = next;
                    }

                    continue;
                default:
                    yield break;
            }
        }
    }

    private async Task<JToken> GetAsync(
        RestSourceCompiled compiled, Guid sourceId, string? secret, string listName, int number, Uri url, CancellationToken cancellationToken)
    {
        var settings = compiled.Settings;
        if (RestCompiledSettings.UrlProblem(url) is { } problem)
        {
            throw new SourceReadException($"{listName} page {number}: {problem}");
        }

        var (status, body) = await SendAsync(settings, sourceId, secret, listName, url, freshToken: false, cancellationToken);
        if (status == 401 && settings.Auth.Type == RestAuthType.Oauth2)
        {
            // RFC 6750 §3.1: invalid_token — expired or revoked; one fresh token, one more try.
            (status, body) = await SendAsync(settings, sourceId, secret, listName, url, freshToken: true, cancellationToken);
        }

        if (status is < 200 or >= 300)
        {
            throw new SourceReadException($"{listName} page {number}: GET {url.AbsolutePath} answered HTTP {status}: {Shorten(body)}");
        }

        return Parse(body) ?? throw new SourceReadException($"{listName} page {number}: GET {url.AbsolutePath} answered with something that is not JSON: {Shorten(body)}");
    }

    private async Task<(int Status, string Body)> SendAsync(
        RestSourceSettings settings, Guid sourceId, string? secret, string listName, Uri url, bool freshToken, CancellationToken cancellationToken)
    {
        using var message = new HttpRequestMessage(HttpMethod.Get, url);
        message.Headers.Accept.ParseAdd("application/json");
        var request = new RestRequest(listName, HttpMethod.Get, url, [], null);
        string? token;
        try
        {
            token = await transport.AuthenticateAsync(message, settings.Auth, settings.Timeout, sourceId, request, secret, freshToken, cancellationToken);
        }
        catch (Connectors.ConnectorCallException ex)
        {
            throw new SourceReadException($"{listName}: no access token: {(ex.Unreachable ? Core.Outbound.OutboundAddressGuard.CouldNotBeFetched : ex.Message)}");
        }

        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(settings.Timeout);
        try
        {
            using var response = await httpClients.CreateClient(ProvisioningHttp.ClientName).SendAsync(message, timeout.Token);
            var body = await response.Content.ReadAsStringAsync(timeout.Token);
            if ((int)response.StatusCode == 401 && token is not null)
            {
                transport.ForgetToken(sourceId, settings.Auth, secret, token);
            }

            return ((int)response.StatusCode, body);
        }
        catch (Exception ex) when (ex is HttpRequestException or Polly.Timeout.TimeoutRejectedException || (ex is OperationCanceledException && !cancellationToken.IsCancellationRequested))
        {
            // Refused, timed out and blocked alike: a source URL must not map which hosts and ports answer (SSRF).
            throw new SourceReadException($"{listName}: GET {url.AbsolutePath}: {Core.Outbound.OutboundAddressGuard.CouldNotBeFetched}");
        }
    }

    /// <summary>JSON as the source wrote it: dates stay text (Json.NET would otherwise turn them into its own format).</summary>
    private static JToken? Parse(string body)
    {
        if (string.IsNullOrWhiteSpace(body))
        {
            return null;
        }

        try
        {
            using var reader = new JsonTextReader(new StringReader(body)) { DateParseHandling = DateParseHandling.None, FloatParseHandling = FloatParseHandling.Decimal };
            return JToken.ReadFrom(reader);
        }
        catch (JsonException)
        {
            return null;
        }
    }

    /// <summary>An item as the templates see it: objects as dictionaries, arrays as lists, scalars as text, numbers and booleans.</summary>
    public static object? ToModel(JToken? token) => token switch
    {
        JObject o => o.Properties().ToDictionary(p => p.Name, p => ToModel(p.Value), StringComparer.Ordinal),
        JArray a => a.Select(ToModel).ToList(),
        JValue { Type: JTokenType.Integer or JTokenType.Float } v => Convert.ToDecimal(v.Value, System.Globalization.CultureInfo.InvariantCulture),
        JValue { Type: JTokenType.Boolean } v => (bool)v,
        JValue { Type: JTokenType.Null or JTokenType.Undefined } => null,
        JValue v => RestJsonPath.Text(v),
        _ => null,
    };

    private static string Shorten(string body) => body.Length > 300 ? body[..300] : body;
}
