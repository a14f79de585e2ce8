using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using IdentityHub.Core.Access;
using IdentityHub.Server.Oidc.Keys;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.AspNetCore.TestHost;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace IdentityHub.Server.IntegrationTests.Oidc;

/// <summary>A clock the test moves by hand; the server reads it everywhere it asks <see cref="TimeProvider"/>.</summary>
public sealed class ManualClock(DateTimeOffset start) : TimeProvider
{
    private DateTimeOffset _now = start;

    public override DateTimeOffset GetUtcNow() => _now;

    public void Advance(TimeSpan by) => _now += by;
}

/// <summary>
/// Server nodes on one fresh database of their own (one per test, since key state is the subject),
/// sharing a manual clock, plus what a relying party does: get tokens, fetch the JWKS, validate.
/// </summary>
public sealed class KeyTestNodes<TFactory> : IAsyncDisposable
    where TFactory : IdentityHubFactory, new()
{
    private readonly TFactory _database = new();

    public ManualClock Clock { get; } = new(DateTimeOffset.UtcNow);

    public async Task InitializeAsync() => await _database.InitializeAsync();

    /// <summary>Starts a node; the schedule's timer is slowed down so tests drive it with <see cref="KeyRotationService.RunOnceAsync"/>.</summary>
    public WebApplicationFactory<Program> StartNode(params (string Key, string Value)[] settings)
    {
        var node = _database.WithWebHostBuilder(builder =>
        {
            builder.UseSetting("Oidc:Keys:CheckInterval", "01:00:00");
            foreach (var (key, value) in settings)
            {
                builder.UseSetting(key, value);
            }

            builder.ConfigureTestServices(services => services.AddSingleton<TimeProvider>(Clock));
        });
        _ = node.Server;
        return node;
    }

    /// <summary>What a relying party does with Microsoft.IdentityModel: signature, issuer, audience, type and lifetime by the JWKS.</summary>
    public async Task<TokenValidationResult> ValidateAsync(JsonWebToken token, JsonWebKeySet jwks)
    {
        var parameters = new TokenValidationParameters
        {
            ValidIssuer = "http://localhost/",
            ValidAudience = IdentityHubScopes.AdminApiAudience,
            ValidTypes = ["at+jwt"],
            IssuerSigningKeys = jwks.GetSigningKeys(),
            // The server lives on the manual clock; judge expiry by it too.
            LifetimeValidator = (notBefore, expires, _, _) =>
                (notBefore is null || notBefore.Value <= Clock.GetUtcNow().UtcDateTime.AddMinutes(5))
                && expires is not null && expires.Value > Clock.GetUtcNow().UtcDateTime,
        };
        return await new JsonWebTokenHandler().ValidateTokenAsync(token.EncodedToken, parameters);
    }

    public async ValueTask DisposeAsync() => await _database.DisposeAsync();
}

/// <summary>What a relying party and an operator do over HTTP against one node.</summary>
public static class OidcTestClient
{
    public static Task<bool> RunScheduleAsync(WebApplicationFactory<Program> node) =>
        node.Services.GetRequiredService<KeyRotationService>().RunOnceAsync(CancellationToken.None);

    public static async Task<JsonWebToken> GetTokenAsync(WebApplicationFactory<Program> node, string clientId = "identityhub-admin", string secret = IdentityHubFactory.AdminClientSecret)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, "/connect/token")
        {
            Content = new FormUrlEncodedContent(new Dictionary<string, string>
            {
                ["grant_type"] = "client_credentials",
                ["scope"] = IdentityHubScopes.AdminApi,
            }),
        };
        request.Headers.Authorization = new AuthenticationHeaderValue("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes($"{clientId}:{secret}")));
        var response = await node.CreateClient().SendAsync(request);
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.IsSuccessStatusCode, body);
        using var json = JsonDocument.Parse(body);
        return new JsonWebToken(json.RootElement.GetProperty("access_token").GetString());
    }

    public static async Task<JsonWebKeySet> GetJwksAsync(WebApplicationFactory<Program> node) =>
        new(await node.CreateClient().GetStringAsync("/.well-known/jwks"));

    public static IReadOnlyList<string> Kids(JsonWebKeySet jwks) => [.. jwks.Keys.Select(k => k.Kid).Order(StringComparer.Ordinal)];

    public static HttpClient BearerClient(WebApplicationFactory<Program> node, JsonWebToken token)
    {
        var client = node.CreateClient();
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token.EncodedToken);
        return client;
    }
}
