using System.Security.Claims;
using System.Text.Json;
using System.Text.Json.Nodes;
using IdentityHub.Testing;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authentication.Cookies;
using Microsoft.AspNetCore.Authentication.OpenIdConnect;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Playwright;

namespace IdentityHub.Interop.Tests;

/// <summary>
/// ASP.NET Core's own OpenID Connect handler (Microsoft.AspNetCore.Authentication.OpenIdConnect) in a small
/// relying-party app, signed in through IdentityHub's real page in Chromium.
/// </summary>
[Requires(Prerequisite.Browser)]
public sealed class AspNetCoreRelyingPartyTests(InteropServer idp) : IClassFixture<InteropServer>
{
    private static readonly string[] Scopes = ["openid", "profile", "email", "roles"];

    [PrerequisiteFact]
    public async Task SignIn_AspNetCoreOidcHandler_SeesTheUserAndTheRolesClaims()
    {
        var port = ServerProcess.FreePort();
        var relyingParty = new Uri($"http://localhost:{port}/");
        var (clientId, secret) = await idp.RegisterClientAsync("aspnetcore relying party", new JsonObject
        {
            ["clientType"] = "confidential",
            // ASP.NET Core's handler sends its secret in the form body (token and PAR requests), and a client
            // authenticates only the way it is registered.
            ["tokenEndpointAuthMethod"] = "client_secret_post",
            ["redirectUris"] = new JsonArray($"{relyingParty}signin-oidc"),
            ["postLogoutRedirectUris"] = new JsonArray($"{relyingParty}signout-callback-oidc"),
            ["grantTypes"] = new JsonArray("authorization_code", "refresh_token"),
            ["scopes"] = new JsonArray([.. Scopes.Select(s => JsonValue.Create(s))]),
            ["firstParty"] = true,
            ["requirePkce"] = true,
        });
        await using var app = await StartRelyingPartyAsync(port, clientId, secret!);
        await using var chromium = await HeadlessChromium.LaunchAsync();
        var page = await chromium.NewPageAsync();

        await page.GotoAsync(relyingParty.ToString());
        await page.WaitForURLAsync("**/account/login**");
        await page.GetByLabel("User name").FillAsync("admin");
        await page.GetByLabel("Password").FillAsync(InteropServer.AdminPassword);
        await page.GetByRole(AriaRole.Button, new() { Name = "Sign in" }).ClickAsync();
        await page.WaitForURLAsync(relyingParty.ToString());

        using var seen = JsonDocument.Parse(await page.Locator("body").InnerTextAsync());
        Assert.Equal("admin", seen.RootElement.GetProperty("preferredUserName").GetString());
        Assert.Equal([InteropServer.ApplicationRole], seen.RootElement.GetProperty("roles").EnumerateArray().Select(r => r.GetString()));
        Assert.True(seen.RootElement.GetProperty("isInApplicationRole").GetBoolean());
        await page.ScreenshotAsync(new() { Path = Path.Combine(TestEnvironment.ArtifactsDirectory, "aspnetcore-rp-signed-in.png") });
    }

    private async Task<WebApplication> StartRelyingPartyAsync(int port, string clientId, string clientSecret)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls($"http://127.0.0.1:{port}");
        builder.Logging.SetMinimumLevel(LogLevel.Warning);
        builder.Services.AddAuthorization();
        builder.Services
            .AddAuthentication(options =>
            {
                options.DefaultScheme = CookieAuthenticationDefaults.AuthenticationScheme;
                options.DefaultChallengeScheme = OpenIdConnectDefaults.AuthenticationScheme;
            })
            .AddCookie(options => options.Cookie.Name = "relying-party")
            .AddOpenIdConnect(options =>
            {
                options.Authority = $"http://localhost:{idp.Server.Port}/";
                options.RequireHttpsMetadata = false;
                options.ClientId = clientId;
                options.ClientSecret = clientSecret;
                options.ResponseType = "code";
                options.ResponseMode = "query";
                options.UsePkce = true;
                options.Scope.Clear();
                foreach (var scope in Scopes)
                {
                    options.Scope.Add(scope);
                }

                options.MapInboundClaims = false;
                options.GetClaimsFromUserInfoEndpoint = true;
                options.ClaimActions.MapJsonKey("roles", "roles");
                options.TokenValidationParameters.NameClaimType = "name";
                options.TokenValidationParameters.RoleClaimType = "roles";
                // Plain http on localhost in the test: the handler's SameSite=None cookies would need Secure.
                options.CorrelationCookie.SameSite = SameSiteMode.Lax;
                options.CorrelationCookie.SecurePolicy = CookieSecurePolicy.SameAsRequest;
                options.NonceCookie.SameSite = SameSiteMode.Lax;
                options.NonceCookie.SecurePolicy = CookieSecurePolicy.SameAsRequest;
            });

        var app = builder.Build();
        app.UseAuthentication();
        app.UseAuthorization();
        app.MapGet("/", [Authorize] (ClaimsPrincipal user) => Results.Json(new
        {
            preferredUserName = user.FindFirst("preferred_username")?.Value,
            roles = user.FindAll("roles").Select(c => c.Value).Distinct(),
            isInApplicationRole = user.IsInRole(InteropServer.ApplicationRole),
        }));
        await app.StartAsync();
        return app;
    }
}
