using System.Globalization;
using System.Net;
using IdentityHub.Testing;
using static OpenIddict.Abstractions.OpenIddictConstants;

namespace IdentityHub.Server.IntegrationTests.Oidc;

/// <summary>Bad token requests (RFC 6749 §5.2), each answered with the exact error code.</summary>
public abstract class TokenNegativeTests<TFactory>(TFactory factory) : IClassFixture<TFactory>
    where TFactory : IdentityHubFactory
{
    private readonly OidcDriver _rp = new(factory);

    private async Task<(string ClientId, string AccessToken, string RefreshToken)> SignedInWithRefreshAsync()
    {
        var clientId = await _rp.RegisterClientAsync();
        var (code, verifier, _, _) = await _rp.ObtainCodeAsync(clientId, "openid profile offline_access");
        using var body = await OidcDriver.JsonAsync(await _rp.RedeemCodeAsync(clientId, code, verifier));
        return (clientId, body.RootElement.GetProperty("access_token").GetString()!, body.RootElement.GetProperty("refresh_token").GetString()!);
    }

    [PrerequisiteFact]
    public async Task Token_CodeWithoutVerifier_IsInvalidRequest()
    {
        var clientId = await _rp.RegisterClientAsync();
        var (code, _, _, _) = await _rp.ObtainCodeAsync(clientId);

        await OidcDriver.AssertErrorAsync(await _rp.RedeemCodeAsync(clientId, code, verifier: null), Errors.InvalidRequest);
    }

    [PrerequisiteFact]
    public async Task Token_WrongVerifier_IsInvalidGrant()
    {
        var clientId = await _rp.RegisterClientAsync();
        var (code, _, _, _) = await _rp.ObtainCodeAsync(clientId);

        await OidcDriver.AssertErrorAsync(await _rp.RedeemCodeAsync(clientId, code, OidcDriver.NewPkce().Verifier), Errors.InvalidGrant);
    }

    [PrerequisiteFact]
    public async Task Token_CodeReplayed_IsInvalidGrantAndRevokesWhatTheFirstUseIssued()
    {
        var clientId = await _rp.RegisterClientAsync();
        var (code, verifier, _, _) = await _rp.ObtainCodeAsync(clientId, "openid offline_access");
        using var first = await OidcDriver.JsonAsync(await _rp.RedeemCodeAsync(clientId, code, verifier));
        var accessToken = first.RootElement.GetProperty("access_token").GetString()!;
        var refreshToken = first.RootElement.GetProperty("refresh_token").GetString()!;
        Assert.True(await _rp.IsActiveAsync(clientId, accessToken));

        var replay = await _rp.RedeemCodeAsync(clientId, code, verifier);

        await OidcDriver.AssertErrorAsync(replay, Errors.InvalidGrant);
        Assert.False(await _rp.IsActiveAsync(clientId, accessToken));
        await OidcDriver.AssertErrorAsync(await _rp.RefreshAsync(clientId, refreshToken), Errors.InvalidGrant);
    }

    [PrerequisiteFact]
    public async Task Token_ExpiredCode_IsInvalidGrant()
    {
        var clientId = await _rp.RegisterClientAsync(configure: d =>
            d.Settings[Settings.TokenLifetimes.AuthorizationCode] = TimeSpan.FromSeconds(1).ToString("c", CultureInfo.InvariantCulture));
        var (code, verifier, _, _) = await _rp.ObtainCodeAsync(clientId);
        await Task.Delay(TimeSpan.FromSeconds(2.5));

        await OidcDriver.AssertErrorAsync(await _rp.RedeemCodeAsync(clientId, code, verifier), Errors.InvalidGrant);
    }

    [PrerequisiteFact]
    public async Task Token_CodeRedeemedByAnotherClient_IsInvalidGrant()
    {
        var clientId = await _rp.RegisterClientAsync();
        var otherClientId = await _rp.RegisterClientAsync();
        var (code, verifier, _, _) = await _rp.ObtainCodeAsync(clientId);

        await OidcDriver.AssertErrorAsync(await _rp.RedeemCodeAsync(otherClientId, code, verifier), Errors.InvalidGrant);
    }

    [PrerequisiteFact]
    public async Task Token_RedirectUriDifferentFromAuthorize_IsInvalidGrant()
    {
        var clientId = await _rp.RegisterClientAsync(configure: d => d.RedirectUris.Add(new Uri("https://rp.example/other")));
        var (code, verifier, _, _) = await _rp.ObtainCodeAsync(clientId);

        var response = await _rp.TokenAsync(new Dictionary<string, string>
        {
            [Parameters.GrantType] = GrantTypes.AuthorizationCode,
            [Parameters.Code] = code,
            [Parameters.CodeVerifier] = verifier,
            [Parameters.RedirectUri] = "https://rp.example/other",
        }, clientId);

        await OidcDriver.AssertErrorAsync(response, Errors.InvalidGrant);
    }

    [PrerequisiteFact]
    public async Task Token_RefreshTokenReused_IsInvalidGrantAndRevokesTheWholeFamily()
    {
        var (clientId, firstAccessToken, refresh1) = await SignedInWithRefreshAsync();
        using var rotated = await OidcDriver.JsonAsync(await _rp.RefreshAsync(clientId, refresh1));
        var refresh2 = rotated.RootElement.GetProperty("refresh_token").GetString()!;
        var secondAccessToken = rotated.RootElement.GetProperty("access_token").GetString()!;

        var reuse = await _rp.RefreshAsync(clientId, refresh1);

        await OidcDriver.AssertErrorAsync(reuse, Errors.InvalidGrant);
        await OidcDriver.AssertErrorAsync(await _rp.RefreshAsync(clientId, refresh2), Errors.InvalidGrant);
        Assert.False(await _rp.IsActiveAsync(clientId, secondAccessToken));
        Assert.False(await _rp.IsActiveAsync(clientId, firstAccessToken));
    }

    [PrerequisiteFact]
    public async Task Token_RefreshByAnotherClient_IsInvalidGrant()
    {
        var (_, _, refresh) = await SignedInWithRefreshAsync();
        var otherClientId = await _rp.RegisterClientAsync();

        await OidcDriver.AssertErrorAsync(await _rp.RefreshAsync(otherClientId, refresh), Errors.InvalidGrant);
    }

    [PrerequisiteFact]
    public async Task Token_RefreshAskingForMoreScopes_IsInvalidScope()
    {
        var (clientId, _, refresh) = await SignedInWithRefreshAsync();

        await OidcDriver.AssertErrorAsync(await _rp.RefreshAsync(clientId, refresh, scope: "openid profile email offline_access"), Errors.InvalidScope);
    }

    [PrerequisiteFact]
    public async Task Token_RefreshAskingForFewerScopes_IsAllowed()
    {
        var (clientId, _, refresh) = await SignedInWithRefreshAsync();

        var response = await _rp.RefreshAsync(clientId, refresh, scope: "openid offline_access");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    [PrerequisiteFact]
    public async Task Token_WrongClientSecret_IsInvalidClient()
    {
        var clientId = await _rp.RegisterClientAsync();
        var (code, verifier, _, _) = await _rp.ObtainCodeAsync(clientId);

        await OidcDriver.AssertErrorAsync(await _rp.RedeemCodeAsync(clientId, code, verifier, secret: "wrong-secret"), Errors.InvalidClient);
    }

    [PrerequisiteFact]
    public async Task Token_UnknownClient_IsInvalidClient()
    {
        var response = await _rp.TokenAsync(new Dictionary<string, string> { [Parameters.GrantType] = GrantTypes.ClientCredentials }, "no-such-client");

        await OidcDriver.AssertErrorAsync(response, Errors.InvalidClient);
    }

    [PrerequisiteFact]
    public async Task Token_ConfidentialClientWithoutSecret_IsInvalidClient()
    {
        var clientId = await _rp.RegisterClientAsync();
        var (code, verifier, _, _) = await _rp.ObtainCodeAsync(clientId);

        await OidcDriver.AssertErrorAsync(await _rp.RedeemCodeAsync(clientId, code, verifier, secret: null), Errors.InvalidClient);
    }

    [PrerequisiteFact]
    public async Task Token_GrantNotPermittedForClient_IsUnauthorizedClient()
    {
        var clientId = await _rp.RegisterClientAsync();

        var response = await _rp.TokenAsync(new Dictionary<string, string> { [Parameters.GrantType] = GrantTypes.ClientCredentials }, clientId);

        await OidcDriver.AssertErrorAsync(response, Errors.UnauthorizedClient);
    }

    [PrerequisiteFact]
    public async Task Token_UnsupportedGrantType_IsUnsupportedGrantType()
    {
        var clientId = await _rp.RegisterClientAsync();

        var response = await _rp.TokenAsync(new Dictionary<string, string>
        {
            [Parameters.GrantType] = GrantTypes.Password,
            [Parameters.Username] = "someone",
            [Parameters.Password] = "something",
        }, clientId);

        await OidcDriver.AssertErrorAsync(response, Errors.UnsupportedGrantType);
    }

    [PrerequisiteFact]
    public async Task Token_MissingGrantType_IsInvalidRequest()
    {
        var clientId = await _rp.RegisterClientAsync();

        await OidcDriver.AssertErrorAsync(await _rp.TokenAsync(new Dictionary<string, string> { [Parameters.Code] = "x" }, clientId), Errors.InvalidRequest);
    }

    [PrerequisiteFact]
    public async Task Token_UnknownCode_IsInvalidGrant()
    {
        var clientId = await _rp.RegisterClientAsync();

        await OidcDriver.AssertErrorAsync(await _rp.RedeemCodeAsync(clientId, "not-a-code", OidcDriver.NewPkce().Verifier), Errors.InvalidGrant);
    }

    [PrerequisiteFact]
    public async Task Token_UserLockedOutBetweenAuthorizeAndToken_IsInvalidGrant()
    {
        var clientId = await _rp.RegisterClientAsync();
        var (code, verifier, _, user) = await _rp.ObtainCodeAsync(clientId);
        await _rp.LockOutAsync(user.Id);

        await OidcDriver.AssertErrorAsync(await _rp.RedeemCodeAsync(clientId, code, verifier), Errors.InvalidGrant);
    }

    [PrerequisiteFact]
    public async Task UserInfo_WithoutToken_IsUnauthorizedWithABareBearerChallenge()
    {
        var response = await factory.CreateClient().GetAsync("/connect/userinfo");

        // RFC 6750 §3.1: a request without any credentials gets no error code.
        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        Assert.Equal("Bearer", response.Headers.WwwAuthenticate.ToString());
    }

    [PrerequisiteFact]
    public async Task UserInfo_GarbageToken_IsInvalidToken()
    {
        var request = new HttpRequestMessage(HttpMethod.Get, "/connect/userinfo");
        request.Headers.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", "not-a-token");

        var response = await factory.CreateClient().SendAsync(request);

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        Assert.Contains("error=\"invalid_token\"", response.Headers.WwwAuthenticate.ToString(), StringComparison.Ordinal);
    }
}

public sealed class SqliteTokenNegativeTests(SqliteFactory factory) : TokenNegativeTests<SqliteFactory>(factory);

[Requires(Prerequisite.PostgreSql)]
public sealed class PostgreSqlTokenNegativeTests(PostgreSqlFactory factory) : TokenNegativeTests<PostgreSqlFactory>(factory);
