using System.Text.Json.Nodes;
using IdentityHub.Testing;

namespace IdentityHub.Interop.Tests.Cluster;

/// <summary>
/// Behind a TLS-terminating proxy the issuer and the cookies must follow the client's scheme and host, and only when
/// the proxy is one the operator listed: anyone can send X-Forwarded-* headers.
/// </summary>
public sealed class ForwardedHeadersTests
{
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
            ["Bootstrap:AdminPassword"] = "Forwarded-Admin-Password-1",
            ["Oidc:RequireHttps"] = "false",
        };
        if (knownProxy.Length > 0)
        {
            settings["Hosting:ForwardedHeaders:KnownProxies:0"] = knownProxy;
        }

        await using var server = ServerProcess.Start(settings, directory);
        await server.WaitUntilReadyAsync(ServerProcess.StartPatience);
        using var http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{server.Port}/") };

        var discovery = await SendForwardedAsync(http, ".well-known/openid-configuration");
        var issuer = JsonNode.Parse(await discovery.Content.ReadAsStringAsync())!["issuer"]!.GetValue<string>();
        var login = await SendForwardedAsync(http, "account/login");
        var cookies = login.Headers.TryGetValues("Set-Cookie", out var values) ? values.ToList() : [];

        Assert.Equal(expectedIssuer ?? $"http://127.0.0.1:{server.Port}/", issuer);
        Assert.NotEmpty(cookies);
        Assert.All(cookies, cookie => Assert.Equal(secureCookie, cookie.Contains("; secure", StringComparison.OrdinalIgnoreCase)));
    }

    private static Task<HttpResponseMessage> SendForwardedAsync(HttpClient http, string path)
    {
        var request = new HttpRequestMessage(HttpMethod.Get, path);
        request.Headers.Add("X-Forwarded-Proto", "https");
        request.Headers.Add("X-Forwarded-Host", "idp.example.com");
        request.Headers.Add("X-Forwarded-For", "203.0.113.7");
        return http.SendAsync(request);
    }
}
