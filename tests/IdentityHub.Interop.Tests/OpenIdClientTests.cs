using System.Text.Json;
using System.Text.Json.Nodes;
using IdentityHub.Testing;
using Microsoft.IdentityModel.JsonWebTokens;

namespace IdentityHub.Interop.Tests;

/// <summary>
/// The Node <c>openid-client</c> library (v6) as the relying party: code + PKCE through the real sign-in
/// form, ID token validated by the library, userinfo, refresh, revocation, RP-initiated logout.
/// </summary>
[Requires(Prerequisite.Node)]
public sealed class OpenIdClientTests(InteropServer idp) : IClassFixture<InteropServer>
{
    private const string RedirectUri = "http://127.0.0.1:9/callback";
    private const string PostLogoutRedirectUri = "http://127.0.0.1:9/signed-out";

    [PrerequisiteFact]
    public async Task CodeFlow_ConfidentialClientSecretBasic_CompletesEveryStepTheLibraryChecks()
    {
        var (clientId, secret) = await RegisterAsync("openid-client basic", "confidential", "client_secret_basic");

        var result = await RunFlowAsync(clientId, secret, "client_secret_basic");

        AssertCompleteFlow(result, clientId);
    }

    [PrerequisiteFact]
    public async Task CodeFlow_ConfidentialClientSecretPost_CompletesEveryStepTheLibraryChecks()
    {
        var (clientId, secret) = await RegisterAsync("openid-client post", "confidential", "client_secret_post");

        var result = await RunFlowAsync(clientId, secret, "client_secret_post");

        AssertCompleteFlow(result, clientId);
    }

    [PrerequisiteFact]
    public async Task CodeFlow_PublicClientWithPkce_CompletesEveryStepTheLibraryChecks()
    {
        var (clientId, secret) = await RegisterAsync("openid-client public", "public", "none");
        Assert.Null(secret);

        var result = await RunFlowAsync(clientId, secret: null, "none");

        AssertCompleteFlow(result, clientId);
    }

    private static void AssertCompleteFlow(JsonElement result, string clientId)
    {
        var id = result.GetProperty("idTokenClaims");
        var sub = id.GetProperty("sub").GetString();
        Assert.False(string.IsNullOrEmpty(sub));
        Assert.NotEqual("admin", sub);
        Assert.Equal(clientId, id.GetProperty("aud").ValueKind == JsonValueKind.Array ? id.GetProperty("aud")[0].GetString() : id.GetProperty("aud").GetString());
        Assert.Equal("admin", id.GetProperty("preferred_username").GetString());
        Assert.True(id.TryGetProperty("sid", out _), "The ID token carries the session id (sid).");

        var userinfo = result.GetProperty("userinfo");
        Assert.Equal(sub, userinfo.GetProperty("sub").GetString());
        Assert.Equal("admin", userinfo.GetProperty("preferred_username").GetString());

        var access = new JsonWebToken(result.GetProperty("accessToken").GetString());
        Assert.Equal("at+jwt", access.Typ);
        Assert.Contains(clientId, access.Audiences);
        Assert.Equal([InteropServer.ApplicationRole], access.Claims.Where(c => c.Type == "roles").Select(c => c.Value));

        Assert.True(result.GetProperty("refreshRotated").GetBoolean(), "Each refresh returns a new refresh token.");
        Assert.Equal("invalid_grant", result.GetProperty("refreshAfterRevocation").GetString());
        Assert.StartsWith(PostLogoutRedirectUri, result.GetProperty("logoutRedirect").GetString(), StringComparison.Ordinal);
        Assert.True(result.GetProperty("logoutStateEchoed").GetBoolean(), "RP-initiated logout returns the state unchanged.");
    }

    private Task<(string ClientId, string? ClientSecret)> RegisterAsync(string name, string clientType, string authMethod) =>
        idp.RegisterClientAsync(name, new JsonObject
        {
            ["clientType"] = clientType,
            ["tokenEndpointAuthMethod"] = authMethod,
            ["redirectUris"] = new JsonArray(RedirectUri),
            ["postLogoutRedirectUris"] = new JsonArray(PostLogoutRedirectUri),
            ["grantTypes"] = new JsonArray("authorization_code", "refresh_token"),
            ["scopes"] = new JsonArray("openid", "profile", "email", "employee", "roles", "offline_access"),
            ["firstParty"] = true,
            ["requirePkce"] = true,
        });

    private Task<JsonElement> RunFlowAsync(string clientId, string? secret, string authMethod)
    {
        var environment = new Dictionary<string, string>
        {
            ["IH_ISSUER"] = idp.LoopbackIssuer.ToString(),
            ["IH_CLIENT_ID"] = clientId,
            ["IH_AUTH_METHOD"] = authMethod,
            ["IH_REDIRECT_URI"] = RedirectUri,
            ["IH_POST_LOGOUT_REDIRECT_URI"] = PostLogoutRedirectUri,
            ["IH_USERNAME"] = "admin",
            ["IH_PASSWORD"] = InteropServer.AdminPassword,
        };
        if (secret is not null)
        {
            environment["IH_CLIENT_SECRET"] = secret;
        }

        return NodeScript.RunAsync("oidc-client-flow.mjs", environment);
    }
}
