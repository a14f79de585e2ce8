using System.Security.Claims;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authentication.Cookies;
using Microsoft.AspNetCore.Authentication.OpenIdConnect;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.IdentityModel.JsonWebTokens;

namespace IdentityHub.Browser.Tests;

/// <summary>
/// A real relying party: a small ASP.NET Core app with the framework's own OpenID Connect handler (code flow, PKCE,
/// client_secret_basic, userinfo), on a free loopback port. Its home page needs a signed-in user and answers with what
/// the handler received about them, as JSON.
/// </summary>
public sealed class RelyingParty : IAsyncDisposable
{
    private readonly WebApplication _app;

    private RelyingParty(WebApplication app, Uri address)
    {
        _app = app;
        Address = address;
    }

    /// <summary>Browse here: localhost, as the redirect URIs registered for it say.</summary>
    public Uri Address { get; }

    /// <summary>Where a relying party on <paramref name="port"/> is browsed to (known before it starts, to register its client first).</summary>
    public static Uri AddressOf(int port) => new($"http://localhost:{port}/");

    /// <summary>The handler's callback (its CallbackPath default), the redirect URI to register.</summary>
    public static Uri RedirectUriOf(int port) => new(AddressOf(port), "signin-oidc");

    public static async Task<RelyingParty> StartAsync(int port, Uri authority, string clientId, string clientSecret, IReadOnlyList<string> scopes)
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
                options.Authority = authority.ToString();
                options.RequireHttpsMetadata = false;
                options.ClientId = clientId;
                options.ClientSecret = clientSecret;
                options.ResponseType = "code";
                options.ResponseMode = "query";
                options.UsePkce = true;
                options.Scope.Clear();
                foreach (var scope in scopes)
                {
                    options.Scope.Add(scope);
                }

                options.MapInboundClaims = false;
                // The ID token itself is kept, so a test can read what it says (amr) rather than what the handler mapped.
                options.SaveTokens = true;
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
        app.MapGet("/", [Authorize] async (HttpContext context, ClaimsPrincipal user) => Results.Json(new
        {
            subject = user.FindFirst("sub")?.Value,
            preferredUserName = user.FindFirst("preferred_username")?.Value,
            name = user.FindFirst("name")?.Value,
            roles = user.FindAll("roles").Select(c => c.Value).Distinct(),
            amr = await context.GetTokenAsync("id_token") is { } idToken
                ? new JsonWebToken(idToken).Claims.Where(c => c.Type == "amr").Select(c => c.Value)
                : [],
        }));
        await app.StartAsync();
        return new RelyingParty(app, AddressOf(port));
    }

    public async ValueTask DisposeAsync() => await _app.DisposeAsync();
}
