using System.Net;
using System.Security.Cryptography;
using System.Text;
using IdentityHub.Core.Directory;
using IdentityHub.Server.IntegrationTests.Oidc;
using Microsoft.AspNetCore.Mvc.Testing;

namespace IdentityHub.Server.IntegrationTests;

/// <summary>Every kind of response carries the security headers; HSTS only over HTTPS (provider-independent: SQLite only).</summary>
public sealed class SecurityHeadersTests(SqliteFactory factory) : IClassFixture<SqliteFactory>
{
    private const string DefaultPolicy =
        "default-src 'self'; script-src 'self'; form-action 'self'; style-src 'self'; img-src 'self' data:; object-src 'none'; base-uri 'self'; frame-ancestors 'none'";

    [Theory]
    [InlineData("/account/login", false, HttpStatusCode.OK)]
    [InlineData("/admin", true, HttpStatusCode.OK)]
    [InlineData("/.well-known/openid-configuration", false, HttpStatusCode.OK)]
    [InlineData("/.well-known/jwks", false, HttpStatusCode.OK)]
    [InlineData("/api/admin/v1/users", false, HttpStatusCode.Unauthorized)]
    [InlineData("/scim/v2/Users", false, HttpStatusCode.Unauthorized)]
    [InlineData("/saml/metadata", false, HttpStatusCode.OK)]
    [InlineData("/theme/login/site.css", false, HttpStatusCode.OK)]
    [InlineData("/no/such/page", false, HttpStatusCode.NotFound)]
    public async Task AnyResponse_OverHttp_CarriesTheHeadersButNoHsts(string path, bool signedIn, HttpStatusCode status)
    {
        var client = factory.CreateBrowserLikeClient();
        if (signedIn)
        {
            await BrowserSession.SignInAsync(client, FirstAdministrator.UserName, IdentityHubFactory.AdminPassword);
        }

        var response = await client.GetAsync(path);

        Assert.Equal(status, response.StatusCode);
        AssertSecurityHeaders(response, DefaultPolicy);
        Assert.False(response.Headers.Contains("Strict-Transport-Security"), "HSTS over plain HTTP is ignored by browsers and must not be sent.");
    }

    [Fact]
    public async Task TokenEndpoint_Error_CarriesTheHeaders()
    {
        var response = await factory.CreateClient().PostAsync("/connect/token", new FormUrlEncodedContent(new Dictionary<string, string> { ["grant_type"] = "password" }));

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        AssertSecurityHeaders(response, DefaultPolicy);
    }

    [Fact]
    public async Task AnyResponse_OverHttps_CarriesHstsForAYear()
    {
        var client = factory.CreateClient(new WebApplicationFactoryClientOptions { BaseAddress = new Uri("https://idp.example.test/") });

        var response = await client.GetAsync("/.well-known/openid-configuration");

        Assert.Equal("max-age=31536000", string.Join(",", response.Headers.GetValues("Strict-Transport-Security")));
    }

    [Fact]
    public async Task AnyResponse_OverHttpsToLocalhost_HasNoHsts()
    {
        var client = factory.CreateClient(new WebApplicationFactoryClientOptions { BaseAddress = new Uri("https://localhost/") });

        var response = await client.GetAsync("/.well-known/openid-configuration");

        Assert.False(response.Headers.Contains("Strict-Transport-Security"), "localhost pinned to HTTPS would break every other local app.");
    }

    [Fact]
    public async Task LoginPage_NewAntiforgeryCookie_OneXFrameOptionsHeader()
    {
        var response = await factory.CreateBrowserLikeClient().GetAsync("/account/login");

        Assert.Contains(response.Headers.GetValues("Set-Cookie"), cookie => cookie.StartsWith("identityhub.antiforgery", StringComparison.Ordinal));
        Assert.Equal(["DENY"], response.Headers.GetValues("X-Frame-Options").Select(v => v.ToUpperInvariant()));
    }

    [Fact]
    public async Task AuthorizeFormPost_Page_AllowsItsOneScriptAndAPostToTheRedirectUriOnly()
    {
        var driver = new OidcDriver(factory);
        var clientId = await driver.RegisterClientAsync();
        var user = await driver.CreateUserAsync();
        var parameters = OidcDriver.AuthorizeParameters(clientId, OidcDriver.NewPkce().Challenge);
        parameters["response_mode"] = "form_post";

        var response = await OidcDriver.AuthorizeAsync(factory.CreateBrowserLikeClient(), OidcDriver.AuthorizeUrl(parameters), user.UserName);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Contains("<script>document.form.submit();</script>", await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        var hash = Convert.ToBase64String(SHA256.HashData(Encoding.UTF8.GetBytes("document.form.submit();")));
        AssertSecurityHeaders(response, DefaultPolicy
            .Replace("script-src 'self'", $"script-src 'self' 'sha256-{hash}'", StringComparison.Ordinal)
            .Replace("form-action 'self'", "form-action 'self' https://rp.example", StringComparison.Ordinal));
    }

    /// <summary>The headers every response carries, and the exact Content-Security-Policy it should have.</summary>
    private static void AssertSecurityHeaders(HttpResponseMessage response, string contentSecurityPolicy)
    {
        ArgumentNullException.ThrowIfNull(response);
        Assert.Equal("nosniff", string.Join(",", response.Headers.GetValues("X-Content-Type-Options")));
        Assert.Equal("strict-origin-when-cross-origin", string.Join(",", response.Headers.GetValues("Referrer-Policy")));
        Assert.Equal("DENY", string.Join(",", response.Headers.GetValues("X-Frame-Options")), ignoreCase: true);
        Assert.Equal(contentSecurityPolicy, string.Join(",", response.Headers.GetValues("Content-Security-Policy")));
    }
}
