using System.Net;
using IdentityHub.Server.Oidc.EndSession;
using IdentityHub.Testing;
using Microsoft.AspNetCore.WebUtilities;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.IdentityModel.JsonWebTokens;
using OpenIddict.Abstractions;
using static OpenIddict.Abstractions.OpenIddictConstants;

namespace IdentityHub.Server.IntegrationTests.Oidc;

/// <summary>RP-initiated logout: id_token_hint, registered post-logout redirect URIs only, state echoed, confirmation otherwise.</summary>
public abstract class EndSessionTests<TFactory>(TFactory factory) : IClassFixture<TFactory>
    where TFactory : IdentityHubFactory
{
    private readonly OidcDriver _rp = new(factory);

    private async Task<(string ClientId, string IdToken, HttpClient Browser)> SignedInAsync()
    {
        var clientId = await _rp.RegisterClientAsync();
        var (code, verifier, browser, _) = await _rp.ObtainCodeAsync(clientId);
        using var tokens = await OidcDriver.JsonAsync(await _rp.RedeemCodeAsync(clientId, code, verifier));
        return (clientId, tokens.RootElement.GetProperty("id_token").GetString()!, browser);
    }

    private static async Task<bool> IsSignedInAsync(HttpClient browser) =>
        (await browser.GetAsync("/account/applications")).StatusCode == HttpStatusCode.OK;

    [PrerequisiteFact]
    public async Task EndSession_ValidHintAndRegisteredUri_SignsOutAndRedirectsWithState()
    {
        var (clientId, idToken, browser) = await SignedInAsync();

        var response = await browser.GetAsync(QueryHelpers.AddQueryString("/connect/endsession", new Dictionary<string, string?>
        {
            [Parameters.IdTokenHint] = idToken,
            [Parameters.ClientId] = clientId,
            [Parameters.PostLogoutRedirectUri] = OidcDriver.PostLogoutRedirectUri,
            [Parameters.State] = "bye-123",
        }));

        Assert.Equal(HttpStatusCode.Redirect, response.StatusCode);
        Assert.Equal(OidcDriver.PostLogoutRedirectUri + "?state=bye-123", response.Headers.Location!.ToString());
        Assert.False(await IsSignedInAsync(browser));
    }

    [PrerequisiteFact]
    public async Task EndSession_HintOfARevokedGrant_SignsOutRedirectsAndEndsTheSilentSession()
    {
        var (clientId, idToken, browser) = await SignedInAsync();
        // As an administrator ending the user's grants does: every token and authorization of the user revoked.
        await using (var scope = factory.Services.CreateAsyncScope())
        {
            var subject = new JsonWebToken(idToken).Subject;
            await scope.ServiceProvider.GetRequiredService<IOpenIddictTokenManager>().RevokeBySubjectAsync(subject);
            await scope.ServiceProvider.GetRequiredService<IOpenIddictAuthorizationManager>().RevokeBySubjectAsync(subject);
        }

        var response = await browser.GetAsync(QueryHelpers.AddQueryString("/connect/endsession", new Dictionary<string, string?>
        {
            [Parameters.IdTokenHint] = idToken,
            [Parameters.PostLogoutRedirectUri] = OidcDriver.PostLogoutRedirectUri,
            [Parameters.State] = "bye-revoked",
        }));

        Assert.Equal(HttpStatusCode.Redirect, response.StatusCode);
        Assert.Equal(OidcDriver.PostLogoutRedirectUri + "?state=bye-revoked", response.Headers.Location!.ToString());
        var silent = OidcDriver.AuthorizeParameters(clientId, OidcDriver.NewPkce().Challenge);
        silent[Parameters.Prompt] = PromptValues.None;
        OidcDriver.AssertRedirectedError(await browser.GetAsync(OidcDriver.AuthorizeUrl(silent)), Errors.LoginRequired);
    }

    [PrerequisiteFact]
    public async Task EndSession_UnregisteredPostLogoutRedirectUri_ShowsErrorPageAndNeverRedirects()
    {
        var (clientId, idToken, browser) = await SignedInAsync();

        var response = await browser.GetAsync(QueryHelpers.AddQueryString("/connect/endsession", new Dictionary<string, string?>
        {
            [Parameters.IdTokenHint] = idToken,
            [Parameters.ClientId] = clientId,
            [Parameters.PostLogoutRedirectUri] = "https://evil.example/landing",
        }));

        await OidcDriver.AssertErrorPageAsync(response, Errors.InvalidRequest);
    }

    [PrerequisiteFact]
    public async Task EndSession_PostLogoutUriOfAnotherClient_ShowsErrorPage()
    {
        var (_, idToken, browser) = await SignedInAsync();
        var otherClientId = await _rp.RegisterClientAsync(configure: d =>
        {
            d.PostLogoutRedirectUris.Clear();
            d.PostLogoutRedirectUris.Add(new Uri("https://other.example/out"));
        });

        var response = await browser.GetAsync(QueryHelpers.AddQueryString("/connect/endsession", new Dictionary<string, string?>
        {
            [Parameters.IdTokenHint] = idToken,
            [Parameters.PostLogoutRedirectUri] = "https://other.example/out",
        }));

        await OidcDriver.AssertErrorPageAsync(response, Errors.InvalidRequest);
        Assert.NotNull(otherClientId);
    }

    [PrerequisiteFact]
    public async Task EndSession_InvalidIdTokenHint_ShowsErrorPage()
    {
        var (_, _, browser) = await SignedInAsync();

        var response = await browser.GetAsync("/connect/endsession?id_token_hint=not-a-token");

        await OidcDriver.AssertErrorPageAsync(response, Errors.InvalidRequest);
        Assert.True(await IsSignedInAsync(browser));
    }

    [PrerequisiteFact]
    public async Task EndSession_WithoutHint_AsksForConfirmationThenShowsSignedOutPage()
    {
        var (_, _, browser) = await SignedInAsync();

        var confirm = await browser.GetAsync("/connect/endsession");
        var html = await confirm.Content.ReadAsStringAsync();
        Assert.True(await IsSignedInAsync(browser));
        var done = await browser.PostAsync("/connect/endsession", new FormUrlEncodedContent(new Dictionary<string, string>
        {
            [EndSessionEndpoint.ConfirmField] = "yes",
            ["__RequestVerificationToken"] = BrowserSession.AntiforgeryToken(html),
        }));

        Assert.Equal(HttpStatusCode.OK, confirm.StatusCode);
        Assert.Contains("Sign out of IdentityHub?", html, StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.OK, done.StatusCode);
        Assert.Contains("data-testid=\"signed-out\"", await done.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.False(await IsSignedInAsync(browser));
    }

    [PrerequisiteFact]
    public async Task EndSession_ConfirmationWithoutAntiforgeryToken_IsRejectedAndKeepsTheSession()
    {
        var (_, _, browser) = await SignedInAsync();

        var response = await browser.PostAsync("/connect/endsession", new FormUrlEncodedContent(new Dictionary<string, string>
        {
            [EndSessionEndpoint.ConfirmField] = "yes",
        }));

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.True(await IsSignedInAsync(browser));
    }

    [PrerequisiteFact]
    public async Task EndSession_HintOfAnotherUser_AsksForConfirmation()
    {
        var (clientId, idToken, _) = await SignedInAsync();
        var other = await _rp.CreateUserAsync();
        var browser = factory.CreateBrowserLikeClient();
        await BrowserSession.SignInAsync(browser, other.UserName!, OidcDriver.Password);

        var response = await browser.GetAsync(QueryHelpers.AddQueryString("/connect/endsession", new Dictionary<string, string?>
        {
            [Parameters.IdTokenHint] = idToken,
            [Parameters.ClientId] = clientId,
            [Parameters.PostLogoutRedirectUri] = OidcDriver.PostLogoutRedirectUri,
        }));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.True(await IsSignedInAsync(browser));
    }
}

public sealed class SqliteEndSessionTests(SqliteFactory factory) : EndSessionTests<SqliteFactory>(factory);

[Requires(Prerequisite.PostgreSql)]
public sealed class PostgreSqlEndSessionTests(PostgreSqlFactory factory) : EndSessionTests<PostgreSqlFactory>(factory);
