using System.Net;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using IdentityHub.Data.Directory;
using Microsoft.AspNetCore.Identity;
using Microsoft.AspNetCore.WebUtilities;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.IdentityModel.Tokens;
using OpenIddict.Abstractions;
using static OpenIddict.Abstractions.OpenIddictConstants;

namespace IdentityHub.Server.IntegrationTests.Oidc;

/// <summary>A relying party in a test: registers itself and a user, and walks the flows hop by hop over HTTP.</summary>
public sealed class OidcDriver(IdentityHubFactory factory)
{
    public const string RedirectUri = "https://rp.example/callback";
    public const string PostLogoutRedirectUri = "https://rp.example/signed-out";
    public const string Secret = "test-client-secret-0123456789abcdef0123456789";
    public const string Password = "Oidc-Test-User-Password-1";

    public IdentityHubFactory Factory => factory;

    public static string NewId(string prefix) => $"{prefix}-{Guid.NewGuid():N}"[..(prefix.Length + 13)];

    /// <summary>Registers a client straight through OpenIddict (the registration API belongs to another feature).</summary>
    public async Task<string> RegisterClientAsync(
        bool confidential = true, string consent = ConsentTypes.Implicit, Action<OpenIddictApplicationDescriptor>? configure = null)
    {
        var clientId = NewId("client");
        var descriptor = new OpenIddictApplicationDescriptor
        {
            ClientId = clientId,
            ClientSecret = confidential ? Secret : null,
            ClientType = confidential ? ClientTypes.Confidential : ClientTypes.Public,
            ConsentType = consent,
            DisplayName = "Test application " + clientId,
            RedirectUris = { new Uri(RedirectUri) },
            PostLogoutRedirectUris = { new Uri(PostLogoutRedirectUri) },
            Permissions =
            {
                Permissions.Endpoints.Authorization, Permissions.Endpoints.Token, Permissions.Endpoints.EndSession,
                Permissions.Endpoints.Revocation, Permissions.Endpoints.Introspection, Permissions.Endpoints.PushedAuthorization,
                Permissions.GrantTypes.AuthorizationCode, Permissions.GrantTypes.RefreshToken, Permissions.ResponseTypes.Code,
                Permissions.Scopes.Profile, Permissions.Scopes.Email,
                Permissions.Prefixes.Scope + IdentityHub.Core.Access.IdentityHubScopes.Employee,
                Permissions.Prefixes.Scope + IdentityHub.Core.Access.IdentityHubScopes.Roles,
                Permissions.Prefixes.Scope + Scopes.OfflineAccess,
            },
        };
        configure?.Invoke(descriptor);
        await using var scope = factory.Services.CreateAsyncScope();
        await scope.ServiceProvider.GetRequiredService<IOpenIddictApplicationManager>().CreateAsync(descriptor);
        return clientId;
    }

    public async Task<UserAccount> CreateUserAsync(UserStatus status = UserStatus.Active, Action<UserAccount>? configure = null)
    {
        var user = new UserAccount
        {
            UserName = NewId("user"),
            DisplayName = "Test Person",
            Email = "person@example.com",
            EmailConfirmed = true,
            EmployeeNumber = NewId("E"),
            Status = status,
        };
        configure?.Invoke(user);
        await using var scope = factory.Services.CreateAsyncScope();
        var result = await scope.ServiceProvider.GetRequiredService<UserManager<UserAccount>>().CreateAsync(user, Password);
        Assert.True(result.Succeeded, string.Join(" ", result.Errors.Select(e => e.Description)));
        return user;
    }

    public async Task AddRoleAsync(UserAccount user, string role)
    {
        await using var scope = factory.Services.CreateAsyncScope();
        var roles = scope.ServiceProvider.GetRequiredService<RoleManager<IdentityRole>>();
        if (!await roles.RoleExistsAsync(role))
        {
            await roles.CreateAsync(new IdentityRole(role));
        }

        var users = scope.ServiceProvider.GetRequiredService<UserManager<UserAccount>>();
        Assert.True((await users.AddToRoleAsync((await users.FindByIdAsync(user.Id))!, role)).Succeeded);
    }

    /// <summary>
    /// Grants the user an application role holding one permission (<c>&lt;role&gt;.act</c>) in the application
    /// that owns <paramref name="clientId"/>, creating the application, permission and role when missing; returns the assignment id.
    /// </summary>
    public async Task<Guid> GrantApplicationRoleAsync(UserAccount user, string clientId, string role, DateTimeOffset? validUntil = null) =>
        await GrantApplicationRoleAsync(user, await ApplicationOfAsync(clientId), role, validUntil);

    /// <summary>The application that owns the OIDC client <paramref name="clientId"/>, created when missing.</summary>
    public async Task<Guid> ApplicationOfAsync(string clientId)
    {
        await using var scope = factory.Services.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<IdentityHub.Data.IdentityHubDbContext>();
        var application = await db.Applications.SingleOrDefaultAsync(a => a.OidcClientId == clientId);
        if (application is null)
        {
            application = new IdentityHub.Data.Access.Application
            {
                Id = Guid.NewGuid(), Name = clientId, OidcClientId = clientId, CreatedAt = DateTimeOffset.UtcNow, UpdatedAt = DateTimeOffset.UtcNow,
            };
            db.Applications.Add(application);
            await db.SaveChangesAsync();
        }

        return application.Id;
    }

    /// <summary>Grants the user an application role holding one permission (<c>&lt;role&gt;.act</c>), creating both when missing; returns the assignment id.</summary>
    public Task<Guid> GrantApplicationRoleAsync(UserAccount user, Guid applicationId, string role, DateTimeOffset? validUntil = null) =>
        GrantApplicationRoleAsync(user.Id, applicationId, role, validUntil);

    /// <inheritdoc cref="GrantApplicationRoleAsync(UserAccount, Guid, string, DateTimeOffset?)"/>
    public async Task<Guid> GrantApplicationRoleAsync(string userId, Guid applicationId, string role, DateTimeOffset? validUntil = null)
    {
        await using var scope = factory.Services.CreateAsyncScope();
        var services = scope.ServiceProvider;
        var db = services.GetRequiredService<IdentityHub.Data.IdentityHubDbContext>();
        var existing = await db.AccessRoles.SingleOrDefaultAsync(r => r.ApplicationId == applicationId && r.Name == role);
        if (existing is null)
        {
            var permission = await services.GetRequiredService<IdentityHub.Core.Access.Permissions>()
                .CreateAsync(applicationId, new(role + ".act", null, null), CancellationToken.None);
            existing = await services.GetRequiredService<IdentityHub.Core.Access.Roles>()
                .CreateAsync(new(applicationId, role, null, false, [new(permission.Id)]), CancellationToken.None);
        }

        return (await services.GetRequiredService<IdentityHub.Core.Access.RoleAssignments>()
            .GrantAsync(new(userId, existing.Id, null, null, validUntil, "test"), CancellationToken.None)).Id;
    }

    public async Task<Guid> CreateDepartmentAsync(string name)
    {
        await using var scope = factory.Services.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<IdentityHub.Data.IdentityHubDbContext>();
        var id = Guid.NewGuid();
        db.Departments.Add(new Department { Id = id, Code = NewId("D"), Name = name, Path = $"/{id:N}/", CreatedAt = DateTimeOffset.UtcNow, UpdatedAt = DateTimeOffset.UtcNow });
        await db.SaveChangesAsync();
        return id;
    }

    public async Task LockOutAsync(string userId)
    {
        await using var scope = factory.Services.CreateAsyncScope();
        var users = scope.ServiceProvider.GetRequiredService<UserManager<UserAccount>>();
        var user = await users.FindByIdAsync(userId) ?? throw new InvalidOperationException("No such user.");
        await users.SetLockoutEndDateAsync(user, DateTimeOffset.UtcNow.AddHours(1));
    }

    public async Task SetStatusAsync(string userId, UserStatus status)
    {
        await using var scope = factory.Services.CreateAsyncScope();
        var users = scope.ServiceProvider.GetRequiredService<UserManager<UserAccount>>();
        var user = await users.FindByIdAsync(userId) ?? throw new InvalidOperationException("No such user.");
        user.Status = status;
        await users.UpdateAsync(user);
    }

    public static (string Verifier, string Challenge) NewPkce()
    {
        var verifier = Base64UrlEncoder.Encode(RandomNumberGenerator.GetBytes(32));
        return (verifier, Base64UrlEncoder.Encode(SHA256.HashData(Encoding.ASCII.GetBytes(verifier))));
    }

    public static Dictionary<string, string?> AuthorizeParameters(string clientId, string challenge, string scope = "openid profile email", string? nonce = null) => new()
    {
        [Parameters.ClientId] = clientId,
        [Parameters.ResponseType] = ResponseTypes.Code,
        [Parameters.RedirectUri] = RedirectUri,
        [Parameters.Scope] = scope,
        [Parameters.State] = "state-" + Guid.NewGuid().ToString("N"),
        [Parameters.Nonce] = nonce ?? "nonce-" + Guid.NewGuid().ToString("N"),
        [Parameters.CodeChallenge] = challenge,
        [Parameters.CodeChallengeMethod] = CodeChallengeMethods.Sha256,
    };

    public static string AuthorizeUrl(IDictionary<string, string?> parameters) => QueryHelpers.AddQueryString("/connect/authorize", parameters);

    /// <summary>GET the authorize URL; when sent to the login page, sign in there and come back. Returns the last response.</summary>
    public static async Task<HttpResponseMessage> AuthorizeAsync(HttpClient browser, string url, string? userName)
    {
        var response = await browser.GetAsync(url);
        for (var hop = 0; hop < 5 && response.StatusCode == HttpStatusCode.Redirect; hop++)
        {
            var location = response.Headers.Location!;
            var target = location.IsAbsoluteUri ? location : new Uri(new Uri("http://localhost"), location);
            if (target.Host != "localhost")
            {
                return response;
            }

            if (target.AbsolutePath == "/account/login" && userName is not null)
            {
                var returnUrl = QueryHelpers.ParseQuery(target.Query)["ReturnUrl"].ToString();
                var signIn = await BrowserSession.SignInAsync(browser, userName, Password, returnUrl);
                if (signIn.StatusCode != HttpStatusCode.Redirect)
                {
                    return signIn;
                }

                userName = null;
                response = await browser.GetAsync(signIn.Headers.Location);
                continue;
            }

            if (target.AbsolutePath == "/account/login")
            {
                return response;
            }

            response = await browser.GetAsync(target.PathAndQuery);
        }

        return response;
    }

    /// <summary>The parameters of the redirect back to the client (query).</summary>
    public static Dictionary<string, string> CallbackParameters(HttpResponseMessage response)
    {
        Assert.Equal(HttpStatusCode.Redirect, response.StatusCode);
        var location = response.Headers.Location!;
        Assert.StartsWith(RedirectUri, location.ToString(), StringComparison.Ordinal);
        return QueryHelpers.ParseQuery(location.Query).ToDictionary(p => p.Key, p => p.Value.ToString());
    }

    /// <summary>Signs a new user in through authorize and returns the code, verifier and the browser.</summary>
    public async Task<(string Code, string Verifier, HttpClient Browser, UserAccount User)> ObtainCodeAsync(
        string clientId, string scope = "openid profile email", string? nonce = null, UserAccount? user = null)
    {
        user ??= await CreateUserAsync();
        var browser = factory.CreateBrowserLikeClient();
        var (verifier, challenge) = NewPkce();
        var response = await AuthorizeAsync(browser, AuthorizeUrl(AuthorizeParameters(clientId, challenge, scope, nonce)), user.UserName);
        var callback = CallbackParameters(response);
        Assert.True(callback.ContainsKey(Parameters.Code), "No code in " + response.Headers.Location);
        return (callback[Parameters.Code], verifier, browser, user);
    }

    public async Task<HttpResponseMessage> TokenAsync(IDictionary<string, string> form, string? clientId = null, string? secret = Secret)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, "/connect/token") { Content = new FormUrlEncodedContent(form) };
        if (clientId is not null && secret is not null)
        {
            request.Headers.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue(
                "Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes($"{Uri.EscapeDataString(clientId)}:{Uri.EscapeDataString(secret)}")));
        }
        else if (clientId is not null)
        {
            form[Parameters.ClientId] = clientId;
            request.Content = new FormUrlEncodedContent(form);
        }

        return await factory.CreateClient().SendAsync(request);
    }

    public Task<HttpResponseMessage> RedeemCodeAsync(string clientId, string code, string? verifier, string? secret = Secret)
    {
        var form = new Dictionary<string, string>
        {
            [Parameters.GrantType] = GrantTypes.AuthorizationCode,
            [Parameters.Code] = code,
            [Parameters.RedirectUri] = RedirectUri,
        };
        if (verifier is not null)
        {
            form[Parameters.CodeVerifier] = verifier;
        }

        return TokenAsync(form, clientId, secret);
    }

    public Task<HttpResponseMessage> RefreshAsync(string clientId, string refreshToken, string? scope = null, string? secret = Secret)
    {
        var form = new Dictionary<string, string> { [Parameters.GrantType] = GrantTypes.RefreshToken, [Parameters.RefreshToken] = refreshToken };
        if (scope is not null)
        {
            form[Parameters.Scope] = scope;
        }

        return TokenAsync(form, clientId, secret);
    }

    public async Task<bool> IsActiveAsync(string clientId, string token)
    {
        var response = await TokenEndpointLikeAsync("/connect/introspect", clientId, new() { [Parameters.Token] = token });
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        using var body = await JsonAsync(response);
        return body.RootElement.GetProperty("active").GetBoolean();
    }

    public Task<HttpResponseMessage> TokenEndpointLikeAsync(string path, string clientId, Dictionary<string, string> form)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, path) { Content = new FormUrlEncodedContent(form) };
        request.Headers.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue(
            "Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes($"{clientId}:{Secret}")));
        return factory.CreateClient().SendAsync(request);
    }

    public static async Task<JsonDocument> JsonAsync(HttpResponseMessage response) =>
        JsonDocument.Parse(await response.Content.ReadAsStringAsync());

    /// <summary>RFC 6749 §4.1.2.1: refused at the provider, shown on its error page, never redirected.</summary>
    public static async Task AssertErrorPageAsync(HttpResponseMessage response, string error)
    {
        Assert.Null(response.Headers.Location);
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var html = await response.Content.ReadAsStringAsync();
        var main = html[Math.Max(0, html.IndexOf("<main", StringComparison.Ordinal))..];
        Assert.True(html.Contains($"data-testid=\"protocol-error\">{error}<", StringComparison.Ordinal), main);
    }

    /// <summary>The error sent back to the client's redirect URI.</summary>
    public static void AssertRedirectedError(HttpResponseMessage response, string error) =>
        Assert.Equal(error, CallbackParameters(response).GetValueOrDefault(Parameters.Error));

    /// <summary>
    /// RFC 6749 §4.1.2.1 and RFC 9207: a refused request goes back to exactly the registered redirect URI with the
    /// error, the request's state and the issuer (in the query, or the fragment when the response type asks for it).
    /// </summary>
    public static Dictionary<string, string> AssertErrorRedirect(HttpResponseMessage response, string error, string? state)
    {
        Assert.Equal(HttpStatusCode.Redirect, response.StatusCode);
        var location = response.Headers.Location!;
        Assert.Equal(RedirectUri, location.GetLeftPart(UriPartial.Path));
        var parameters = QueryHelpers.ParseQuery(location.Query)
            .Concat(QueryHelpers.ParseQuery(location.Fragment.TrimStart('#')))
            .ToDictionary(p => p.Key, p => p.Value.ToString());
        Assert.Equal(error, parameters.GetValueOrDefault(Parameters.Error));
        Assert.Equal(state, parameters.GetValueOrDefault(Parameters.State));
        Assert.Equal("http://localhost/", parameters.GetValueOrDefault(Parameters.Iss));
        Assert.False(parameters.ContainsKey(Parameters.Code), location.ToString());
        return parameters;
    }

    public static async Task AssertErrorAsync(HttpResponseMessage response, string error)
    {
        var text = await response.Content.ReadAsStringAsync();
        using var body = JsonDocument.Parse(text);
        Assert.True(body.RootElement.TryGetProperty("error", out var actual), text);
        Assert.Equal(error, actual.GetString());
    }
}
