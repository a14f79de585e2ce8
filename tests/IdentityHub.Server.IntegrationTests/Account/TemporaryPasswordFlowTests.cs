using System.Net;
using System.Net.Http.Json;
using System.Text.RegularExpressions;
using IdentityHub.Saml.Protocol;
using IdentityHub.Server.IntegrationTests.AdminApi;
using IdentityHub.Server.IntegrationTests.Oidc;
using IdentityHub.Server.IntegrationTests.Saml;
using IdentityHub.Testing;
using Microsoft.AspNetCore.WebUtilities;
using static OpenIddict.Abstractions.OpenIddictConstants;

namespace IdentityHub.Server.IntegrationTests.Account;

/// <summary>
/// A person with a temporary password who was on the way into an application (an OIDC authorize request, a SAML
/// AuthnRequest) changes it first, then lands in the application as if the change had not interrupted them.
/// </summary>
[Requires(Prerequisite.Xmlsec1)]
public sealed partial class TemporaryPasswordFlowTests(SqliteFactory factory) : IClassFixture<SqliteFactory>
{
    private const string Temporary = "Temporary-Password-1";
    private const string OwnPassword = "My-Own-Password-42";
    private const string PasswordChangePath = "/account/password/required";
    private readonly OidcDriver _rp = new(factory);
    private readonly IdpMessages _messages = new(factory);

    [PrerequisiteFact]
    public async Task OidcAuthorize_TemporaryPassword_ChangeThenRedirectsToTheClientWithACode()
    {
        var clientId = await _rp.RegisterClientAsync();
        var userName = await UserWithTemporaryPasswordAsync();
        var parameters = OidcDriver.AuthorizeParameters(clientId, OidcDriver.NewPkce().Challenge);
        using var browser = factory.CreateBrowserLikeClient();

        var login = await browser.GetAsync(OidcDriver.AuthorizeUrl(parameters));
        var callback = await SignInAndChangeAsync(browser, login, userName);

        var values = OidcDriver.CallbackParameters(callback);
        Assert.False(string.IsNullOrEmpty(values.GetValueOrDefault(Parameters.Code)), callback.Headers.Location?.ToString());
        Assert.Equal(parameters[Parameters.State], values.GetValueOrDefault(Parameters.State));
    }

    [PrerequisiteFact]
    public async Task SamlSpInitiated_TemporaryPassword_ChangeThenPostsTheResponseToTheAcs()
    {
        var sp = await new SamlTestSp().RegisterAsync(factory);
        var userName = await UserWithTemporaryPasswordAsync();
        var requestId = SamlXml.NewId();
        using var browser = factory.CreateBrowserLikeClient();

        var login = await browser.GetAsync(sp.RedirectUrl(SamlTestSp.Sso, sp.AuthnRequest(requestId), relayState: "after-change"));
        var autoPost = await SignInAndChangeAsync(browser, login, userName);

        var post = await _messages.ReadPostAsync(autoPost);
        Assert.Equal(sp.Acs, post.Action.AbsoluteUri);
        Assert.Equal("after-change", post.RelayState);
        SamlAssert.ValidResponse(post, sp, requestId);
    }

    /// <summary>A user whose password an administrator set through the admin API with "must change at next sign-in".</summary>
    private async Task<string> UserWithTemporaryPasswordAsync()
    {
        var user = await _rp.CreateUserAsync();
        using var admin = await AdminApiClient.CreateAdminAsync(factory);
        var set = await admin.PostAsJsonAsync($"/api/admin/v1/users/{user.Id}/password", new { password = Temporary, mustChange = true });
        Assert.Equal(HttpStatusCode.NoContent, set.StatusCode);
        return user.UserName!;
    }

    /// <summary>
    /// From the redirect to the login page: signs in with the temporary password, is sent to the change page, changes it
    /// through the page's own form (its ReturnUrl included) and follows the redirects while they stay on the server.
    /// </summary>
    private static async Task<HttpResponseMessage> SignInAndChangeAsync(HttpClient browser, HttpResponseMessage login, string userName)
    {
        Assert.Equal(HttpStatusCode.Redirect, login.StatusCode);
        var loginUrl = Absolute(login.Headers.Location!);
        Assert.Equal("/account/login", loginUrl.AbsolutePath);
        var signIn = await BrowserSession.SignInAsync(browser, userName, Temporary, QueryHelpers.ParseQuery(loginUrl.Query)["ReturnUrl"].ToString());
        Assert.Equal(HttpStatusCode.Redirect, signIn.StatusCode);

        var response = await FollowAsync(browser, signIn);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(PasswordChangePath, response.RequestMessage!.RequestUri!.AbsolutePath);
        var form = await response.Content.ReadAsStringAsync();
        var returnUrl = WebUtility.HtmlDecode(ReturnUrlField().Match(form).Groups[1].Value);
        Assert.False(string.IsNullOrEmpty(returnUrl), "The change page carries no ReturnUrl: " + form);

        var changed = await browser.PostAsync(PasswordChangePath, new FormUrlEncodedContent(new Dictionary<string, string>
        {
            ["ReturnUrl"] = returnUrl,
            ["Input.CurrentPassword"] = Temporary,
            ["Input.NewPassword"] = OwnPassword,
            ["Input.Confirm"] = OwnPassword,
            ["__RequestVerificationToken"] = BrowserSession.AntiforgeryToken(form),
        }));
        Assert.Equal(HttpStatusCode.Redirect, changed.StatusCode);
        return await FollowAsync(browser, changed);
    }

    /// <summary>Follows GET redirects on the server (at most 5); returns the first answer that is not one, or leaves it.</summary>
    private static async Task<HttpResponseMessage> FollowAsync(HttpClient browser, HttpResponseMessage response)
    {
        for (var hop = 0; hop < 5 && response.StatusCode == HttpStatusCode.Redirect; hop++)
        {
            var target = Absolute(response.Headers.Location!);
            if (target.Host != "localhost")
            {
                return response;
            }

            response = await browser.GetAsync(target.PathAndQuery);
        }

        return response;
    }

    private static Uri Absolute(Uri location) => location.IsAbsoluteUri ? location : new Uri(new Uri(SamlTestSp.IdpBase), location);

    [GeneratedRegex("name=\"ReturnUrl\" value=\"([^\"]*)\"")]
    private static partial Regex ReturnUrlField();
}
