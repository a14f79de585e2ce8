using System.Net;
using System.Text.RegularExpressions;
using IdentityHub.Server.Oidc.Authorize;
using IdentityHub.Testing;
using static OpenIddict.Abstractions.OpenIddictConstants;

namespace IdentityHub.Server.IntegrationTests.Oidc;

/// <summary>Explicit consent: the page, Allow and Deny, remembering, and withdrawing on /account/applications.</summary>
public abstract partial class ConsentTests<TFactory>(TFactory factory) : IClassFixture<TFactory>
    where TFactory : IdentityHubFactory
{
    private readonly OidcDriver _rp = new(factory);

    private async Task<(string ClientId, HttpClient Browser, HttpResponseMessage Page, Dictionary<string, string?> Parameters, string Verifier)> ConsentPageAsync(
        string scope = "openid profile email offline_access")
    {
        var clientId = await _rp.RegisterClientAsync(consent: ConsentTypes.Explicit);
        var user = await _rp.CreateUserAsync();
        var browser = factory.CreateBrowserLikeClient();
        var (verifier, challenge) = OidcDriver.NewPkce();
        var parameters = OidcDriver.AuthorizeParameters(clientId, challenge, scope);
        var page = await OidcDriver.AuthorizeAsync(browser, OidcDriver.AuthorizeUrl(parameters), user.UserName);
        return (clientId, browser, page, parameters, verifier);
    }

    private static async Task<HttpResponseMessage> AnswerAsync(HttpClient browser, HttpResponseMessage page, string button, bool withToken = true)
    {
        var html = await page.Content.ReadAsStringAsync();
        var fields = HiddenField().Matches(html)
            .Select(m => KeyValuePair.Create(WebUtility.HtmlDecode(m.Groups[1].Value), WebUtility.HtmlDecode(m.Groups[2].Value)))
            .ToList();
        if (withToken)
        {
            fields.Add(KeyValuePair.Create("__RequestVerificationToken", BrowserSession.AntiforgeryToken(html)));
        }

        fields.Add(KeyValuePair.Create(button, "yes"));
        return await browser.PostAsync("/connect/authorize", new FormUrlEncodedContent(fields));
    }

    [GeneratedRegex("<input type=\"hidden\" name=\"([^\"]+)\" value=\"([^\"]*)\"")]
    private static partial Regex HiddenField();

    [PrerequisiteFact]
    public async Task Authorize_ExplicitConsentClient_ShowsTheScopesInPlainWords()
    {
        var (_, _, page, _, _) = await ConsentPageAsync();

        Assert.Equal(HttpStatusCode.OK, page.StatusCode);
        var html = await page.Content.ReadAsStringAsync();
        Assert.Contains("See your email address", html, StringComparison.Ordinal);
        Assert.Contains("See your name and user name", html, StringComparison.Ordinal);
        Assert.Contains("name=\"__RequestVerificationToken\"", html, StringComparison.Ordinal);
    }

    [PrerequisiteFact]
    public async Task Consent_Allowed_IssuesACodeAndIsRememberedNextTime()
    {
        var (clientId, browser, page, parameters, _) = await ConsentPageAsync();

        var answer = await AnswerAsync(browser, page, AuthorizeEndpoint.AcceptField);
        parameters[Parameters.State] = "second";
        var second = await browser.GetAsync(OidcDriver.AuthorizeUrl(parameters));

        Assert.True(OidcDriver.CallbackParameters(answer).ContainsKey(Parameters.Code));
        Assert.Equal("second", OidcDriver.CallbackParameters(second)[Parameters.State]);
        Assert.True(OidcDriver.CallbackParameters(second).ContainsKey(Parameters.Code), clientId);
    }

    [PrerequisiteFact]
    public async Task Consent_Denied_SendsAccessDeniedToTheClient()
    {
        var (_, browser, page, parameters, _) = await ConsentPageAsync();

        var answer = await AnswerAsync(browser, page, AuthorizeEndpoint.DenyField);

        var callback = OidcDriver.CallbackParameters(answer);
        Assert.Equal(Errors.AccessDenied, callback[Parameters.Error]);
        Assert.Equal(parameters[Parameters.State], callback[Parameters.State]);
    }

    [PrerequisiteFact]
    public async Task Consent_AnswerWithoutAntiforgeryToken_IsRejectedWith400()
    {
        var (_, browser, page, _, _) = await ConsentPageAsync();

        var answer = await AnswerAsync(browser, page, AuthorizeEndpoint.AcceptField, withToken: false);

        Assert.Equal(HttpStatusCode.BadRequest, answer.StatusCode);
        Assert.Null(answer.Headers.Location);
    }

    [PrerequisiteFact]
    public async Task Consent_ExternalConsentClientWithoutGrant_IsConsentRequiredEvenWhenAllowIsPosted()
    {
        var clientId = await _rp.RegisterClientAsync(consent: ConsentTypes.External);
        var user = await _rp.CreateUserAsync();
        var browser = factory.CreateBrowserLikeClient();
        var parameters = OidcDriver.AuthorizeParameters(clientId, OidcDriver.NewPkce().Challenge);
        var first = await OidcDriver.AuthorizeAsync(browser, OidcDriver.AuthorizeUrl(parameters), user.UserName);
        var page = await browser.GetStringAsync("/account/applications");
        var fields = parameters.Where(p => p.Value is not null).Select(p => KeyValuePair.Create(p.Key, p.Value!)).ToList();
        fields.Add(KeyValuePair.Create(AuthorizeEndpoint.AcceptField, "yes"));
        fields.Add(KeyValuePair.Create("__RequestVerificationToken", BrowserSession.AntiforgeryToken(page)));

        var forced = await browser.PostAsync("/connect/authorize", new FormUrlEncodedContent(fields));

        OidcDriver.AssertRedirectedError(first, Errors.ConsentRequired);
        OidcDriver.AssertRedirectedError(forced, Errors.ConsentRequired);
    }

    [PrerequisiteFact]
    public async Task Authorize_PromptNoneWithoutConsent_IsConsentRequired()
    {
        var (_, browser, _, parameters, _) = await ConsentPageAsync();
        parameters[Parameters.Prompt] = PromptValues.None;

        var response = await browser.GetAsync(OidcDriver.AuthorizeUrl(parameters));

        OidcDriver.AssertRedirectedError(response, Errors.ConsentRequired);
    }

    [PrerequisiteFact]
    public async Task Applications_WithdrawConsent_RevokesTokensAndAsksAgain()
    {
        var (clientId, browser, page, parameters, verifier) = await ConsentPageAsync();
        var code = OidcDriver.CallbackParameters(await AnswerAsync(browser, page, AuthorizeEndpoint.AcceptField))[Parameters.Code];
        using var tokens = await OidcDriver.JsonAsync(await _rp.RedeemCodeAsync(clientId, code, verifier));
        var refresh = tokens.RootElement.GetProperty("refresh_token").GetString()!;

        var list = await browser.GetStringAsync("/account/applications");
        Assert.Contains("Test application " + clientId, list, StringComparison.Ordinal);
        var authorizationId = Regex.Match(list, "name=\"authorizationId\" value=\"([^\"]+)\"").Groups[1].Value;
        var withdraw = await browser.PostAsync("/account/applications?handler=Withdraw", new FormUrlEncodedContent(new Dictionary<string, string>
        {
            ["authorizationId"] = authorizationId,
            ["__RequestVerificationToken"] = BrowserSession.AntiforgeryToken(list),
        }));

        Assert.Equal(HttpStatusCode.OK, withdraw.StatusCode);
        Assert.DoesNotContain("Test application " + clientId, await withdraw.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        await OidcDriver.AssertErrorAsync(await _rp.RefreshAsync(clientId, refresh), Errors.InvalidGrant);
        var again = await browser.GetAsync(OidcDriver.AuthorizeUrl(parameters));
        Assert.Equal(HttpStatusCode.OK, again.StatusCode);
        Assert.Contains("See your email address", await again.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    [PrerequisiteFact]
    public async Task Applications_WithdrawSomeoneElsesConsent_IsNotFound()
    {
        var (_, browser, page, _, _) = await ConsentPageAsync();
        await AnswerAsync(browser, page, AuthorizeEndpoint.AcceptField);
        var authorizationId = Regex.Match(await browser.GetStringAsync("/account/applications"), "name=\"authorizationId\" value=\"([^\"]+)\"").Groups[1].Value;
        var intruder = factory.CreateBrowserLikeClient();
        var other = await _rp.CreateUserAsync();
        await BrowserSession.SignInAsync(intruder, other.UserName!, OidcDriver.Password);
        var list = await intruder.GetStringAsync("/account/applications");

        var withdraw = await intruder.PostAsync("/account/applications?handler=Withdraw", new FormUrlEncodedContent(new Dictionary<string, string>
        {
            ["authorizationId"] = authorizationId,
            ["__RequestVerificationToken"] = BrowserSession.AntiforgeryToken(list),
        }));

        Assert.Equal(HttpStatusCode.NotFound, withdraw.StatusCode);
    }
}

public sealed class SqliteConsentTests(SqliteFactory factory) : ConsentTests<SqliteFactory>(factory);

[Requires(Prerequisite.PostgreSql)]
public sealed class PostgreSqlConsentTests(PostgreSqlFactory factory) : ConsentTests<PostgreSqlFactory>(factory);
