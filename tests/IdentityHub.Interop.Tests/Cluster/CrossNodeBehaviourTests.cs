using System.Net;
using IdentityHub.Data.Directory;
using IdentityHub.Testing;
using Microsoft.AspNetCore.Identity;
using Microsoft.Extensions.DependencyInjection;

namespace IdentityHub.Interop.Tests.Cluster;

/// <summary>
/// Issue 19 point 5: what already worked across two nodes stays true. Two server processes A and B on one PostgreSQL
/// database, each called on its own port; every step names the node it runs on, and the state it relies on was made
/// on the other one. (The dispatcher's share of this, two nodes never delivering one user at once, is proved by
/// <see cref="Provisioning.PostgreSqlProvisioningProofTests.Dispatch_TwoServersOnOnePostgreSql_NeverDeliverOneUserTwiceAtOnce"/>.)
/// </summary>
[Requires(Prerequisite.PostgreSql)]
public sealed class CrossNodeBehaviourTests(CrossNodePair nodes) : IClassFixture<CrossNodePair>
{
    private const string InvalidCredentials = "The user name or password is incorrect.";

    [PrerequisiteFact]
    public async Task SignIn_FormFromAPostedToB_SignsInAndBsSessionOpensAsPages()
    {
        var user = await nodes.CreateUserAsync();
        using var browser = new NodeBrowser();
        using (var before = await browser.GetAsync(nodes.A, "/"))
        {
            Assert.Equal(HttpStatusCode.Redirect, before.StatusCode);
        }

        // The antiforgery cookie and token come from A; B can read them only with the key ring both keep in the database.
        using var signIn = await browser.SignInAsync(formFrom: nodes.A, postTo: nodes.B, user.UserName, CrossNodePair.Password);

        Assert.True(signIn.StatusCode == HttpStatusCode.Redirect, await signIn.Content.ReadAsStringAsync());
        Assert.Equal("/", signIn.Headers.Location!.OriginalString);
        using var home = await browser.GetAsync(nodes.A, "/");
        Assert.Equal(HttpStatusCode.OK, home.StatusCode);
        Assert.Contains($"Welcome, {user.DisplayName}", await home.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    [PrerequisiteFact]
    public async Task Code_IssuedByA_IsRedeemedAtBAndRefusedWhenRedeemedAgainAtA()
    {
        var (clientId, secret) = await nodes.RegisterClientAsync();
        using var browser = await SignedInAsync(nodes.A);
        var (code, verifier) = await AuthorizeAsync(browser, nodes.A, clientId);

        using var redeemed = await RedeemAsync(browser, nodes.B, clientId, secret, code, verifier);

        var tokens = await NodeBrowser.OkJsonAsync(redeemed);
        Assert.False(string.IsNullOrEmpty(tokens.GetProperty("access_token").GetString()));
        Assert.False(string.IsNullOrEmpty(tokens.GetProperty("id_token").GetString()));
        // RFC 6749 §4.1.2: a code is used once; B's redemption is in the database A reads.
        using var again = await RedeemAsync(browser, nodes.A, clientId, secret, code, verifier);
        Assert.Equal(HttpStatusCode.BadRequest, again.StatusCode);
        await NodeBrowser.AssertErrorAsync(again, "invalid_grant");
    }

    [PrerequisiteFact]
    public async Task Refresh_AsTokenUsedAtB_RotatesAndItsReuseAtARevokesTheFamily()
    {
        var (clientId, secret) = await nodes.RegisterClientAsync();
        using var browser = await SignedInAsync(nodes.A);
        var first = await TokensAsync(browser, nodes.A, clientId, secret);
        var oldRefresh = first.GetProperty("refresh_token").GetString()!;

        using var rotated = await RefreshAsync(browser, nodes.B, clientId, secret, oldRefresh);

        var second = await NodeBrowser.OkJsonAsync(rotated);
        var newRefresh = second.GetProperty("refresh_token").GetString()!;
        var newAccess = second.GetProperty("access_token").GetString()!;
        Assert.NotEqual(oldRefresh, newRefresh);
        Assert.True(await IsActiveAsync(browser, nodes.A, clientId, secret, newAccess), "A accepts the access token B issued.");
        // RFC 9700 §4.14.2 with no reuse leeway: the old token again means it leaked, so the whole family is revoked.
        using var reuse = await RefreshAsync(browser, nodes.A, clientId, secret, oldRefresh);
        await NodeBrowser.AssertErrorAsync(reuse, "invalid_grant");
        using var familyRefresh = await RefreshAsync(browser, nodes.B, clientId, secret, newRefresh);
        await NodeBrowser.AssertErrorAsync(familyRefresh, "invalid_grant");
        Assert.False(await IsActiveAsync(browser, nodes.B, clientId, secret, newAccess), "B no longer accepts the revoked family's access token.");
        Assert.False(await IsActiveAsync(browser, nodes.A, clientId, secret, first.GetProperty("access_token").GetString()!));
    }

    [PrerequisiteFact]
    public async Task Introspection_AtBOfAsAccessToken_IsActiveUntilRevokedAtA()
    {
        var (clientId, secret) = await nodes.RegisterClientAsync();
        var user = await nodes.CreateUserAsync();
        using var browser = new NodeBrowser();
        await SignInAsync(browser, nodes.A, user.UserName);
        var access = (await TokensAsync(browser, nodes.A, clientId, secret)).GetProperty("access_token").GetString()!;

        using var active = await IntrospectAsync(browser, nodes.B, clientId, secret, access);

        var claims = await NodeBrowser.OkJsonAsync(active);
        Assert.True(claims.GetProperty("active").GetBoolean(), claims.ToString());
        Assert.Equal(user.Id, claims.GetProperty("sub").GetString());
        Assert.Equal(clientId, claims.GetProperty("client_id").GetString());
        Assert.Equal(CrossNodePair.PublicIssuer, claims.GetProperty("iss").GetString());
        // RFC 7009 §2.2: revoked at A, the token's entry is revoked for every node.
        using (var revoked = await browser.ClientPostAsync(nodes.A, "/connect/revoke", clientId, secret, new() { ["token"] = access, ["token_type_hint"] = "access_token" }))
        {
            Assert.True(revoked.StatusCode == HttpStatusCode.OK, await revoked.Content.ReadAsStringAsync());
        }

        Assert.False(await IsActiveAsync(browser, nodes.B, clientId, secret, access), "B's introspection still says active after A revoked the token.");
    }

    [PrerequisiteFact]
    public async Task Par_RequestUriPushedAtA_IsAcceptedByBAndRefusedOnASecondUse()
    {
        var (clientId, secret) = await nodes.RegisterClientAsync();
        using var browser = await SignedInAsync(nodes.B);
        var (verifier, challenge) = NodeBrowser.NewPkce();
        using var pushed = await browser.ClientPostAsync(nodes.A, "/connect/par", clientId, secret, NodeBrowser.AuthorizeParameters(clientId, challenge));
        Assert.Equal(HttpStatusCode.Created, pushed.StatusCode);
        var requestUri = (await NodeBrowser.JsonAsync(pushed)).GetProperty("request_uri").GetString()!;
        var authorize = NodeBrowser.AuthorizePath(new Dictionary<string, string> { ["client_id"] = clientId, ["request_uri"] = requestUri });

        using var accepted = await browser.FollowAsync(nodes.B, authorize);

        var code = NodeBrowser.Callback(accepted)["code"];
        using (var redeemed = await RedeemAsync(browser, nodes.A, clientId, secret, code, verifier))
        {
            await NodeBrowser.OkJsonAsync(redeemed);
        }

        // RFC 9126 §4: a request_uri is used once; B's use is in the database A reads.
        using var again = await browser.FollowAsync(nodes.A, authorize);
        Assert.Equal(HttpStatusCode.BadRequest, again.StatusCode);
        Assert.Null(again.Headers.Location);
        Assert.Contains("data-testid=\"protocol-error\">invalid_request_uri<", await again.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    [PrerequisiteFact]
    public async Task Saml_AuthnRequestAcceptedAtA_IsRefusedAsReplayAtB()
    {
        using var sp = new CrossNodeServiceProvider();
        await nodes.RegisterServiceProviderAsync(sp);
        using var browser = await SignedInAsync(nodes.B);
        var request = sp.SignedAuthnRequestPath();
        using (var control = await browser.GetAsync(nodes.B, sp.SignedAuthnRequestPath()))
        {
            await AssertSamlResponseAsync(control, sp);
        }

        using (var accepted = await browser.GetAsync(nodes.A, request))
        {
            await AssertSamlResponseAsync(accepted, sp);
        }

        // SAML profiles §4.1.4.5: the request's ID is remembered in the database, so B knows A has seen it.
        using var replay = await browser.GetAsync(nodes.B, request);

        Assert.Equal(HttpStatusCode.BadRequest, replay.StatusCode);
        var page = await replay.Content.ReadAsStringAsync();
        Assert.Contains("id=\"saml-error\"", page, StringComparison.Ordinal);
        Assert.Contains("(replay)", page, StringComparison.Ordinal);
        Assert.DoesNotContain("SAMLResponse", page, StringComparison.Ordinal);
    }

    [PrerequisiteFact]
    public async Task Saml_LoginStartedAtAAndAnsweredAtB_ResumeLinkIsRefusedAgainAtA()
    {
        using var sp = new CrossNodeServiceProvider();
        await nodes.RegisterServiceProviderAsync(sp);
        var user = await nodes.CreateUserAsync();
        using var browser = new NodeBrowser();
        using var toLogin = await browser.GetAsync(nodes.A, sp.SignedAuthnRequestPath());
        Assert.Equal(HttpStatusCode.Redirect, toLogin.StatusCode);
        var login = NodeBrowser.OnNode(nodes.A, toLogin.Headers.Location!)!;
        Assert.StartsWith("/account/login?ReturnUrl=", login, StringComparison.Ordinal);
        var resume = Uri.UnescapeDataString(login["/account/login?ReturnUrl=".Length..]);
        using (var signIn = await browser.SignInAsync(formFrom: nodes.B, postTo: nodes.B, user.UserName, CrossNodePair.Password, resume))
        {
            Assert.Equal(HttpStatusCode.Redirect, signIn.StatusCode);
            Assert.Equal(resume, signIn.Headers.Location!.OriginalString);
        }

        // The pending login A protected is read by B (shared Data Protection keys) and answered there.
        using (var answered = await browser.GetAsync(nodes.B, resume))
        {
            await AssertSamlResponseAsync(answered, sp);
        }

        using var again = await browser.GetAsync(nodes.A, resume);

        Assert.Equal(HttpStatusCode.BadRequest, again.StatusCode);
        var page = await again.Content.ReadAsStringAsync();
        Assert.Contains("already answered", page, StringComparison.Ordinal);
        Assert.DoesNotContain("SAMLResponse", page, StringComparison.Ordinal);
    }

    [PrerequisiteFact]
    public async Task Lockout_WrongPasswordsSplitBetweenNodes_LockTheAccountOnBoth()
    {
        var user = await nodes.CreateUserAsync();
        using var browser = new NodeBrowser();
        for (var attempt = 1; attempt < CrossNodePair.MaxFailedAttempts; attempt++)
        {
            var node = attempt % 2 == 1 ? nodes.A : nodes.B;
            Assert.Contains(InvalidCredentials, await FailedSignInAsync(browser, node, user.UserName, "Wrong-Password-" + attempt), StringComparison.Ordinal);
        }

        var (failures, lockedUntil) = await LockoutStateAsync(user.Id);
        Assert.Equal(CrossNodePair.MaxFailedAttempts - 1, failures);
        Assert.Null(lockedUntil);

        // The last allowed failure lands on the node that did not see the one before: the count lives in the database.
        var last = CrossNodePair.MaxFailedAttempts % 2 == 1 ? nodes.A : nodes.B;
        Assert.Contains(InvalidCredentials, await FailedSignInAsync(browser, last, user.UserName, "Wrong-Password-last"), StringComparison.Ordinal);

        Assert.True((await LockoutStateAsync(user.Id)).LockedUntil > DateTimeOffset.UtcNow);
        foreach (var node in new[] { nodes.A, nodes.B })
        {
            // The right password no longer opens the account, on either node, and the answer does not say why.
            Assert.Contains(InvalidCredentials, await FailedSignInAsync(browser, node, user.UserName, CrossNodePair.Password), StringComparison.Ordinal);
        }
    }

    private async Task<NodeBrowser> SignedInAsync(ServerProcess node)
    {
        var user = await nodes.CreateUserAsync();
        var browser = new NodeBrowser();
        await SignInAsync(browser, node, user.UserName);
        return browser;
    }

    private static async Task SignInAsync(NodeBrowser browser, ServerProcess node, string userName)
    {
        using var signIn = await browser.SignInAsync(node, node, userName, CrossNodePair.Password);
        Assert.True(signIn.StatusCode == HttpStatusCode.Redirect, await signIn.Content.ReadAsStringAsync());
    }

    /// <summary>The sign-in page a refused attempt shows again (200, the form with its error).</summary>
    private static async Task<string> FailedSignInAsync(NodeBrowser browser, ServerProcess node, string userName, string password)
    {
        using var response = await browser.SignInAsync(node, node, userName, password);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return await response.Content.ReadAsStringAsync();
    }

    private Task<(int Failures, DateTimeOffset? LockedUntil)> LockoutStateAsync(string userId) => nodes.Database.RunAsync(async services =>
    {
        var user = (await services.GetRequiredService<UserManager<UserAccount>>().FindByIdAsync(userId))!;
        return (user.AccessFailedCount, user.LockoutEnd);
    });

    /// <summary>Authorization code + PKCE on <paramref name="node"/> for the browser's session; returns the code and its verifier.</summary>
    private static async Task<(string Code, string Verifier)> AuthorizeAsync(NodeBrowser browser, ServerProcess node, string clientId)
    {
        var (verifier, challenge) = NodeBrowser.NewPkce();
        using var response = await browser.FollowAsync(node, NodeBrowser.AuthorizePath(NodeBrowser.AuthorizeParameters(clientId, challenge)));
        var callback = NodeBrowser.Callback(response);
        Assert.True(callback.ContainsKey("code"), response.Headers.Location!.ToString());
        return (callback["code"], verifier);
    }

    /// <summary>A code authorized and redeemed on <paramref name="node"/>: the token response.</summary>
    private static async Task<System.Text.Json.JsonElement> TokensAsync(NodeBrowser browser, ServerProcess node, string clientId, string secret)
    {
        var (code, verifier) = await AuthorizeAsync(browser, node, clientId);
        using var response = await RedeemAsync(browser, node, clientId, secret, code, verifier);
        return await NodeBrowser.OkJsonAsync(response);
    }

    private static Task<HttpResponseMessage> RedeemAsync(NodeBrowser browser, ServerProcess node, string clientId, string secret, string code, string verifier) =>
        browser.ClientPostAsync(node, "/connect/token", clientId, secret, new()
        {
            ["grant_type"] = "authorization_code",
            ["code"] = code,
            ["redirect_uri"] = NodeBrowser.RedirectUri,
            ["code_verifier"] = verifier,
        });

    private static Task<HttpResponseMessage> RefreshAsync(NodeBrowser browser, ServerProcess node, string clientId, string secret, string refreshToken) =>
        browser.ClientPostAsync(node, "/connect/token", clientId, secret, new() { ["grant_type"] = "refresh_token", ["refresh_token"] = refreshToken });

    private static Task<HttpResponseMessage> IntrospectAsync(NodeBrowser browser, ServerProcess node, string clientId, string secret, string token) =>
        browser.ClientPostAsync(node, "/connect/introspect", clientId, secret, new() { ["token"] = token });

    private static async Task<bool> IsActiveAsync(NodeBrowser browser, ServerProcess node, string clientId, string secret, string token)
    {
        using var response = await IntrospectAsync(browser, node, clientId, secret, token);
        return (await NodeBrowser.OkJsonAsync(response)).GetProperty("active").GetBoolean();
    }

    /// <summary>Profiles §4.1.2.5: the IdP answers with an auto-posting form carrying a SAMLResponse to the SP's ACS.</summary>
    private static async Task AssertSamlResponseAsync(HttpResponseMessage response, CrossNodeServiceProvider sp)
    {
        var page = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, $"{(int)response.StatusCode}: {page}");
        Assert.Contains("name=\"SAMLResponse\"", page, StringComparison.Ordinal);
        Assert.Contains(WebUtility.HtmlEncode(sp.Acs), page, StringComparison.Ordinal);
    }
}
