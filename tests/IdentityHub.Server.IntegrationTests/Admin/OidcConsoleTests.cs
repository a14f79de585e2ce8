using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using System.Text.RegularExpressions;
using IdentityHub.Core.Access;
using IdentityHub.Server.IntegrationTests.AdminApi;
using IdentityHub.Testing;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using OpenIddict.EntityFrameworkCore.Models;

namespace IdentityHub.Server.IntegrationTests.Admin;

/// <summary>
/// The OIDC section of the console's application page, posted as a browser posts it (form fields and the antiforgery
/// token): a client registered with its secret shown once, refusals that are the admin API's, stale forms refused with
/// an explanation, the secret rotated and the client switched off and deleted after a confirmation.
/// </summary>
public abstract partial class OidcConsoleTests<TFactory>(TFactory factory) : IClassFixture<TFactory>
    where TFactory : IdentityHubFactory
{
    private static readonly string[] CodeFlow = ["authorization_code"];
    private static readonly string[] OpenIdOnly = ["openid"];
    private static readonly string[] ClientCredentials = ["client_credentials"];

    [PrerequisiteFact]
    public async Task OidcForm_ConfidentialWebClient_IsRegisteredAndItsSecretShownOnThisResponseOnly()
    {
        using var admin = await AdminApiClient.CreateAdminAsync(factory);
        var id = await AdminApiClient.CreateApplicationAsync(admin);
        var browser = await SignedInAdminAsync();
        var page = await browser.GetStringAsync(PageOf(id));
        Assert.Contains("data-testid=\"oidc-none\"", page, StringComparison.Ordinal);
        Assert.Contains("http://localhost/.well-known/openid-configuration", page, StringComparison.Ordinal);

        var registered = await browser.PostAsync($"{PageOf(id)}?handler=oidc", new FormUrlEncodedContent(WebClientForm(page)));

        Assert.Equal(HttpStatusCode.OK, registered.StatusCode);
        Assert.True(registered.Headers.CacheControl?.NoStore, "A page that shows a secret must not be stored by the browser.");
        var html = await registered.Content.ReadAsStringAsync();
        var secret = ShownSecret(html);
        var client = await admin.GetFromJsonAsync<JsonElement>($"{AdminApiClient.Applications}/{id}/oidc");
        var clientId = client.GetProperty("clientId").GetString()!;
        Assert.Contains($"<code data-testid=\"oidc-client-id\">{clientId}</code>", html, StringComparison.Ordinal);
        Assert.Equal(["https://expense.example.com/signin-oidc"], client.GetProperty("redirectUris").EnumerateArray().Select(u => u.GetString()));
        Assert.Equal(["authorization_code"], client.GetProperty("grantTypes").EnumerateArray().Select(g => g.GetString()));
        Assert.Equal(ClientSecrets.Hash(secret), await StoredSecretAsync(clientId));
        var later = await browser.GetStringAsync(PageOf(id));
        Assert.DoesNotContain(secret, later, StringComparison.Ordinal);
        Assert.DoesNotContain("data-testid=\"oidc-secret\"", later, StringComparison.Ordinal);
        Assert.Contains("http://localhost/connect/token", later, StringComparison.Ordinal);
    }

    [PrerequisiteFact]
    public async Task OidcForm_ChangedLater_KeepsTheSecretAndShowsNone()
    {
        using var admin = await AdminApiClient.CreateAdminAsync(factory);
        var id = await AdminApiClient.CreateApplicationAsync(admin);
        var browser = await SignedInAdminAsync();
        var page = await browser.GetStringAsync(PageOf(id));
        var secret = ShownSecret(await (await browser.PostAsync($"{PageOf(id)}?handler=oidc", new FormUrlEncodedContent(WebClientForm(page)))).Content.ReadAsStringAsync());
        page = await browser.GetStringAsync(PageOf(id));
        var form = WebClientForm(page);
        form["OidcEdit.AccessTokenLifetimeSeconds"] = "600";

        var saved = await browser.PostAsync($"{PageOf(id)}?handler=oidc", new FormUrlEncodedContent(form));

        Assert.Equal(HttpStatusCode.Redirect, saved.StatusCode);
        var client = await admin.GetFromJsonAsync<JsonElement>($"{AdminApiClient.Applications}/{id}/oidc");
        Assert.Equal(600, client.GetProperty("accessTokenLifetimeSeconds").GetInt32());
        Assert.Equal(ClientSecrets.Hash(secret), await StoredSecretAsync(client.GetProperty("clientId").GetString()!));
        Assert.DoesNotContain("data-testid=\"oidc-secret\"", await browser.GetStringAsync(PageOf(id)), StringComparison.Ordinal);
    }

    /// <summary>One set of rules: the console's form and the admin API refuse the same bad redirect URI on the same field with the same words.</summary>
    [PrerequisiteTheory]
    [InlineData("https://expense.example.com/signin-oidc#done")]
    [InlineData("http://expense.example.com/signin-oidc")]
    [InlineData("https://*.example.com/signin-oidc")]
    [InlineData("/signin-oidc")]
    public async Task OidcForm_BadRedirectUri_IsRefusedLikeTheApiOnTheSameFieldWithTheSameMessage(string redirectUri)
    {
        using var admin = await AdminApiClient.CreateAdminAsync(factory);
        var apiApplication = await AdminApiClient.CreateApplicationAsync(admin);
        var consoleApplication = await AdminApiClient.CreateApplicationAsync(admin);
        var browser = await SignedInAdminAsync();
        var page = await browser.GetStringAsync(PageOf(consoleApplication));
        var form = WebClientForm(page);
        form["OidcEdit.RedirectUris"] = redirectUri;

        var api = await admin.PutAsJsonAsync($"{AdminApiClient.Applications}/{apiApplication}/oidc", new
        {
            clientType = "confidential", tokenEndpointAuthMethod = "client_secret_basic", redirectUris = new[] { redirectUri },
            grantTypes = CodeFlow, scopes = OpenIdOnly, firstParty = true, requirePkce = true,
        });
        var console = await browser.PostAsync($"{PageOf(consoleApplication)}?handler=oidc", new FormUrlEncodedContent(form));

        Assert.Equal(HttpStatusCode.BadRequest, api.StatusCode);
        Assert.Equal(api.StatusCode, console.StatusCode);
        var apiMessages = (await AdminApiClient.ProblemAsync(api)).GetProperty("errors").GetProperty("redirectUris").EnumerateArray().Select(m => m.GetString()!).ToList();
        var body = await console.Content.ReadAsStringAsync();
        Assert.Equal(apiMessages, FieldErrors(body, "redirectUris"));
        Assert.Contains($">{WebUtility.HtmlEncode(redirectUri)}</textarea>", body, StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.NotFound, (await admin.GetAsync($"{AdminApiClient.Applications}/{consoleApplication}/oidc")).StatusCode);
    }

    [PrerequisiteTheory]
    [InlineData("https://*.example.com/signin-oidc", "含有通配符；URI 按原样精确匹配")]
    [InlineData("http://expense.example.com/signin-oidc", "必须使用 https（只有 localhost 和 127.0.0.1 允许 http）")]
    public async Task OidcForm_BadRedirectUriInTheChineseConsole_IsRefusedInChinese(string redirectUri, string expected)
    {
        using var admin = await AdminApiClient.CreateAdminAsync(factory);
        var id = await AdminApiClient.CreateApplicationAsync(admin);
        var browser = factory.CreateBrowserLikeClient();
        browser.DefaultRequestHeaders.AcceptLanguage.ParseAdd("zh-CN");
        await BrowserSession.SignInAsync(browser, "admin", IdentityHubFactory.AdminPassword);
        var page = await browser.GetStringAsync(PageOf(id));
        Assert.Contains("登记 OIDC 客户端", page, StringComparison.Ordinal);
        var form = WebClientForm(page);
        form["OidcEdit.RedirectUris"] = redirectUri;

        var refused = await browser.PostAsync($"{PageOf(id)}?handler=oidc", new FormUrlEncodedContent(form));

        Assert.Equal(HttpStatusCode.BadRequest, refused.StatusCode);
        var body = await refused.Content.ReadAsStringAsync();
        Assert.Equal([$"“{redirectUri}”{expected}。"], FieldErrors(body, "redirectUris"));
        Assert.Contains("OIDC 客户端未保存。", body, StringComparison.Ordinal);
    }

    [PrerequisiteFact]
    public async Task OidcForm_SomeoneSavedMeanwhile_IsRefusedWithTheExplanationAndKeepsWhatWasTyped()
    {
        using var admin = await AdminApiClient.CreateAdminAsync(factory);
        var id = await AdminApiClient.CreateApplicationAsync(admin);
        var browser = await SignedInAdminAsync();
        var page = await browser.GetStringAsync(PageOf(id));
        Assert.Equal(HttpStatusCode.OK, (await browser.PostAsync($"{PageOf(id)}?handler=oidc", new FormUrlEncodedContent(WebClientForm(page)))).StatusCode);
        page = await browser.GetStringAsync(PageOf(id));
        var theirs = await admin.PutAsJsonAsync($"{AdminApiClient.Applications}/{id}", new { name = "Renamed " + Guid.NewGuid().ToString("N")[..8] });
        Assert.Equal(HttpStatusCode.OK, theirs.StatusCode);
        var mine = WebClientForm(page);
        mine["OidcEdit.RedirectUris"] = "https://mine.example.com/signin-oidc";

        var refused = await browser.PostAsync($"{PageOf(id)}?handler=oidc", new FormUrlEncodedContent(mine));

        var body = await refused.Content.ReadAsStringAsync();
        Assert.Equal(HttpStatusCode.PreconditionFailed, refused.StatusCode);
        Assert.Contains("Someone else changed this application or its OIDC client after you opened the page, so nothing was saved.", body, StringComparison.Ordinal);
        Assert.Contains(">https://mine.example.com/signin-oidc</textarea>", body, StringComparison.Ordinal);
        var client = await admin.GetFromJsonAsync<JsonElement>($"{AdminApiClient.Applications}/{id}/oidc");
        Assert.Equal(["https://expense.example.com/signin-oidc"], client.GetProperty("redirectUris").EnumerateArray().Select(u => u.GetString()));
    }

    [PrerequisiteFact]
    public async Task RotateSecret_AfterTheConfirmation_ShowsTheNewSecretOnceAndOnlyItOpensTheTokenEndpoint()
    {
        using var admin = await AdminApiClient.CreateAdminAsync(factory);
        var http = factory.CreateClient();
        var (id, clientId, oldSecret) = await AdminApiClient.CreateWorkingServiceClientAsync(admin, http);
        var browser = await SignedInAdminAsync();
        var page = await browser.GetStringAsync(PageOf(id));
        Assert.DoesNotContain("data-testid=\"confirm-rotate-secret\"", page, StringComparison.Ordinal);

        var confirm = await browser.GetStringAsync($"{PageOf(id)}?confirm=rotateSecret");
        Assert.Contains("data-testid=\"confirm-rotate-secret\"", confirm, StringComparison.Ordinal);
        Assert.Contains($"Rotate the secret of the OIDC client {clientId}?", confirm, StringComparison.Ordinal);
        var rotation = new Dictionary<string, string>
        {
            ["__RequestVerificationToken"] = BrowserSession.AntiforgeryToken(confirm),
            ["revision"] = ConfirmRevision(confirm, "confirm-rotate-secret"),
        };
        var rotated = await browser.PostAsync($"{PageOf(id)}?handler=rotateSecret", new FormUrlEncodedContent(rotation));

        Assert.Equal(HttpStatusCode.OK, rotated.StatusCode);
        Assert.True(rotated.Headers.CacheControl?.NoStore);
        var rotatedPage = await rotated.Content.ReadAsStringAsync();
        Assert.Contains($"Secret of {clientId} rotated: the old secret no longer works", rotatedPage, StringComparison.Ordinal);
        var newSecret = ShownSecret(rotatedPage);
        Assert.NotEqual(oldSecret, newSecret);
        Assert.Equal(HttpStatusCode.OK, (await AdminApiClient.ClientCredentialsBasicAsync(http, clientId, newSecret)).StatusCode);
        Assert.NotEqual(HttpStatusCode.OK, (await AdminApiClient.ClientCredentialsBasicAsync(http, clientId, oldSecret)).StatusCode);

        // The same confirmation posted again (a reload) draws no second secret: the revision it carries is spent.
        var again = await browser.PostAsync($"{PageOf(id)}?handler=rotateSecret", new FormUrlEncodedContent(rotation));
        Assert.Equal(HttpStatusCode.PreconditionFailed, again.StatusCode);
        Assert.DoesNotContain("data-testid=\"oidc-secret\"", await again.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Equal(ClientSecrets.Hash(newSecret), await StoredSecretAsync(clientId));
    }

    /// <summary>A button posted from a page someone else changed since (here: the secret rotated through the API) changes nothing and says why.</summary>
    [PrerequisiteTheory]
    [InlineData("oidcEnabled")]
    [InlineData("rotateSecret")]
    [InlineData("deleteOidc")]
    public async Task ClientButton_PageOutdated_IsRefusedWithTheExplanationAndChangesNothing(string handler)
    {
        using var admin = await AdminApiClient.CreateAdminAsync(factory);
        var http = factory.CreateClient();
        var (id, clientId, _) = await AdminApiClient.CreateWorkingServiceClientAsync(admin, http);
        var browser = await SignedInAdminAsync();
        var page = await browser.GetStringAsync(PageOf(id));
        var rotated = await admin.PostAsync($"{AdminApiClient.Applications}/{id}/oidc/secret", null);
        var theirs = (await rotated.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("clientSecret").GetString()!;

        var refused = await browser.PostAsync($"{PageOf(id)}?handler={handler}", new FormUrlEncodedContent(new Dictionary<string, string>
        {
            ["__RequestVerificationToken"] = BrowserSession.AntiforgeryToken(page),
            ["revision"] = EditRevision().Match(page).Groups[1].Value,
            ["enabled"] = "false",
        }));

        Assert.Equal(HttpStatusCode.PreconditionFailed, refused.StatusCode);
        Assert.Contains("Someone else changed this application or its OIDC client after you opened the page", await refused.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Equal(ClientSecrets.Hash(theirs), await StoredSecretAsync(clientId));
        Assert.Equal(HttpStatusCode.OK, (await AdminApiClient.ClientCredentialsBasicAsync(http, clientId, theirs)).StatusCode);
    }

    [PrerequisiteFact]
    public async Task RotateSecret_ClientWithoutASecret_IsRefusedOnTheAuthMethodSayingWhy()
    {
        using var admin = await AdminApiClient.CreateAdminAsync(factory);
        var id = await AdminApiClient.CreateApplicationAsync(admin);
        using var rsa = System.Security.Cryptography.RSA.Create(2048);
        var key = rsa.ExportParameters(false);
        var registered = await admin.PutAsJsonAsync($"{AdminApiClient.Applications}/{id}/oidc", new
        {
            clientType = "confidential", grantTypes = ClientCredentials, tokenEndpointAuthMethod = "private_key_jwt",
            jwks = new { keys = new[] { new { kty = "RSA", n = Microsoft.IdentityModel.Tokens.Base64UrlEncoder.Encode(key.Modulus), e = Microsoft.IdentityModel.Tokens.Base64UrlEncoder.Encode(key.Exponent) } } },
        });
        Assert.Equal(HttpStatusCode.OK, registered.StatusCode);
        var browser = await SignedInAdminAsync();
        var page = await browser.GetStringAsync(PageOf(id));
        Assert.DoesNotContain("data-testid=\"oidc-rotate\"", page, StringComparison.Ordinal);

        var refused = await browser.PostAsync($"{PageOf(id)}?handler=rotateSecret", new FormUrlEncodedContent(new Dictionary<string, string>
        {
            ["__RequestVerificationToken"] = BrowserSession.AntiforgeryToken(page),
            ["revision"] = EditRevision().Match(page).Groups[1].Value,
        }));

        Assert.Equal(HttpStatusCode.BadRequest, refused.StatusCode);
        var body = await refused.Content.ReadAsStringAsync();
        Assert.Contains("This client authenticates with private_key_jwt; it has no secret to rotate.", body, StringComparison.Ordinal);
        Assert.DoesNotContain("data-testid=\"oidc-secret\"", body, StringComparison.Ordinal);
    }

    [PrerequisiteFact]
    public async Task DisableThenEnable_WhileDisabledTheClientGetsNoTokenAndThePageSaysSo()
    {
        using var admin = await AdminApiClient.CreateAdminAsync(factory);
        var http = factory.CreateClient();
        var (id, clientId, secret) = await AdminApiClient.CreateWorkingServiceClientAsync(admin, http);
        var browser = await SignedInAdminAsync();

        var disabled = await ToggleAsync(browser, id, enabled: false);

        Assert.Equal(HttpStatusCode.Redirect, disabled.StatusCode);
        var page = await browser.GetStringAsync(PageOf(id));
        Assert.Contains($"OIDC client {clientId} disabled: it gets no codes and no tokens", page, StringComparison.Ordinal);
        Assert.Contains("Disabled: no codes and no tokens", page, StringComparison.Ordinal);
        Assert.NotEqual(HttpStatusCode.OK, (await AdminApiClient.ClientCredentialsBasicAsync(http, clientId, secret)).StatusCode);
        Assert.Equal(HttpStatusCode.Redirect, (await ToggleAsync(browser, id, enabled: true)).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await AdminApiClient.ClientCredentialsBasicAsync(http, clientId, secret)).StatusCode);
    }

    [PrerequisiteFact]
    public async Task DeleteOidc_AfterTheConfirmation_DeletesAndSaysWhat()
    {
        using var admin = await AdminApiClient.CreateAdminAsync(factory);
        var (id, clientId, _) = await AdminApiClient.CreateWorkingServiceClientAsync(admin, factory.CreateClient());
        var browser = await SignedInAdminAsync();

        var confirm = await browser.GetStringAsync($"{PageOf(id)}?confirm=deleteOidc");
        Assert.Contains($"Delete the OIDC client {clientId} of ", confirm, StringComparison.Ordinal);
        var deleted = await browser.PostAsync($"{PageOf(id)}?handler=deleteOidc", new FormUrlEncodedContent(new Dictionary<string, string>
        {
            ["__RequestVerificationToken"] = BrowserSession.AntiforgeryToken(confirm),
            ["revision"] = ConfirmRevision(confirm, "confirm-delete-oidc"),
        }));

        Assert.Equal(HttpStatusCode.Redirect, deleted.StatusCode);
        var after = await browser.GetStringAsync(PageOf(id));
        Assert.Contains($"OIDC client {clientId} deleted", after, StringComparison.Ordinal);
        Assert.DoesNotContain(">Saved<", after, StringComparison.Ordinal);
        Assert.Contains("data-testid=\"oidc-none\"", after, StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.NotFound, (await admin.GetAsync($"{AdminApiClient.Applications}/{id}/oidc")).StatusCode);
    }

    private static string PageOf(Guid application) => $"/admin/applications/{application}";

    private async Task<HttpClient> SignedInAdminAsync()
    {
        var browser = factory.CreateBrowserLikeClient();
        Assert.Equal(HttpStatusCode.Redirect, (await BrowserSession.SignInAsync(browser, "admin", IdentityHubFactory.AdminPassword)).StatusCode);
        return browser;
    }

    private static async Task<HttpResponseMessage> ToggleAsync(HttpClient browser, Guid id, bool enabled)
    {
        var page = await browser.GetStringAsync(PageOf(id));
        return await browser.PostAsync($"{PageOf(id)}?handler=oidcEnabled", new FormUrlEncodedContent(new Dictionary<string, string>
        {
            ["__RequestVerificationToken"] = BrowserSession.AntiforgeryToken(page),
            ["revision"] = EditRevision().Match(page).Groups[1].Value,
            ["enabled"] = enabled ? "true" : "false",
        }));
    }

    /// <summary>The client form as a browser posts it: a confidential web client for the code flow, with the page's revision when it shows one.</summary>
    private static Dictionary<string, string> WebClientForm(string page)
    {
        var fields = new Dictionary<string, string>
        {
            ["__RequestVerificationToken"] = BrowserSession.AntiforgeryToken(page),
            ["OidcEdit.Enabled"] = "true",
            ["OidcEdit.ClientType"] = "confidential",
            ["OidcEdit.TokenEndpointAuthMethod"] = "client_secret_basic",
            ["OidcEdit.RedirectUris"] = "https://expense.example.com/signin-oidc",
            ["OidcEdit.PostLogoutRedirectUris"] = "",
            ["OidcEdit.GrantTypes"] = "authorization_code",
            ["OidcEdit.Scopes"] = "openid",
            ["OidcEdit.FirstParty"] = "true",
            ["OidcEdit.RequirePkce"] = "true",
            ["OidcEdit.BackchannelLogoutUri"] = "",
            ["OidcEdit.AccessTokenLifetimeSeconds"] = "",
            ["OidcEdit.Jwks"] = "",
        };
        if (EditRevision().Match(page) is { Success: true } revision)
        {
            fields["OidcEdit.Revision"] = revision.Groups[1].Value;
        }

        return fields;
    }

    private static string ShownSecret(string html) =>
        SecretField().Match(html) is { Success: true } match ? WebUtility.HtmlDecode(match.Groups[1].Value) : throw new Xunit.Sdk.XunitException("The page shows no secret.");

    private static string ConfirmRevision(string html, string box)
    {
        var match = Regex.Match(html, $"data-testid=\"{box}\".*?name=\"revision\" value=\"(-?\\d+)\"", RegexOptions.Singleline);
        Assert.True(match.Success, $"No revision in {box}");
        return match.Groups[1].Value;
    }

    /// <summary>The messages the page shows next to <paramref name="field"/> (named as the Core and the API name it).</summary>
    private static List<string> FieldErrors(string html, string field) =>
        [.. Regex.Matches(html, $"<span class=\"field-error\" data-error-for=\"{Regex.Escape(field)}\">(.*?)</span>")
            .Select(m => WebUtility.HtmlDecode(m.Groups[1].Value))];

    private async Task<string?> StoredSecretAsync(string clientId)
    {
        await using var scope = factory.Services.CreateAsyncScope();
        return await scope.ServiceProvider.GetRequiredService<IdentityHub.Data.IdentityHubDbContext>().Set<OpenIddictEntityFrameworkCoreApplication>()
            .Where(a => a.ClientId == clientId).Select(a => a.ClientSecret).SingleAsync();
    }

    [GeneratedRegex("name=\"OidcEdit.Revision\" value=\"(-?\\d+)\"")]
    private static partial Regex EditRevision();

    [GeneratedRegex("id=\"oidc-secret\" class=\"mono\" readonly value=\"([^\"]+)\"")]
    private static partial Regex SecretField();
}

public sealed class SqliteOidcConsoleTests(SqliteFactory factory) : OidcConsoleTests<SqliteFactory>(factory);

[Requires(Prerequisite.PostgreSql)]
public sealed class PostgreSqlOidcConsoleTests(PostgreSqlFactory factory) : OidcConsoleTests<PostgreSqlFactory>(factory);
