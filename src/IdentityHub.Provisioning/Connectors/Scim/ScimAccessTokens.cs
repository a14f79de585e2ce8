using System.Collections.Concurrent;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;

namespace IdentityHub.Provisioning.Connectors.Scim;

/// <summary>An access token and whether it came from the cache (a cached one may have been revoked since).</summary>
public sealed record ScimAccessToken(string Value, bool Cached);

/// <summary>
/// OAuth 2.0 client credentials (RFC 6749 §4.4) for SCIM targets that want them: one cached access token
/// per (token endpoint, client), renewed a minute before it expires, or at once when the target refuses it.
/// </summary>
public sealed class ScimAccessTokens(IHttpClientFactory httpClients, TimeProvider clock)
{
    private readonly ConcurrentDictionary<string, (string Token, DateTimeOffset RenewAt)> _cache = new(StringComparer.Ordinal);

    /// <summary>The bearer token; a failure throws <see cref="ScimCallException"/> (an unreachable or failing token endpoint retries, a refusal does not).</summary>
    public async Task<ScimAccessToken> GetAsync(ScimSettings settings, string? clientSecret, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(settings);
        var key = KeyOf(settings, clientSecret);
        if (_cache.TryGetValue(key, out var cached) && cached.RenewAt > clock.GetUtcNow())
        {
            return new ScimAccessToken(cached.Token, Cached: true);
        }

        var form = new Dictionary<string, string> { ["grant_type"] = "client_credentials" };
        if (!string.IsNullOrWhiteSpace(settings.Scope))
        {
            form["scope"] = settings.Scope;
        }

        using var request = new HttpRequestMessage(HttpMethod.Post, settings.TokenEndpoint!) { Content = new FormUrlEncodedContent(form) };
        // RFC 6749 §2.3.1: client_secret_basic, form-encoding the id and secret first.
        var credentials = $"{Uri.EscapeDataString(settings.ClientId!)}:{Uri.EscapeDataString(clientSecret ?? "")}";
        request.Headers.Authorization = new AuthenticationHeaderValue("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes(credentials)));
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(settings.Timeout);
        HttpResponseMessage response;
        try
        {
            response = await httpClients.CreateClient(ProvisioningHttp.ClientName).SendAsync(request, timeout.Token);
        }
        catch (Exception ex) when (ex is HttpRequestException or Polly.Timeout.TimeoutRejectedException || (ex is OperationCanceledException && !cancellationToken.IsCancellationRequested))
        {
            throw new ScimCallException(ScimResponses.Unreachable(HttpMethod.Post, "token endpoint", ex)) { Unreachable = true };
        }

        using (response)
        {
            var body = await response.Content.ReadAsStringAsync(cancellationToken);
            if (!response.IsSuccessStatusCode)
            {
                throw new ScimCallException(ScimResponses.Failure(HttpMethod.Post, "token endpoint", response.StatusCode, body, response.Headers.RetryAfter, clock.GetUtcNow()));
            }

            string? token;
            int lifetime;
            try
            {
                using var json = JsonDocument.Parse(body);
                token = json.RootElement.TryGetProperty("access_token", out var value) && value.ValueKind == JsonValueKind.String ? value.GetString() : null;
                lifetime = json.RootElement.TryGetProperty("expires_in", out var expires) && expires.TryGetInt32(out var seconds) ? seconds : 300;
            }
            catch (JsonException ex)
            {
                throw new ScimCallException(new DeliveryOutcome.Retry($"POST token endpoint: the answer is not JSON ({ex.Message})"));
            }

            // RFC 6749 §5.1: a successful answer carries access_token; without one there is nothing to retry with.
            if (string.IsNullOrEmpty(token))
            {
                throw new ScimCallException(new DeliveryOutcome.Permanent("The token endpoint answered without an access_token."));
            }

            _cache[key] = (token, clock.GetUtcNow().AddSeconds(Math.Max(lifetime - 60, 0)));
            return new ScimAccessToken(token, Cached: false);
        }
    }

    /// <summary>Drops <paramref name="token"/> from the cache (the target refused it: rotated or revoked), unless a newer one replaced it already.</summary>
    public void Forget(ScimSettings settings, string? clientSecret, string token)
    {
        ArgumentNullException.ThrowIfNull(settings);
        var key = KeyOf(settings, clientSecret);
        if (_cache.TryGetValue(key, out var cached) && cached.Token == token)
        {
            _cache.TryRemove(new KeyValuePair<string, (string, DateTimeOffset)>(key, cached));
        }
    }

    private static string KeyOf(ScimSettings settings, string? clientSecret) =>
        $"{settings.TokenEndpoint}|{settings.ClientId}|{settings.Scope}|{clientSecret?.GetHashCode(StringComparison.Ordinal)}";
}
