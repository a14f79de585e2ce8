using System.Globalization;
using System.Net;
using System.Text;
using IdentityHub.Testing;
using Microsoft.Extensions.DependencyInjection;
using OpenIddict.Abstractions;
using static OpenIddict.Abstractions.OpenIddictConstants;

namespace IdentityHub.Server.IntegrationTests.Oidc;

/// <summary>RFC 9126 pushed authorization requests: the happy path, single use, expiry and the per-client requirement.</summary>
public abstract class PushedAuthorizationTests<TFactory>(TFactory factory) : IClassFixture<TFactory>
    where TFactory : IdentityHubFactory
{
    private readonly OidcDriver _rp = new(factory);

    private async Task<HttpResponseMessage> PushAsync(string clientId, Dictionary<string, string?> parameters, string? secret = OidcDriver.Secret)
    {
        var request = new HttpRequestMessage(HttpMethod.Post, "/connect/par")
        {
            Content = new FormUrlEncodedContent(parameters.Where(p => p.Value is not null).Select(p => KeyValuePair.Create(p.Key, p.Value!))),
        };
        if (secret is not null)
        {
            request.Headers.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue(
                "Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes($"{clientId}:{secret}")));
        }

        return await factory.CreateClient().SendAsync(request);
    }

    private async Task<(string RequestUri, string Verifier, int ExpiresIn)> PushedRequestUriAsync(string clientId)
    {
        var (verifier, challenge) = OidcDriver.NewPkce();
        var response = await PushAsync(clientId, OidcDriver.AuthorizeParameters(clientId, challenge));
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        using var body = await OidcDriver.JsonAsync(response);
        return (body.RootElement.GetProperty("request_uri").GetString()!, verifier, body.RootElement.GetProperty("expires_in").GetInt32());
    }

    private static string AuthorizeWithRequestUri(string clientId, string requestUri) =>
        OidcDriver.AuthorizeUrl(new Dictionary<string, string?> { [Parameters.ClientId] = clientId, [Parameters.RequestUri] = requestUri });

    [PrerequisiteFact]
    public async Task Par_ThenAuthorizeThroughTheLoginPage_IssuesACodeThatRedeems()
    {
        var clientId = await _rp.RegisterClientAsync(configure: d => d.Requirements.Add(Requirements.Features.PushedAuthorizationRequests));
        var user = await _rp.CreateUserAsync();
        var (requestUri, verifier, expiresIn) = await PushedRequestUriAsync(clientId);

        var response = await OidcDriver.AuthorizeAsync(factory.CreateBrowserLikeClient(), AuthorizeWithRequestUri(clientId, requestUri), user.UserName);

        Assert.StartsWith("urn:ietf:params:oauth:request_uri:", requestUri, StringComparison.Ordinal);
        Assert.InRange(expiresIn, 55, 60);
        var code = OidcDriver.CallbackParameters(response)[Parameters.Code];
        Assert.Equal(HttpStatusCode.OK, (await _rp.RedeemCodeAsync(clientId, code, verifier)).StatusCode);
    }

    [PrerequisiteFact]
    public async Task Par_RequestUriUsedTwice_SecondUseIsInvalidRequestUri()
    {
        var clientId = await _rp.RegisterClientAsync();
        var user = await _rp.CreateUserAsync();
        var (requestUri, _, _) = await PushedRequestUriAsync(clientId);
        var browser = factory.CreateBrowserLikeClient();
        OidcDriver.CallbackParameters(await OidcDriver.AuthorizeAsync(browser, AuthorizeWithRequestUri(clientId, requestUri), user.UserName));

        var again = await browser.GetAsync(AuthorizeWithRequestUri(clientId, requestUri));

        await OidcDriver.AssertErrorPageAsync(again, Errors.InvalidRequestUri);
    }

    [PrerequisiteFact]
    public async Task Par_RequestUriExpired_IsInvalidRequestUri()
    {
        var clientId = await _rp.RegisterClientAsync(configure: d =>
            d.Settings[Settings.TokenLifetimes.RequestToken] = TimeSpan.FromSeconds(1).ToString("c", CultureInfo.InvariantCulture));
        var user = await _rp.CreateUserAsync();
        var (requestUri, _, _) = await PushedRequestUriAsync(clientId);
        await Task.Delay(TimeSpan.FromSeconds(2.5));

        var response = await OidcDriver.AuthorizeAsync(factory.CreateBrowserLikeClient(), AuthorizeWithRequestUri(clientId, requestUri), user.UserName);

        await OidcDriver.AssertErrorPageAsync(response, Errors.InvalidRequestUri);
    }

    [PrerequisiteFact]
    public async Task Par_RequestUriOfAnotherClient_IsInvalidRequest()
    {
        var clientId = await _rp.RegisterClientAsync();
        var otherClientId = await _rp.RegisterClientAsync();
        var (requestUri, _, _) = await PushedRequestUriAsync(clientId);

        var response = await factory.CreateBrowserLikeClient().GetAsync(AuthorizeWithRequestUri(otherClientId, requestUri));

        await OidcDriver.AssertErrorPageAsync(response, Errors.InvalidRequest);
    }

    [PrerequisiteFact]
    public async Task Par_UnknownRequestUriWithRegisteredRedirectUri_ShowsErrorPageAndNeverRedirects()
    {
        // An unresolved reference leaves the real redirect_uri unknown; the one beside it in the query is not trusted.
        var clientId = await _rp.RegisterClientAsync();
        var parameters = new Dictionary<string, string?>
        {
            [Parameters.ClientId] = clientId,
            [Parameters.RequestUri] = "urn:ietf:params:oauth:request_uri:no-such-request",
            [Parameters.RedirectUri] = OidcDriver.RedirectUri,
            [Parameters.State] = "state-unknown-request-uri",
        };

        var response = await factory.CreateBrowserLikeClient().GetAsync(OidcDriver.AuthorizeUrl(parameters));

        await OidcDriver.AssertErrorPageAsync(response, Errors.InvalidRequestUri);
    }

    [PrerequisiteFact]
    public async Task Par_ClientDisabledAfterPush_RedirectsUnauthorizedClientToThePushedRedirectUri()
    {
        var clientId = await _rp.RegisterClientAsync();
        var pushed = OidcDriver.AuthorizeParameters(clientId, OidcDriver.NewPkce().Challenge);
        using var body = await OidcDriver.JsonAsync(await PushAsync(clientId, pushed));
        var requestUri = body.RootElement.GetProperty("request_uri").GetString()!;
        await WithdrawAuthorizationEndpointAsync(clientId);

        var response = await factory.CreateBrowserLikeClient().GetAsync(AuthorizeWithRequestUri(clientId, requestUri));

        OidcDriver.AssertErrorRedirect(response, Errors.UnauthorizedClient, pushed[Parameters.State]);
    }

    private async Task WithdrawAuthorizationEndpointAsync(string clientId)
    {
        await using var scope = factory.Services.CreateAsyncScope();
        var applications = scope.ServiceProvider.GetRequiredService<IOpenIddictApplicationManager>();
        var application = await applications.FindByClientIdAsync(clientId) ?? throw new InvalidOperationException("No such client.");
        var descriptor = new OpenIddictApplicationDescriptor();
        await applications.PopulateAsync(descriptor, application);
        descriptor.Permissions.Remove(Permissions.Endpoints.Authorization);
        await applications.UpdateAsync(application, descriptor);
    }

    [PrerequisiteFact]
    public async Task Par_PublicClientWithoutCodeChallenge_IsInvalidRequest()
    {
        var clientId = await _rp.RegisterClientAsync(confidential: false);
        var parameters = OidcDriver.AuthorizeParameters(clientId, "");
        parameters.Remove(Parameters.CodeChallenge);
        parameters.Remove(Parameters.CodeChallengeMethod);

        var response = await PushAsync(clientId, parameters, secret: null);

        await OidcDriver.AssertErrorAsync(response, Errors.InvalidRequest);
    }

    [PrerequisiteFact]
    public async Task Par_WrongClientSecret_IsInvalidClient()
    {
        var clientId = await _rp.RegisterClientAsync();

        var response = await PushAsync(clientId, OidcDriver.AuthorizeParameters(clientId, OidcDriver.NewPkce().Challenge), secret: "wrong");

        await OidcDriver.AssertErrorAsync(response, Errors.InvalidClient);
    }

    [PrerequisiteFact]
    public async Task Par_UnregisteredRedirectUri_IsInvalidRequest()
    {
        var clientId = await _rp.RegisterClientAsync();
        var parameters = OidcDriver.AuthorizeParameters(clientId, OidcDriver.NewPkce().Challenge);
        parameters[Parameters.RedirectUri] = "https://evil.example/callback";

        var response = await PushAsync(clientId, parameters);

        await OidcDriver.AssertErrorAsync(response, Errors.InvalidRequest);
    }
}

public sealed class SqlitePushedAuthorizationTests(SqliteFactory factory) : PushedAuthorizationTests<SqliteFactory>(factory);

[Requires(Prerequisite.PostgreSql)]
public sealed class PostgreSqlPushedAuthorizationTests(PostgreSqlFactory factory) : PushedAuthorizationTests<PostgreSqlFactory>(factory);
