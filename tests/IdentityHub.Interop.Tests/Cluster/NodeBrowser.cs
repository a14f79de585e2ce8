using System.Net;
using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using IdentityHub.Testing;
using Microsoft.AspNetCore.WebUtilities;

namespace IdentityHub.Interop.Tests.Cluster;

/// <summary>
/// One browser (one cookie jar) that a balancer could send to either node: each request names the node it goes to,
/// redirects are followed on that node only, and every answer is checked to come from that node's port.
/// Also the relying party's back channel (token, introspection, revocation, PAR) to a chosen node.
/// </summary>
public sealed partial class NodeBrowser : IDisposable
{
    /// <summary>The relying party's callback: never dialled, the redirect to it is read from the Location header.</summary>
    public const string RedirectUri = "http://127.0.0.1:9/callback";

    private readonly HttpClient _http;

    public NodeBrowser()
    {
        // Cookies are host-scoped, not port-scoped (RFC 6265 §8.5): both nodes on localhost see one jar, as behind one balancer.
        _http = new HttpClient(new SocketsHttpHandler { CookieContainer = Cookies, UseCookies = true, AllowAutoRedirect = false })
        {
            Timeout = TimeSpan.FromSeconds(100),
        };
    }

    public CookieContainer Cookies { get; } = new();

    public async Task<HttpResponseMessage> GetAsync(ServerProcess node, string pathAndQuery) =>
        Served(node, await _http.GetAsync(Url(node, pathAndQuery)));

    public async Task<HttpResponseMessage> PostAsync(ServerProcess node, string path, HttpContent content, AuthenticationHeaderValue? authorization = null)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, Url(node, path)) { Content = content };
        request.Headers.Authorization = authorization;
        return Served(node, await _http.SendAsync(request));
    }

    /// <summary>The sign-in form fetched from <paramref name="formFrom"/> (its antiforgery token and cookie) and posted to <paramref name="postTo"/>.</summary>
    public async Task<HttpResponseMessage> SignInAsync(ServerProcess formFrom, ServerProcess postTo, string userName, string password, string? returnUrl = null)
    {
        var path = returnUrl is null ? "/account/login" : $"/account/login?ReturnUrl={Uri.EscapeDataString(returnUrl)}";
        using var page = await GetAsync(formFrom, path);
        Assert.Equal(HttpStatusCode.OK, page.StatusCode);
        var fields = new Dictionary<string, string>
        {
            ["Input.UserName"] = userName,
            ["Input.Password"] = password,
            ["__RequestVerificationToken"] = AntiforgeryToken(await page.Content.ReadAsStringAsync()),
        };
        if (returnUrl is not null)
        {
            fields["ReturnUrl"] = returnUrl;
        }

        return await PostAsync(postTo, "/account/login", new FormUrlEncodedContent(fields));
    }

    /// <summary>GETs <paramref name="pathAndQuery"/> on <paramref name="node"/> and follows redirects there until one leaves the node.</summary>
    public async Task<HttpResponseMessage> FollowAsync(ServerProcess node, string pathAndQuery)
    {
        var response = await GetAsync(node, pathAndQuery);
        for (var hop = 0; hop < 8 && response.StatusCode is HttpStatusCode.Redirect or HttpStatusCode.Found or HttpStatusCode.SeeOther; hop++)
        {
            if (OnNode(node, response.Headers.Location!) is not { } next)
            {
                return response;
            }

            response.Dispose();
            response = await GetAsync(node, next);
        }

        return response;
    }

    /// <summary>The path and query of <paramref name="location"/> when it points at <paramref name="node"/> (or is relative); null when it leaves.</summary>
    public static string? OnNode(ServerProcess node, Uri location)
    {
        ArgumentNullException.ThrowIfNull(node);
        ArgumentNullException.ThrowIfNull(location);
        if (!location.IsAbsoluteUri)
        {
            return location.OriginalString;
        }

        return location.Port == node.Port && location.Host is "localhost" or "127.0.0.1" ? location.PathAndQuery : null;
    }

    /// <summary>The query parameters of the redirect back to <see cref="RedirectUri"/>.</summary>
    public static Dictionary<string, string> Callback(HttpResponseMessage response)
    {
        ArgumentNullException.ThrowIfNull(response);
        Assert.Equal(HttpStatusCode.Redirect, response.StatusCode);
        var location = response.Headers.Location!;
        Assert.StartsWith(RedirectUri, location.ToString(), StringComparison.Ordinal);
        return QueryHelpers.ParseQuery(location.Query).ToDictionary(p => p.Key, p => p.Value.ToString());
    }

    public static (string Verifier, string Challenge) NewPkce()
    {
        var verifier = Base64Url(RandomNumberGenerator.GetBytes(32));
        return (verifier, Base64Url(SHA256.HashData(Encoding.ASCII.GetBytes(verifier))));
    }

    public static Dictionary<string, string> AuthorizeParameters(string clientId, string challenge, string scope = "openid profile email offline_access") => new()
    {
        ["client_id"] = clientId,
        ["response_type"] = "code",
        ["redirect_uri"] = RedirectUri,
        ["scope"] = scope,
        ["state"] = "state-" + Guid.NewGuid().ToString("N"),
        ["nonce"] = "nonce-" + Guid.NewGuid().ToString("N"),
        ["code_challenge"] = challenge,
        ["code_challenge_method"] = "S256",
    };

    public static string AuthorizePath(IDictionary<string, string> parameters) =>
        QueryHelpers.AddQueryString("/connect/authorize", parameters.Select(p => KeyValuePair.Create(p.Key, (string?)p.Value)));

    /// <summary>A back-channel call of the client (HTTP Basic, RFC 6749 §2.3.1) to <paramref name="path"/> on <paramref name="node"/>.</summary>
    public Task<HttpResponseMessage> ClientPostAsync(ServerProcess node, string path, string clientId, string secret, Dictionary<string, string> form) =>
        PostAsync(node, path, new FormUrlEncodedContent(form), new AuthenticationHeaderValue(
            "Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes($"{Uri.EscapeDataString(clientId)}:{Uri.EscapeDataString(secret)}"))));

    public static async Task<JsonElement> JsonAsync(HttpResponseMessage response)
    {
        ArgumentNullException.ThrowIfNull(response);
        var text = await response.Content.ReadAsStringAsync();
        try
        {
            return JsonDocument.Parse(text).RootElement.Clone();
        }
        catch (JsonException)
        {
            throw new InvalidOperationException($"{(int)response.StatusCode} from {response.RequestMessage?.RequestUri} is not JSON: {text}");
        }
    }

    public static async Task<JsonElement> OkJsonAsync(HttpResponseMessage response)
    {
        ArgumentNullException.ThrowIfNull(response);
        var json = await JsonAsync(response);
        Assert.True(response.StatusCode == HttpStatusCode.OK, $"{(int)response.StatusCode} from {response.RequestMessage?.RequestUri}: {json}");
        return json;
    }

    /// <summary>RFC 6749 §5.2: the token endpoint's error code.</summary>
    public static async Task AssertErrorAsync(HttpResponseMessage response, string error)
    {
        var json = await JsonAsync(response);
        Assert.True(json.TryGetProperty("error", out var actual), $"{(int)response.StatusCode}: {json}");
        Assert.Equal(error, actual.GetString());
    }

    public void Dispose() => _http.Dispose();

    private static Uri Url(ServerProcess node, string pathAndQuery)
    {
        ArgumentNullException.ThrowIfNull(node);
        return new Uri(node.BaseAddress, pathAndQuery);
    }

    /// <summary>The answer came from the node asked (its own port): nothing in between turned it into another node's answer.</summary>
    private static HttpResponseMessage Served(ServerProcess node, HttpResponseMessage response)
    {
        Assert.Equal(node.Port, response.RequestMessage!.RequestUri!.Port);
        return response;
    }

    public static string AntiforgeryToken(string html) =>
        AntiforgeryField().Match(html) is { Success: true } match
            ? WebUtility.HtmlDecode(match.Groups[1].Value)
            : throw new InvalidOperationException("The page has no antiforgery token.");

    private static string Base64Url(byte[] bytes) => Convert.ToBase64String(bytes).TrimEnd('=').Replace('+', '-').Replace('/', '_');

    [GeneratedRegex("name=\"__RequestVerificationToken\" type=\"hidden\" value=\"([^\"]+)\"")]
    private static partial Regex AntiforgeryField();
}
