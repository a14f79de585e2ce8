using System.Collections.Concurrent;
using System.Globalization;
using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;

namespace IdentityHub.Provisioning.Connectors.Rest;

/// <summary>
/// Signs and sends one rendered request with the connector's authentication (HMAC signature headers, an OAuth 2.0
/// access token, a static bearer token or API key) and reads the answer through the response mapping. An OAuth 2.0
/// token the vendor refuses (401) is replaced once and the request sent once more. The secret is never logged.
/// </summary>
public sealed class RestTransport(IHttpClientFactory httpClients, RestAccessTokens tokens, TimeProvider clock)
{
    /// <summary>Sends <paramref name="request"/>; a transport failure (refused, reset, timed out) throws <see cref="ConnectorCallException"/> with a retry.</summary>
    public async Task<RestVerdict> SendAsync(RestCompiledSettings compiled, Guid connectorId, RestRequest request, string? secret, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(compiled);
        ArgumentNullException.ThrowIfNull(request);
        var settings = compiled.Settings;
        var verdict = await SendOnceAsync(settings, connectorId, request, secret, freshToken: false, cancellationToken);
        if (verdict.Status == 401 && settings.Auth.Type == RestAuthType.Oauth2)
        {
            // RFC 6750 §3.1: invalid_token — expired or revoked; one fresh token, one more try.
            verdict = await SendOnceAsync(settings, connectorId, request, secret, freshToken: true, cancellationToken);
        }

        return verdict;
    }

    /// <summary>
    /// The headers authentication adds to <paramref name="request"/> now (timestamp, nonce and signature computed as a send
    /// would); a bearer token or API key is shown masked, and no OAuth token is fetched: a dry run sends nothing.
    /// </summary>
    public IReadOnlyList<KeyValuePair<string, string>> PreviewAuthentication(RestConnectorSettings settings, RestRequest request, string? secret)
    {
        ArgumentNullException.ThrowIfNull(settings);
        ArgumentNullException.ThrowIfNull(request);
        return settings.Auth.Type switch
        {
            RestAuthType.Hmac => Sign(settings.Auth, request, secret ?? ""),
            RestAuthType.Oauth2 => [new("Authorization", $"Bearer <an access token from {settings.Auth.TokenUrl}>")],
            RestAuthType.Bearer => [new("Authorization", "Bearer ********")],
            RestAuthType.ApiKey => [new(settings.Auth.HeaderName!, "********")],
            _ => [],
        };
    }

    private async Task<RestVerdict> SendOnceAsync(RestConnectorSettings settings, Guid connectorId, RestRequest request, string? secret, bool freshToken, CancellationToken cancellationToken)
    {
        using var message = new HttpRequestMessage(request.Method, request.Url);
        if (request.Body is not null)
        {
            message.Content = new StringContent(request.Body, Encoding.UTF8, "application/json");
        }

        foreach (var (name, value) in request.Headers)
        {
            if (!message.Headers.TryAddWithoutValidation(name, value))
            {
                message.Content?.Headers.Remove(name);
                message.Content?.Headers.TryAddWithoutValidation(name, value);
            }
        }

        var token = await AuthenticateAsync(message, settings.Auth, settings.Timeout, connectorId, request, secret, freshToken, cancellationToken);
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(settings.Timeout);
        try
        {
            using var response = await httpClients.CreateClient(ProvisioningHttp.ClientName).SendAsync(message, timeout.Token);
            var body = await response.Content.ReadAsStringAsync(timeout.Token);
            var verdict = RestResponses.Classify(settings.Responses, (int)response.StatusCode, body, response.Headers.RetryAfter, clock.GetUtcNow());
            if ((int)response.StatusCode == 401 && token is not null)
            {
                tokens.Forget(connectorId, settings.Auth, secret, token);
            }

            return verdict;
        }
        catch (Exception ex) when (ex is HttpRequestException or Polly.Timeout.TimeoutRejectedException || (ex is OperationCanceledException && !cancellationToken.IsCancellationRequested))
        {
            var reason = ex is HttpRequestException http ? $"{http.HttpRequestError}: {http.Message}" : "no answer in time (timed out)";
            throw new ConnectorCallException(new DeliveryOutcome.Retry($"{request.Operation} {request.Method} {request.Url.AbsolutePath}: {reason}")) { Unreachable = true };
        }
    }

    /// <summary>
    /// Adds <paramref name="auth"/>'s credentials to <paramref name="message"/> (signature headers, an OAuth 2.0 access token
    /// of <paramref name="ownerId"/>, a bearer token or an API key); returns the access token used, if any. Shared by the
    /// connector's deliveries and the pull sources' reads, so both sign alike.
    /// </summary>
    public async Task<string?> AuthenticateAsync(
        HttpRequestMessage message, RestAuth auth, TimeSpan timeout, Guid ownerId, RestRequest request, string? secret, bool freshToken, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(message);
        ArgumentNullException.ThrowIfNull(auth);
        switch (auth.Type)
        {
            case RestAuthType.Hmac:
                foreach (var (name, value) in Sign(auth, request, secret ?? ""))
                {
                    message.Headers.TryAddWithoutValidation(name, value);
                }

                return null;
            case RestAuthType.Oauth2:
                var token = await tokens.GetAsync(ownerId, auth, timeout, secret, freshToken, cancellationToken);
                message.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
                return token;
            case RestAuthType.Bearer:
                message.Headers.Authorization = new AuthenticationHeaderValue("Bearer", secret);
                return null;
            case RestAuthType.ApiKey:
                message.Headers.TryAddWithoutValidation(auth.HeaderName!, secret);
                return null;
            default:
                return null;
        }
    }

    /// <summary>Forgets an OAuth 2.0 access token the server refused (401), so the next request fetches a new one.</summary>
    public void ForgetToken(Guid ownerId, RestAuth auth, string? secret, string token) => tokens.Forget(ownerId, auth, secret, token);

    /// <summary>The signature headers: app key, timestamp, nonce, and the signature of the configured string-to-sign.</summary>
    public IReadOnlyList<KeyValuePair<string, string>> Sign(RestAuth auth, RestRequest request, string secret)
    {
        ArgumentNullException.ThrowIfNull(auth);
        ArgumentNullException.ThrowIfNull(request);
        var now = clock.GetUtcNow();
        var timestamp = (auth.TimestampUnit == RestTimestampUnit.Milliseconds ? now.ToUnixTimeMilliseconds() : now.ToUnixTimeSeconds()).ToString(CultureInfo.InvariantCulture);
        var nonce = Guid.NewGuid().ToString("N");
        var stringToSign = StringToSign(auth, request, timestamp, nonce);
        return
        [
            new(auth.AppKeyHeader, auth.AppKey ?? ""),
            new(auth.TimestampHeader, timestamp),
            new(auth.NonceHeader, nonce),
            new(auth.SignatureHeader, Signature(auth, secret, stringToSign)),
        ];
    }

    public static string StringToSign(RestAuth auth, RestRequest request, string timestamp, string nonce)
    {
        ArgumentNullException.ThrowIfNull(auth);
        ArgumentNullException.ThrowIfNull(request);
        return string.Join(auth.Separator, auth.StringToSign.Select(part => part switch
        {
            RestSignaturePart.AppKey => auth.AppKey ?? "",
            RestSignaturePart.Timestamp => timestamp,
            RestSignaturePart.Nonce => nonce,
            RestSignaturePart.Method => request.Method.Method,
            RestSignaturePart.PathAndQuery => request.Url.PathAndQuery,
            _ => request.Body ?? "",
        }));
    }

    public static string Signature(RestAuth auth, string secret, string stringToSign)
    {
        ArgumentNullException.ThrowIfNull(auth);
        var key = Encoding.UTF8.GetBytes(secret);
        var data = Encoding.UTF8.GetBytes(stringToSign);
        // SHA-1 and MD5 only when a vendor's API defines its signature with them (an administrator's explicit choice).
#pragma warning disable CA5350, CA5351
        var hash = auth.Algorithm switch
        {
            RestSignatureAlgorithm.HmacSha1 => HMACSHA1.HashData(key, data),
            RestSignatureAlgorithm.HmacMd5 => HMACMD5.HashData(key, data),
            // Some vendors still define the signature as MD5(secret + string): kept for them, never a default.
            RestSignatureAlgorithm.Md5 => MD5.HashData(Encoding.UTF8.GetBytes(secret + stringToSign)),
            _ => HMACSHA256.HashData(key, data),
        };
#pragma warning restore CA5350, CA5351
        return auth.Encoding switch
        {
            RestSignatureEncoding.HexUpper => Convert.ToHexString(hash),
            RestSignatureEncoding.Base64 => Convert.ToBase64String(hash),
            _ => Convert.ToHexStringLower(hash),
        };
    }
}

/// <summary>
/// OAuth 2.0 client credentials (RFC 6749 §4.4) for REST connectors: one access token per connector, used until shortly
/// before <c>expires_in</c> runs out (a fifth of its life, at most 30 s, is kept back), replaced at once when refused.
/// </summary>
public sealed class RestAccessTokens(IHttpClientFactory httpClients, TimeProvider clock)
{
    private readonly ConcurrentDictionary<string, (string Token, DateTimeOffset RenewAt)> _cache = new(StringComparer.Ordinal);

    public Task<string> GetAsync(Guid connectorId, RestConnectorSettings settings, string? clientSecret, bool fresh, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(settings);
        return GetAsync(connectorId, settings.Auth, settings.Timeout, clientSecret, fresh, cancellationToken);
    }

    /// <summary>The access token of <paramref name="ownerId"/> (a connector or a pull source) for <paramref name="auth"/>.</summary>
    public async Task<string> GetAsync(Guid ownerId, RestAuth auth, TimeSpan timeout, string? clientSecret, bool fresh, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(auth);
        var key = KeyOf(ownerId, auth, clientSecret);
        if (!fresh && _cache.TryGetValue(key, out var cached) && cached.RenewAt > clock.GetUtcNow())
        {
            return cached.Token;
        }

        var form = new Dictionary<string, string> { ["grant_type"] = "client_credentials" };
        if (!string.IsNullOrWhiteSpace(auth.Scope))
        {
            form["scope"] = auth.Scope;
        }

        using var request = new HttpRequestMessage(HttpMethod.Post, auth.TokenUrl);
        if (auth.ClientAuth == RestClientAuth.Basic)
        {
            // RFC 6749 §2.3.1: client_secret_basic, form-encoding the id and secret first.
            var credentials = $"{Uri.EscapeDataString(auth.ClientId!)}:{Uri.EscapeDataString(clientSecret ?? "")}";
            request.Headers.Authorization = new AuthenticationHeaderValue("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes(credentials)));
        }
        else
        {
            form["client_id"] = auth.ClientId!;
            form["client_secret"] = clientSecret ?? "";
        }

        request.Content = new FormUrlEncodedContent(form);
        using var limit = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        limit.CancelAfter(timeout);
        string body;
        int status;
        try
        {
            using var response = await httpClients.CreateClient(ProvisioningHttp.ClientName).SendAsync(request, limit.Token);
            status = (int)response.StatusCode;
            body = await response.Content.ReadAsStringAsync(limit.Token);
        }
        catch (Exception ex) when (ex is HttpRequestException or Polly.Timeout.TimeoutRejectedException || (ex is OperationCanceledException && !cancellationToken.IsCancellationRequested))
        {
            throw new ConnectorCallException(new DeliveryOutcome.Retry($"POST token endpoint: {(ex is HttpRequestException ? ex.Message : "timed out")}")) { Unreachable = true };
        }

        if (status is 408 or 429 || status >= 500)
        {
            throw new ConnectorCallException(new DeliveryOutcome.Retry($"POST token endpoint: HTTP {status}", status));
        }

        string? token = null;
        var lifetime = 300;
        try
        {
            using var json = JsonDocument.Parse(body);
            if (json.RootElement.ValueKind == JsonValueKind.Object)
            {
                token = json.RootElement.TryGetProperty("access_token", out var value) && value.ValueKind == JsonValueKind.String ? value.GetString() : null;
                lifetime = json.RootElement.TryGetProperty("expires_in", out var expires) && expires.TryGetInt32(out var seconds) ? seconds : 300;
            }
        }
        catch (JsonException)
        {
        }

        // RFC 6749 §5.2: a refusal (invalid_client, unauthorized_client...) will not change by retrying with the same secret.
        if (status is < 200 or >= 300 || string.IsNullOrEmpty(token))
        {
            throw new ConnectorCallException(new DeliveryOutcome.Permanent($"POST token endpoint: HTTP {status}, no access token: {(body.Length > 300 ? body[..300] : body)}", status));
        }

        var margin = TimeSpan.FromSeconds(Math.Min(30, lifetime / 5.0));
        _cache[key] = (token, clock.GetUtcNow().AddSeconds(lifetime) - margin);
        return token;
    }

    /// <summary>Drops <paramref name="token"/> (the vendor refused it), unless a newer one replaced it already.</summary>
    public void Forget(Guid connectorId, RestAuth auth, string? clientSecret, string token)
    {
        ArgumentNullException.ThrowIfNull(auth);
        var key = KeyOf(connectorId, auth, clientSecret);
        if (_cache.TryGetValue(key, out var cached) && cached.Token == token)
        {
            _cache.TryRemove(new KeyValuePair<string, (string, DateTimeOffset)>(key, cached));
        }
    }

    private static string KeyOf(Guid connectorId, RestAuth auth, string? clientSecret) =>
        $"{connectorId:N}|{auth.TokenUrl}|{auth.ClientId}|{auth.Scope}|{Convert.ToBase64String(SHA256.HashData(Encoding.UTF8.GetBytes(clientSecret ?? "")))}";
}
