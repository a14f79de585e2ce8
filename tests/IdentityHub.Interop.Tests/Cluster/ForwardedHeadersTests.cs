using System.Text.Json.Nodes;
using IdentityHub.Testing;

namespace IdentityHub.Interop.Tests.Cluster;

/// <summary>
/// Behind a TLS-terminating proxy the issuer, HSTS and the cookies must follow the client's scheme and host, and only
/// when the proxy is one the operator listed: anyone can send X-Forwarded-* headers.
/// </summary>
public sealed class ForwardedHeadersTests
{
    private const string AdminPassword = "Forwarded-Admin-Password-1";

    [Theory]
    [InlineData("127.0.0.1", "https://idp.example.com/", true)]
    [InlineData("10.9.8.7", null, false)]
    [InlineData("", null, false)]
    public async Task Discovery_ForwardedHeaders_TrustedOnlyFromConfiguredProxies(string knownProxy, string? expectedIssuer, bool secureCookie)
    {
        var directory = Directory.CreateTempSubdirectory("identityhub-forwarded-").FullName;
        var settings = new Dictionary<string, string>
        {
            ["ConnectionStrings:IdentityHub"] = $"Data Source={Path.Combine(directory, "identityhub.db")}",
            ["Bootstrap:AdminPassword"] = AdminPassword,
            ["Oidc:RequireHttps"] = "false",
        };
        if (knownProxy.Length > 0)
        {
            settings["Hosting:ForwardedHeaders:KnownProxies:0"] = knownProxy;
        }

        await using var server = ServerProcess.Start(settings, directory);
        await server.WaitUntilReadyAsync(ServerProcess.StartPatience);
        // Cookies by hand: a cookie container would not send Secure cookies back over this plain-HTTP hop.
        using var http = new HttpClient(new HttpClientHandler { UseCookies = false, AllowAutoRedirect = false })
        {
            BaseAddress = new Uri($"http://127.0.0.1:{server.Port}/"),
        };

        var discovery = await SendForwardedAsync(http, HttpMethod.Get, ".well-known/openid-configuration");
        var issuer = JsonNode.Parse(await discovery.Content.ReadAsStringAsync())!["issuer"]!.GetValue<string>();
        var login = await SendForwardedAsync(http, HttpMethod.Get, "account/login");
        var antiforgeryCookies = SetCookies(login);
        var signIn = await SignInForwardedAsync(http, login);
        var sessionCookie = SetCookies(signIn).SingleOrDefault(cookie => cookie.StartsWith("identityhub.session=", StringComparison.Ordinal));

        Assert.Equal(expectedIssuer ?? $"http://127.0.0.1:{server.Port}/", issuer);
        // HSTS only when the client's scheme, as told by a trusted proxy, is https.
        Assert.Equal(secureCookie, discovery.Headers.Contains("Strict-Transport-Security"));
        Assert.Equal(secureCookie, login.Headers.Contains("Strict-Transport-Security"));
        Assert.NotEmpty(antiforgeryCookies);
        Assert.All(antiforgeryCookies, cookie => Assert.Equal(secureCookie, cookie.Contains("; secure", StringComparison.OrdinalIgnoreCase)));
        Assert.True(sessionCookie is not null, $"No session cookie after signing in: {signIn.StatusCode}");
        Assert.Equal(secureCookie, sessionCookie.Contains("; secure", StringComparison.OrdinalIgnoreCase));
    }

    private static Task<HttpResponseMessage> SendForwardedAsync(HttpClient http, HttpMethod method, string path, HttpContent? content = null, string? cookies = null)
    {
        var request = new HttpRequestMessage(method, path) { Content = content };
        request.Headers.Add("X-Forwarded-Proto", "https");
        request.Headers.Add("X-Forwarded-Host", "idp.example.com");
        request.Headers.Add("X-Forwarded-For", "203.0.113.7");
        if (cookies is not null)
        {
            request.Headers.Add("Cookie", cookies);
        }

        return http.SendAsync(request);
    }

    /// <summary>Posts the sign-in form of <paramref name="login"/> as the bootstrap administrator, through the same proxy.</summary>
    private static async Task<HttpResponseMessage> SignInForwardedAsync(HttpClient http, HttpResponseMessage login)
    {
        var form = new FormUrlEncodedContent(new Dictionary<string, string>
        {
            ["Input.UserName"] = "admin",
            ["Input.Password"] = AdminPassword,
            ["__RequestVerificationToken"] = NodeBrowser.AntiforgeryToken(await login.Content.ReadAsStringAsync()),
        });
        var cookies = string.Join("; ", SetCookies(login).Select(cookie => cookie.Split(';')[0]));
        return await SendForwardedAsync(http, HttpMethod.Post, "account/login", form, cookies);
    }

    private static List<string> SetCookies(HttpResponseMessage response) =>
        response.Headers.TryGetValues("Set-Cookie", out var values) ? values.ToList() : [];
}
