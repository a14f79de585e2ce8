using System.Net;
using IdentityHub.Data.Directory;
using IdentityHub.Server.Oidc.Clients;
using IdentityHub.Testing;
using static OpenIddict.Abstractions.OpenIddictConstants;
using ClientProperties = IdentityHub.Core.Access.ClientProperties;

namespace IdentityHub.Server.IntegrationTests.Oidc;

/// <summary>
/// Bad authorization requests, each refused with the exact error code. RFC 6749 §4.1.2.1: when the client and
/// its exactly registered redirect_uri are known, the error goes back there with state and iss; a bad client,
/// redirect_uri or unreadable request is shown on the provider's error page and never redirected.
/// </summary>
public abstract class AuthorizeNegativeTests<TFactory>(TFactory factory) : IClassFixture<TFactory>
    where TFactory : IdentityHubFactory
{
    private readonly OidcDriver _rp = new(factory);

    private async Task<HttpResponseMessage> AuthorizeAsSignedInUserAsync(Dictionary<string, string?> parameters, UserAccount? user = null)
    {
        user ??= await _rp.CreateUserAsync();
        return await OidcDriver.AuthorizeAsync(factory.CreateBrowserLikeClient(), OidcDriver.AuthorizeUrl(parameters), user.UserName);
    }

    [PrerequisiteFact]
    public async Task Authorize_RedirectUriNotRegistered_ShowsErrorPageAndNeverRedirects()
    {
        var clientId = await _rp.RegisterClientAsync();
        var parameters = OidcDriver.AuthorizeParameters(clientId, OidcDriver.NewPkce().Challenge);
        parameters[Parameters.RedirectUri] = "https://evil.example/callback";

        var response = await factory.CreateBrowserLikeClient().GetAsync(OidcDriver.AuthorizeUrl(parameters));

        await OidcDriver.AssertErrorPageAsync(response, Errors.InvalidRequest);
    }

    [PrerequisiteFact]
    public async Task Authorize_RedirectUriDiffersOnlyByTrailingPath_IsNotAnExactMatch()
    {
        var clientId = await _rp.RegisterClientAsync();
        var parameters = OidcDriver.AuthorizeParameters(clientId, OidcDriver.NewPkce().Challenge);
        parameters[Parameters.RedirectUri] = OidcDriver.RedirectUri + "/extra";

        var response = await factory.CreateBrowserLikeClient().GetAsync(OidcDriver.AuthorizeUrl(parameters));

        await OidcDriver.AssertErrorPageAsync(response, Errors.InvalidRequest);
    }

    [PrerequisiteFact]
    public async Task Authorize_MalformedRedirectUri_ShowsInvalidRequestPage()
    {
        var clientId = await _rp.RegisterClientAsync();
        var parameters = OidcDriver.AuthorizeParameters(clientId, OidcDriver.NewPkce().Challenge);
        parameters[Parameters.RedirectUri] = "not a uri";

        var response = await factory.CreateBrowserLikeClient().GetAsync(OidcDriver.AuthorizeUrl(parameters));

        await OidcDriver.AssertErrorPageAsync(response, Errors.InvalidRequest);
    }

    [PrerequisiteFact]
    public async Task Authorize_UnknownClient_ShowsErrorPage()
    {
        var parameters = OidcDriver.AuthorizeParameters("no-such-client", OidcDriver.NewPkce().Challenge);

        var response = await factory.CreateBrowserLikeClient().GetAsync(OidcDriver.AuthorizeUrl(parameters));

        await OidcDriver.AssertErrorPageAsync(response, Errors.InvalidRequest);
    }

    [PrerequisiteFact]
    public async Task Authorize_OversizedState_ShowsInvalidRequestPageWithoutEchoingIt()
    {
        var clientId = await _rp.RegisterClientAsync();
        var parameters = OidcDriver.AuthorizeParameters(clientId, OidcDriver.NewPkce().Challenge);
        parameters[Parameters.State] = new string('s', 10 * 1024);

        var response = await factory.CreateBrowserLikeClient().GetAsync(OidcDriver.AuthorizeUrl(parameters));

        await OidcDriver.AssertErrorPageAsync(response, Errors.InvalidRequest);
    }

    [PrerequisiteFact]
    public async Task Authorize_PlainCodeChallengeMethod_RedirectsInvalidRequest()
    {
        var clientId = await _rp.RegisterClientAsync(confidential: false);
        var parameters = OidcDriver.AuthorizeParameters(clientId, OidcDriver.NewPkce().Verifier);
        parameters[Parameters.CodeChallengeMethod] = CodeChallengeMethods.Plain;

        var response = await factory.CreateBrowserLikeClient().GetAsync(OidcDriver.AuthorizeUrl(parameters));

        OidcDriver.AssertErrorRedirect(response, Errors.InvalidRequest, parameters[Parameters.State]);
    }

    [PrerequisiteFact]
    public async Task Authorize_PublicClientWithoutCodeChallenge_RedirectsInvalidRequest()
    {
        var clientId = await _rp.RegisterClientAsync(confidential: false);
        var parameters = OidcDriver.AuthorizeParameters(clientId, "");
        parameters.Remove(Parameters.CodeChallenge);
        parameters.Remove(Parameters.CodeChallengeMethod);

        var response = await factory.CreateBrowserLikeClient().GetAsync(OidcDriver.AuthorizeUrl(parameters));

        OidcDriver.AssertErrorRedirect(response, Errors.InvalidRequest, parameters[Parameters.State]);
    }

    [PrerequisiteFact]
    public async Task Authorize_PkceRequiredConfidentialClientWithoutCodeChallenge_RedirectsInvalidRequest()
    {
        var clientId = await _rp.RegisterClientAsync(configure: d => d.Requirements.Add(Requirements.Features.ProofKeyForCodeExchange));
        var parameters = OidcDriver.AuthorizeParameters(clientId, "");
        parameters.Remove(Parameters.CodeChallenge);
        parameters.Remove(Parameters.CodeChallengeMethod);

        var response = await factory.CreateBrowserLikeClient().GetAsync(OidcDriver.AuthorizeUrl(parameters));

        OidcDriver.AssertErrorRedirect(response, Errors.InvalidRequest, parameters[Parameters.State]);
    }

    [PrerequisiteFact]
    public async Task Authorize_UnsupportedResponseType_RedirectsUnsupportedResponseType()
    {
        var clientId = await _rp.RegisterClientAsync();
        var parameters = OidcDriver.AuthorizeParameters(clientId, OidcDriver.NewPkce().Challenge);
        parameters[Parameters.ResponseType] = ResponseTypes.Token;

        var response = await factory.CreateBrowserLikeClient().GetAsync(OidcDriver.AuthorizeUrl(parameters));

        OidcDriver.AssertErrorRedirect(response, Errors.UnsupportedResponseType, parameters[Parameters.State]);
    }

    [PrerequisiteFact]
    public async Task Authorize_ClientWithoutCodeResponseTypePermission_RedirectsUnauthorizedClient()
    {
        var clientId = await _rp.RegisterClientAsync(configure: d => d.Permissions.Remove(Permissions.ResponseTypes.Code));
        var parameters = OidcDriver.AuthorizeParameters(clientId, OidcDriver.NewPkce().Challenge);

        var response = await factory.CreateBrowserLikeClient().GetAsync(OidcDriver.AuthorizeUrl(parameters));

        OidcDriver.AssertErrorRedirect(response, Errors.UnauthorizedClient, parameters[Parameters.State]);
    }

    [PrerequisiteFact]
    public async Task Authorize_ClientWithoutAuthorizationEndpointPermission_RedirectsUnauthorizedClient()
    {
        var clientId = await _rp.RegisterClientAsync(configure: d => d.Permissions.Remove(Permissions.Endpoints.Authorization));
        var parameters = OidcDriver.AuthorizeParameters(clientId, OidcDriver.NewPkce().Challenge);

        var response = await factory.CreateBrowserLikeClient().GetAsync(OidcDriver.AuthorizeUrl(parameters));

        OidcDriver.AssertErrorRedirect(response, Errors.UnauthorizedClient, parameters[Parameters.State]);
    }

    [PrerequisiteFact]
    public async Task Authorize_DisabledClient_RedirectsUnauthorizedClientSayingSo()
    {
        var clientId = await _rp.RegisterClientAsync(
            configure: d => d.Properties[ClientProperties.Disabled] = System.Text.Json.JsonSerializer.SerializeToElement(true));
        var parameters = OidcDriver.AuthorizeParameters(clientId, OidcDriver.NewPkce().Challenge);

        var response = await factory.CreateBrowserLikeClient().GetAsync(OidcDriver.AuthorizeUrl(parameters));

        var callback = OidcDriver.AssertErrorRedirect(response, Errors.UnauthorizedClient, parameters[Parameters.State]);
        Assert.Equal(DisabledClientRefusal.Description, callback[Parameters.ErrorDescription]);
    }

    [PrerequisiteFact]
    public async Task Authorize_ScopeNotPermittedForClient_RedirectsInvalidRequest()
    {
        var clientId = await _rp.RegisterClientAsync();
        var parameters = OidcDriver.AuthorizeParameters(clientId, OidcDriver.NewPkce().Challenge, scope: "openid identityhub.admin");

        var response = await factory.CreateBrowserLikeClient().GetAsync(OidcDriver.AuthorizeUrl(parameters));

        OidcDriver.AssertErrorRedirect(response, Errors.InvalidRequest, parameters[Parameters.State]);
    }

    [PrerequisiteFact]
    public async Task Authorize_UnknownScope_RedirectsInvalidScope()
    {
        var clientId = await _rp.RegisterClientAsync();
        var parameters = OidcDriver.AuthorizeParameters(clientId, OidcDriver.NewPkce().Challenge, scope: "openid no-such-scope");

        var response = await factory.CreateBrowserLikeClient().GetAsync(OidcDriver.AuthorizeUrl(parameters));

        OidcDriver.AssertErrorRedirect(response, Errors.InvalidScope, parameters[Parameters.State]);
    }

    [PrerequisiteFact]
    public async Task Authorize_SuspendedUserWithSession_PromptNoneIsLoginRequired()
    {
        var clientId = await _rp.RegisterClientAsync();
        var user = await _rp.CreateUserAsync();
        var browser = factory.CreateBrowserLikeClient();
        await BrowserSession.SignInAsync(browser, user.UserName!, OidcDriver.Password);
        await _rp.SetStatusAsync(user.Id, UserStatus.Suspended);
        var parameters = OidcDriver.AuthorizeParameters(clientId, OidcDriver.NewPkce().Challenge);
        parameters[Parameters.Prompt] = PromptValues.None;

        var response = await browser.GetAsync(OidcDriver.AuthorizeUrl(parameters));

        OidcDriver.AssertRedirectedError(response, Errors.LoginRequired);
    }

    [PrerequisiteFact]
    public async Task Authorize_LeftUserWithSession_IsSentToTheLoginPageNotToTheClient()
    {
        var clientId = await _rp.RegisterClientAsync();
        var user = await _rp.CreateUserAsync();
        var browser = factory.CreateBrowserLikeClient();
        await BrowserSession.SignInAsync(browser, user.UserName!, OidcDriver.Password);
        await _rp.SetStatusAsync(user.Id, UserStatus.Left);

        var response = await browser.GetAsync(OidcDriver.AuthorizeUrl(OidcDriver.AuthorizeParameters(clientId, OidcDriver.NewPkce().Challenge)));
        var again = await BrowserSession.SignInAsync(browser, user.UserName!, OidcDriver.Password);

        Assert.StartsWith("/account/login", response.Headers.Location!.OriginalString, StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.OK, again.StatusCode);
        Assert.Contains(IdentityHub.Server.Account.LoginModel.InvalidCredentials, await again.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    [PrerequisiteFact]
    public async Task Authorize_LockedOutUserWithSession_PromptNoneIsLoginRequired()
    {
        var clientId = await _rp.RegisterClientAsync();
        var user = await _rp.CreateUserAsync();
        var browser = factory.CreateBrowserLikeClient();
        await BrowserSession.SignInAsync(browser, user.UserName!, OidcDriver.Password);
        await _rp.LockOutAsync(user.Id);
        var parameters = OidcDriver.AuthorizeParameters(clientId, OidcDriver.NewPkce().Challenge);
        parameters[Parameters.Prompt] = PromptValues.None;

        var response = await browser.GetAsync(OidcDriver.AuthorizeUrl(parameters));

        OidcDriver.AssertRedirectedError(response, Errors.LoginRequired);
    }

    [PrerequisiteFact]
    public async Task Authorize_ParRequiredClientWithoutPar_RedirectsInvalidRequest()
    {
        var clientId = await _rp.RegisterClientAsync(configure: d => d.Requirements.Add(Requirements.Features.PushedAuthorizationRequests));
        var parameters = OidcDriver.AuthorizeParameters(clientId, OidcDriver.NewPkce().Challenge);

        var response = await factory.CreateBrowserLikeClient().GetAsync(OidcDriver.AuthorizeUrl(parameters));

        OidcDriver.AssertErrorRedirect(response, Errors.InvalidRequest, parameters[Parameters.State]);
    }

    [PrerequisiteFact]
    public async Task Authorize_UnsupportedResponseMode_RedirectsInvalidRequestInTheQuery()
    {
        var clientId = await _rp.RegisterClientAsync();
        var parameters = OidcDriver.AuthorizeParameters(clientId, OidcDriver.NewPkce().Challenge);
        parameters[Parameters.ResponseMode] = "no-such-mode";

        var response = await factory.CreateBrowserLikeClient().GetAsync(OidcDriver.AuthorizeUrl(parameters));

        OidcDriver.AssertErrorRedirect(response, Errors.InvalidRequest, parameters[Parameters.State]);
        Assert.Contains("error=", response.Headers.Location!.Query, StringComparison.Ordinal);
    }

    [PrerequisiteFact]
    public async Task Authorize_InvalidRequestWithUnregisteredRedirectUri_ShowsErrorPageAndNeverRedirects()
    {
        var clientId = await _rp.RegisterClientAsync(confidential: false);
        var parameters = OidcDriver.AuthorizeParameters(clientId, OidcDriver.NewPkce().Verifier);
        parameters[Parameters.CodeChallengeMethod] = CodeChallengeMethods.Plain;
        parameters[Parameters.RedirectUri] = "https://evil.example/callback";

        var response = await factory.CreateBrowserLikeClient().GetAsync(OidcDriver.AuthorizeUrl(parameters));

        await OidcDriver.AssertErrorPageAsync(response, Errors.InvalidRequest);
    }

    [PrerequisiteFact]
    public async Task Authorize_InvalidRequestFromUnknownClient_ShowsErrorPageAndNeverRedirects()
    {
        // The redirect_uri is registered for other clients: it still belongs to no client named in the request.
        var parameters = OidcDriver.AuthorizeParameters("no-such-client", OidcDriver.NewPkce().Verifier);
        parameters[Parameters.CodeChallengeMethod] = CodeChallengeMethods.Plain;

        var response = await factory.CreateBrowserLikeClient().GetAsync(OidcDriver.AuthorizeUrl(parameters));

        await OidcDriver.AssertErrorPageAsync(response, Errors.InvalidRequest);
    }

    [PrerequisiteFact]
    public async Task Authorize_Nonce_IsCarriedIntoTheIdToken()
    {
        var clientId = await _rp.RegisterClientAsync();
        var (code, verifier, _, _) = await _rp.ObtainCodeAsync(clientId, nonce: "n-0S6_WzA2Mj");

        using var body = await OidcDriver.JsonAsync(await _rp.RedeemCodeAsync(clientId, code, verifier));

        var idToken = new Microsoft.IdentityModel.JsonWebTokens.JsonWebToken(body.RootElement.GetProperty("id_token").GetString());
        Assert.Equal("n-0S6_WzA2Mj", idToken.GetClaim("nonce").Value);
    }
}

public sealed class SqliteAuthorizeNegativeTests(SqliteFactory factory) : AuthorizeNegativeTests<SqliteFactory>(factory);

[Requires(Prerequisite.PostgreSql)]
public sealed class PostgreSqlAuthorizeNegativeTests(PostgreSqlFactory factory) : AuthorizeNegativeTests<PostgreSqlFactory>(factory);
