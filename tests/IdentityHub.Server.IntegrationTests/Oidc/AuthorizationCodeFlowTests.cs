using System.Net;
using System.Net.Http.Headers;
using IdentityHub.Data.Directory;
using IdentityHub.Testing;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.IdentityModel.JsonWebTokens;
using static OpenIddict.Abstractions.OpenIddictConstants;

namespace IdentityHub.Server.IntegrationTests.Oidc;

/// <summary>Authorization code + PKCE through the real login page, tokens, claims, userinfo and refresh rotation.</summary>
public abstract class AuthorizationCodeFlowTests<TFactory>(TFactory factory) : IClassFixture<TFactory>
    where TFactory : IdentityHubFactory
{
    private readonly OidcDriver _rp = new(factory);

    [PrerequisiteFact]
    public async Task Authorize_Anonymous_RedirectsToTheLoginPageWithTheRequestAsReturnUrl()
    {
        var clientId = await _rp.RegisterClientAsync();
        var url = OidcDriver.AuthorizeUrl(OidcDriver.AuthorizeParameters(clientId, OidcDriver.NewPkce().Challenge));

        var response = await factory.CreateBrowserLikeClient().GetAsync(url);

        Assert.Equal(HttpStatusCode.Redirect, response.StatusCode);
        Assert.StartsWith("/account/login?ReturnUrl=%2Fconnect%2Fauthorize%3F", response.Headers.Location!.OriginalString, StringComparison.Ordinal);
    }

    [PrerequisiteFact]
    public async Task Authorize_MaxAgeZeroWithASession_AsksForTheLoginOnceThenIssuesACode()
    {
        var clientId = await _rp.RegisterClientAsync();
        var (_, _, browser, user) = await _rp.ObtainCodeAsync(clientId);
        var parameters = OidcDriver.AuthorizeParameters(clientId, OidcDriver.NewPkce().Challenge);
        parameters[Parameters.MaxAge] = "0";

        var response = await OidcDriver.AuthorizeAsync(browser, OidcDriver.AuthorizeUrl(parameters), user.UserName);

        // OpenID Connect Core §3.1.2.1: max_age=0 means a fresh login, after which the code is issued.
        Assert.True(OidcDriver.CallbackParameters(response).ContainsKey(Parameters.Code));
    }

    [PrerequisiteFact]
    public async Task CodeFlow_ConfidentialClient_IssuesIdAndAccessTokensWithScopedClaims()
    {
        var clientId = await _rp.RegisterClientAsync();
        var (code, verifier, _, user) = await _rp.ObtainCodeAsync(clientId, "openid profile email employee offline_access", nonce: "nonce-abc");

        var response = await _rp.RedeemCodeAsync(clientId, code, verifier);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        using var body = await OidcDriver.JsonAsync(response);
        var idToken = new JsonWebToken(body.RootElement.GetProperty("id_token").GetString());
        Assert.Equal(user.Id, idToken.Subject);
        Assert.Equal([clientId], idToken.Audiences);
        Assert.Equal("nonce-abc", idToken.GetClaim("nonce").Value);
        Assert.Equal("Test Person", idToken.GetClaim("name").Value);
        Assert.Equal(user.UserName, idToken.GetClaim("preferred_username").Value);
        Assert.Equal("person@example.com", idToken.GetClaim("email").Value);
        Assert.Equal("true", idToken.GetClaim("email_verified").Value);
        Assert.Equal(user.EmployeeNumber, idToken.GetClaim("employee_number").Value);
        Assert.False(string.IsNullOrEmpty(idToken.GetClaim("sid").Value));
        Assert.True(idToken.TryGetClaim("auth_time", out _));
        Assert.False(idToken.TryGetClaim("roles", out _), "roles go to the ID token only with the roles scope");
        var accessToken = new JsonWebToken(body.RootElement.GetProperty("access_token").GetString());
        Assert.Equal("at+jwt", accessToken.Typ);
        Assert.Equal([clientId], accessToken.Audiences);
        Assert.Equal(user.Id, accessToken.Subject);
        Assert.True(accessToken.TryGetPayloadValue<string[]>("roles", out var roles) && roles.Length == 0);
        Assert.True(accessToken.TryGetPayloadValue<string[]>("permissions", out _));
        Assert.False(accessToken.TryGetClaim("email", out _));
        Assert.True(body.RootElement.TryGetProperty("refresh_token", out _));
    }

    [PrerequisiteFact]
    public async Task CodeFlow_RolesScope_PutsRolesAndPermissionsArraysInTheIdToken()
    {
        var clientId = await _rp.RegisterClientAsync();
        var user = await _rp.CreateUserAsync();
        await _rp.GrantApplicationRoleAsync(user, clientId, "expense-approver");
        var (code, verifier, _, _) = await _rp.ObtainCodeAsync(clientId, "openid roles", user: user);

        using var body = await OidcDriver.JsonAsync(await _rp.RedeemCodeAsync(clientId, code, verifier));

        var idToken = new JsonWebToken(body.RootElement.GetProperty("id_token").GetString());
        Assert.True(idToken.TryGetPayloadValue<string[]>("roles", out var roles), System.Text.Encoding.UTF8.GetString(Microsoft.IdentityModel.Tokens.Base64UrlEncoder.DecodeBytes(idToken.EncodedPayload)));
        Assert.Equal(["expense-approver"], roles);
        Assert.True(idToken.TryGetPayloadValue<string[]>("permissions", out var permissions));
        Assert.Equal(["expense-approver.act"], permissions);
        Assert.False(idToken.TryGetClaim("name", out _), "no profile scope, no name");
    }

    [PrerequisiteFact]
    public async Task CodeFlow_PublicClientWithPkce_IssuesTokensWithoutSecret()
    {
        var clientId = await _rp.RegisterClientAsync(confidential: false);
        var (code, verifier, _, _) = await _rp.ObtainCodeAsync(clientId);

        var response = await _rp.RedeemCodeAsync(clientId, code, verifier, secret: null);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    [PrerequisiteFact]
    public async Task CodeFlow_ConfidentialClientWithoutPkceRequirement_MayOmitPkce()
    {
        var clientId = await _rp.RegisterClientAsync();
        var user = await _rp.CreateUserAsync();
        var parameters = OidcDriver.AuthorizeParameters(clientId, "");
        parameters.Remove(Parameters.CodeChallenge);
        parameters.Remove(Parameters.CodeChallengeMethod);
        var callback = OidcDriver.CallbackParameters(await OidcDriver.AuthorizeAsync(factory.CreateBrowserLikeClient(), OidcDriver.AuthorizeUrl(parameters), user.UserName));

        var response = await _rp.RedeemCodeAsync(clientId, callback[Parameters.Code], verifier: null);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    [PrerequisiteFact]
    public async Task Authorize_Success_EchoesStateAndIssuer()
    {
        var clientId = await _rp.RegisterClientAsync();
        var user = await _rp.CreateUserAsync();
        var parameters = OidcDriver.AuthorizeParameters(clientId, OidcDriver.NewPkce().Challenge);

        var callback = OidcDriver.CallbackParameters(await OidcDriver.AuthorizeAsync(factory.CreateBrowserLikeClient(), OidcDriver.AuthorizeUrl(parameters), user.UserName));

        Assert.Equal(parameters[Parameters.State], callback[Parameters.State]);
        Assert.Equal("http://localhost/", callback[Parameters.Iss]);
    }

    [PrerequisiteFact]
    public async Task Authorize_Post_IsAcceptedLikeGet()
    {
        var clientId = await _rp.RegisterClientAsync();
        var user = await _rp.CreateUserAsync();
        var browser = factory.CreateBrowserLikeClient();
        await BrowserSession.SignInAsync(browser, user.UserName!, OidcDriver.Password);

        var response = await browser.PostAsync("/connect/authorize", new FormUrlEncodedContent(OidcDriver.AuthorizeParameters(clientId, OidcDriver.NewPkce().Challenge)!));

        Assert.True(OidcDriver.CallbackParameters(response).ContainsKey(Parameters.Code));
    }

    [PrerequisiteFact]
    public async Task Authorize_PromptNoneWithoutSession_ReturnsLoginRequired()
    {
        var clientId = await _rp.RegisterClientAsync();
        var parameters = OidcDriver.AuthorizeParameters(clientId, OidcDriver.NewPkce().Challenge);
        parameters[Parameters.Prompt] = PromptValues.None;

        var response = await factory.CreateBrowserLikeClient().GetAsync(OidcDriver.AuthorizeUrl(parameters));

        Assert.Equal(Errors.LoginRequired, OidcDriver.CallbackParameters(response)[Parameters.Error]);
    }

    [PrerequisiteFact]
    public async Task Authorize_PromptLoginWithSession_AsksForTheLoginAgainThenIssuesACode()
    {
        var clientId = await _rp.RegisterClientAsync();
        var user = await _rp.CreateUserAsync();
        var browser = factory.CreateBrowserLikeClient();
        await BrowserSession.SignInAsync(browser, user.UserName!, OidcDriver.Password);
        var parameters = OidcDriver.AuthorizeParameters(clientId, OidcDriver.NewPkce().Challenge);
        parameters[Parameters.Prompt] = PromptValues.Login;

        var first = await browser.GetAsync(OidcDriver.AuthorizeUrl(parameters));
        var final = await OidcDriver.AuthorizeAsync(browser, OidcDriver.AuthorizeUrl(parameters), user.UserName);

        Assert.StartsWith("/account/login", first.Headers.Location!.OriginalString, StringComparison.Ordinal);
        Assert.True(OidcDriver.CallbackParameters(final).ContainsKey(Parameters.Code));
    }

    [PrerequisiteFact]
    public async Task Authorize_MaxAgeZeroWithSession_AsksForTheLoginAgain()
    {
        var clientId = await _rp.RegisterClientAsync();
        var user = await _rp.CreateUserAsync();
        var browser = factory.CreateBrowserLikeClient();
        await BrowserSession.SignInAsync(browser, user.UserName!, OidcDriver.Password);
        await Task.Delay(1100);
        var parameters = OidcDriver.AuthorizeParameters(clientId, OidcDriver.NewPkce().Challenge);
        parameters[Parameters.MaxAge] = "0";

        var response = await browser.GetAsync(OidcDriver.AuthorizeUrl(parameters));

        Assert.StartsWith("/account/login", response.Headers.Location!.OriginalString, StringComparison.Ordinal);
    }

    [PrerequisiteFact]
    public async Task UserInfo_GetAndPost_ReturnTheClaimsOfTheScopes()
    {
        var clientId = await _rp.RegisterClientAsync();
        var (code, verifier, _, user) = await _rp.ObtainCodeAsync(clientId, "openid email");
        using var tokens = await OidcDriver.JsonAsync(await _rp.RedeemCodeAsync(clientId, code, verifier));
        var accessToken = tokens.RootElement.GetProperty("access_token").GetString();
        var client = factory.CreateClient();

        foreach (var method in new[] { HttpMethod.Get, HttpMethod.Post })
        {
            var request = new HttpRequestMessage(method, "/connect/userinfo");
            if (method == HttpMethod.Post)
            {
                request.Content = new FormUrlEncodedContent([]);
            }

            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", accessToken);
            var response = await client.SendAsync(request);

            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            using var info = await OidcDriver.JsonAsync(response);
            Assert.Equal(user.Id, info.RootElement.GetProperty("sub").GetString());
            Assert.Equal("person@example.com", info.RootElement.GetProperty("email").GetString());
            Assert.True(info.RootElement.GetProperty("email_verified").GetBoolean());
            Assert.False(info.RootElement.TryGetProperty("name", out _));
        }
    }

    [PrerequisiteFact]
    public async Task Discovery_ClaimsSupported_ListsEveryClaimOfARealIdTokenAndUserInfo()
    {
        var clientId = await _rp.RegisterClientAsync();
        var departmentId = await _rp.CreateDepartmentAsync("Audit");
        var user = await _rp.CreateUserAsync(configure: u => u.DepartmentId = departmentId);
        await _rp.GrantApplicationRoleAsync(user, clientId, "expense-submitter");
        var (code, verifier, _, _) = await _rp.ObtainCodeAsync(clientId, "openid profile email roles employee", user: user);
        using var tokens = await OidcDriver.JsonAsync(await _rp.RedeemCodeAsync(clientId, code, verifier));
        var request = new HttpRequestMessage(HttpMethod.Get, "/connect/userinfo");
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", tokens.RootElement.GetProperty("access_token").GetString());
        using var info = await OidcDriver.JsonAsync(await factory.CreateClient().SendAsync(request));

        using var discovery = System.Text.Json.JsonDocument.Parse(await factory.CreateClient().GetStringAsync("/.well-known/openid-configuration"));

        var supported = discovery.RootElement.GetProperty("claims_supported").EnumerateArray().Select(c => c.GetString()).ToHashSet();
        var carried = new JsonWebToken(tokens.RootElement.GetProperty("id_token").GetString()).Claims.Select(c => c.Type)
            .Concat(info.RootElement.EnumerateObject().Select(p => p.Name)).ToHashSet();
        Assert.Superset(new HashSet<string>(["sub", "name", "preferred_username", "email", "email_verified", "department", "employee_number", "roles", "permissions"]), carried);
        // oi_* are OpenIddict's private claims (token and authorization ids), not user claims to advertise.
        var unlisted = carried.Where(claim => !supported.Contains(claim) && !claim.StartsWith("oi_", StringComparison.Ordinal)).ToList();
        Assert.True(unlisted.Count == 0, "not in claims_supported: " + string.Join(", ", unlisted));
    }

    [PrerequisiteFact]
    public async Task UserInfo_RolesAndEmployeeScopes_ReturnRolesDepartmentAndEmployeeNumber()
    {
        var clientId = await _rp.RegisterClientAsync();
        var departmentId = await _rp.CreateDepartmentAsync("Finance");
        var user = await _rp.CreateUserAsync(configure: u => u.DepartmentId = departmentId);
        await _rp.GrantApplicationRoleAsync(user, clientId, "expense-submitter");
        var (code, verifier, _, _) = await _rp.ObtainCodeAsync(clientId, "openid roles employee", user: user);
        using var tokens = await OidcDriver.JsonAsync(await _rp.RedeemCodeAsync(clientId, code, verifier));
        var request = new HttpRequestMessage(HttpMethod.Get, "/connect/userinfo");
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", tokens.RootElement.GetProperty("access_token").GetString());

        var response = await factory.CreateClient().SendAsync(request);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        using var info = await OidcDriver.JsonAsync(response);
        Assert.Equal(["expense-submitter"], info.RootElement.GetProperty("roles").EnumerateArray().Select(r => r.GetString()));
        Assert.Equal(System.Text.Json.JsonValueKind.Array, info.RootElement.GetProperty("permissions").ValueKind);
        Assert.Equal("Finance", info.RootElement.GetProperty("department").GetString());
        Assert.Equal(user.EmployeeNumber, info.RootElement.GetProperty("employee_number").GetString());
        var idToken = new JsonWebToken(tokens.RootElement.GetProperty("id_token").GetString());
        Assert.Equal("Finance", idToken.GetClaim("department").Value);
    }

    [PrerequisiteFact]
    public async Task Refresh_Rotates_TheNewTokenWorksAndTheOldOneNoLonger()
    {
        var clientId = await _rp.RegisterClientAsync();
        var (code, verifier, _, _) = await _rp.ObtainCodeAsync(clientId, "openid offline_access");
        using var first = await OidcDriver.JsonAsync(await _rp.RedeemCodeAsync(clientId, code, verifier));
        var refresh1 = first.RootElement.GetProperty("refresh_token").GetString()!;

        var second = await _rp.RefreshAsync(clientId, refresh1);
        Assert.Equal(HttpStatusCode.OK, second.StatusCode);
        using var secondBody = await OidcDriver.JsonAsync(second);
        var refresh2 = secondBody.RootElement.GetProperty("refresh_token").GetString()!;

        Assert.NotEqual(refresh1, refresh2);
        Assert.Equal(HttpStatusCode.OK, (await _rp.RefreshAsync(clientId, refresh2)).StatusCode);
    }

    [PrerequisiteFact]
    public async Task Refresh_RoleGrantedSince_ShowsInTheNewAccessToken()
    {
        var clientId = await _rp.RegisterClientAsync();
        var (code, verifier, _, user) = await _rp.ObtainCodeAsync(clientId, "openid offline_access");
        using var tokens = await OidcDriver.JsonAsync(await _rp.RedeemCodeAsync(clientId, code, verifier));
        await _rp.GrantApplicationRoleAsync(user, clientId, "attendance-approver");

        using var refreshed = await OidcDriver.JsonAsync(await _rp.RefreshAsync(clientId, tokens.RootElement.GetProperty("refresh_token").GetString()!));

        var before = new JsonWebToken(tokens.RootElement.GetProperty("access_token").GetString());
        var after = new JsonWebToken(refreshed.RootElement.GetProperty("access_token").GetString());
        Assert.True(before.TryGetPayloadValue<string[]>("roles", out var oldRoles) && oldRoles.Length == 0);
        Assert.True(after.TryGetPayloadValue<string[]>("roles", out var newRoles));
        Assert.Equal(["attendance-approver"], newRoles);
    }

    [PrerequisiteFact]
    public async Task Refresh_UserSuspendedSince_IsInvalidGrant()
    {
        var clientId = await _rp.RegisterClientAsync();
        var (code, verifier, _, user) = await _rp.ObtainCodeAsync(clientId, "openid offline_access");
        using var tokens = await OidcDriver.JsonAsync(await _rp.RedeemCodeAsync(clientId, code, verifier));
        await _rp.SetStatusAsync(user.Id, UserStatus.Suspended);

        var response = await _rp.RefreshAsync(clientId, tokens.RootElement.GetProperty("refresh_token").GetString()!);

        await OidcDriver.AssertErrorAsync(response, Errors.InvalidGrant);
    }

    [PrerequisiteFact]
    public async Task Refresh_RoleInTheApplicationEndedSince_IsInvalidGrant()
    {
        var clientId = await _rp.RegisterClientAsync();
        var user = await _rp.CreateUserAsync();
        await _rp.GrantApplicationRoleAsync(user, clientId, "expense-approver");
        var (code, verifier, _, _) = await _rp.ObtainCodeAsync(clientId, "openid offline_access", user: user);
        using var tokens = await OidcDriver.JsonAsync(await _rp.RedeemCodeAsync(clientId, code, verifier));

        await using (var scope = factory.Services.CreateAsyncScope())
        {
            var db = scope.ServiceProvider.GetRequiredService<IdentityHub.Data.IdentityHubDbContext>();
            var assignment = await db.RoleAssignments.SingleAsync(a => a.UserId == user.Id);
            await scope.ServiceProvider.GetRequiredService<IdentityHub.Core.Access.RoleAssignments>().EndAsync(assignment.Id, "moved on", CancellationToken.None);
        }

        var response = await _rp.RefreshAsync(clientId, tokens.RootElement.GetProperty("refresh_token").GetString()!);

        await OidcDriver.AssertErrorAsync(response, Errors.InvalidGrant);
    }

    [PrerequisiteFact]
    public async Task CodeFlow_UserIsAlsoAnAdministrator_AdminRolesStayOutOfTheApplicationsRoles()
    {
        var clientId = await _rp.RegisterClientAsync();
        var user = await _rp.CreateUserAsync();
        await _rp.AddRoleAsync(user, IdentityHub.Core.Directory.AdminRoles.SecurityAdmin);
        await _rp.GrantApplicationRoleAsync(user, clientId, "expense-approver");
        var (code, verifier, _, _) = await _rp.ObtainCodeAsync(clientId, "openid roles", user: user);

        using var body = await OidcDriver.JsonAsync(await _rp.RedeemCodeAsync(clientId, code, verifier));

        var access = new JsonWebToken(body.RootElement.GetProperty("access_token").GetString());
        Assert.True(access.TryGetPayloadValue<string[]>("roles", out var roles));
        Assert.Equal(["expense-approver"], roles);
    }

    [PrerequisiteFact]
    public async Task Revocation_RefreshToken_CannotBeUsedAfterwards()
    {
        var clientId = await _rp.RegisterClientAsync();
        var (code, verifier, _, _) = await _rp.ObtainCodeAsync(clientId, "openid offline_access");
        using var tokens = await OidcDriver.JsonAsync(await _rp.RedeemCodeAsync(clientId, code, verifier));
        var refresh = tokens.RootElement.GetProperty("refresh_token").GetString()!;

        var revoke = await _rp.TokenEndpointLikeAsync("/connect/revoke", clientId, new() { [Parameters.Token] = refresh });

        Assert.Equal(HttpStatusCode.OK, revoke.StatusCode);
        await OidcDriver.AssertErrorAsync(await _rp.RefreshAsync(clientId, refresh), Errors.InvalidGrant);
        await using var scope = factory.Services.CreateAsyncScope();
        var audit = await scope.ServiceProvider.GetRequiredService<IdentityHub.Data.IdentityHubDbContext>().AuditEvents
            .SingleAsync(e => e.Type == "token.revoked" && e.TargetId == clientId);
        Assert.Equal(clientId, audit.ActorId);
        Assert.DoesNotContain(refresh, audit.After!, StringComparison.Ordinal);
    }

    [PrerequisiteFact]
    public async Task Discovery_Served_AdvertisesParAndBackchannelLogout()
    {
        using var discovery = await OidcDriver.JsonAsync(await factory.CreateClient().GetAsync("/.well-known/openid-configuration"));
        var root = discovery.RootElement;

        Assert.Equal("http://localhost/connect/par", root.GetProperty("pushed_authorization_request_endpoint").GetString());
        Assert.Equal("http://localhost/connect/userinfo", root.GetProperty("userinfo_endpoint").GetString());
        Assert.True(root.GetProperty("backchannel_logout_supported").GetBoolean());
        Assert.True(root.GetProperty("backchannel_logout_session_supported").GetBoolean());
    }
}

public sealed class SqliteAuthorizationCodeFlowTests(SqliteFactory factory) : AuthorizationCodeFlowTests<SqliteFactory>(factory);

[Requires(Prerequisite.PostgreSql)]
public sealed class PostgreSqlAuthorizationCodeFlowTests(PostgreSqlFactory factory) : AuthorizationCodeFlowTests<PostgreSqlFactory>(factory);
