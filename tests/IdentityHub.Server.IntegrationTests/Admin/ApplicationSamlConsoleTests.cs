using System.Net;
using System.Net.Http.Headers;
using System.Text;
using IdentityHub.Core.Directory;
using IdentityHub.Data;
using IdentityHub.Data.Access;
using IdentityHub.Saml;
using IdentityHub.Server.IntegrationTests.AdminApi;
using IdentityHub.Server.IntegrationTests.Oidc;
using IdentityHub.Server.IntegrationTests.Saml;
using IdentityHub.Testing;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace IdentityHub.Server.IntegrationTests.Admin;

/// <summary>
/// The SAML section of the console's application page, used the way a browser does: the page read, its forms
/// posted (multipart, with the antiforgery token), the result read back from the page and the database.
/// </summary>
public abstract class ApplicationSamlConsoleTests<TFactory>(TFactory factory) : IClassFixture<TFactory>
    where TFactory : IdentityHubFactory
{
    private readonly OidcDriver _driver = new(factory);

    [PrerequisiteFact]
    public async Task SamlSection_UploadedMetadataFile_RegistersTheSpAndThePageShowsIt()
    {
        var application = await NewApplicationAsync();
        var sp = new SamlTestSp();
        var browser = await SignedInAsync(AdminRoles.SuperAdmin);
        var page = await browser.GetStringAsync(PageOf(application));
        Assert.Contains("data-testid=\"saml-none\"", page, StringComparison.Ordinal);
        Assert.Contains("http://localhost/saml/metadata", page, StringComparison.Ordinal);

        var response = await PostImportAsync(browser, application, page, file: sp.Metadata(), allowIdpInitiated: true);

        Assert.Equal(HttpStatusCode.Redirect, response.StatusCode);
        Assert.Equal(PageOf(application), response.Headers.Location!.OriginalString);
        var shown = await browser.GetStringAsync(PageOf(application));
        Assert.Contains($"data-testid=\"saml-entity-id\">{sp.EntityId}<", shown, StringComparison.Ordinal);
        Assert.Contains(sp.Acs, shown, StringComparison.Ordinal);
        Assert.Contains($"data-testid=\"saml-nameid-format\">{NameIdFormats.Persistent}<", shown, StringComparison.Ordinal);
        var stored = await StoredAsync(application);
        Assert.Equal(sp.EntityId, stored!.EntityId);
        Assert.True(stored.AllowIdpInitiated);
        Assert.True(stored.AuthnRequestsSigned);
    }

    [PrerequisiteFact]
    public async Task SamlSection_MetadataUrlAsSecurityAdmin_FetchesAndRegisters()
    {
        var application = await NewApplicationAsync();
        var sp = new SamlTestSp();
        await using var host = await MetadataHost.StartAsync(sp.Metadata());
        var browser = await SignedInAsync(AdminRoles.SecurityAdmin);
        var page = await browser.GetStringAsync(PageOf(application));

        var response = await PostImportAsync(browser, application, page, url: host.MetadataUrl.AbsoluteUri, nameIdFormat: "unspecified");

        Assert.Equal(HttpStatusCode.Redirect, response.StatusCode);
        var stored = await StoredAsync(application);
        Assert.Equal(sp.EntityId, stored!.EntityId);
        Assert.Equal(NameIdFormats.Unspecified, stored.NameIdFormat);
        Assert.False(stored.AllowIdpInitiated);
    }

    [PrerequisiteFact]
    public async Task SamlSection_MetadataWithDoctype_ShowsTheApisRefusalAndRegistersNothing()
    {
        var application = await NewApplicationAsync();
        var browser = await SignedInAsync(AdminRoles.SuperAdmin);
        var page = await browser.GetStringAsync(PageOf(application));

        var response = await PostImportAsync(browser, application, page, file: "<!DOCTYPE x [<!ENTITY e SYSTEM \"file:///etc/passwd\">]><x>&e;</x>");

        var body = await response.Content.ReadAsStringAsync();
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Contains("data-testid=\"form-error\"", body, StringComparison.Ordinal);
        Assert.Contains("DTDs are not allowed", body, StringComparison.Ordinal);
        Assert.Null(await StoredAsync(application));
    }

    [PrerequisiteFact]
    public async Task SamlSection_Remove_DeletesTheSp()
    {
        var sp = await new SamlTestSp().RegisterAsync(factory);
        var browser = await SignedInAsync(AdminRoles.SuperAdmin);
        var page = await browser.GetStringAsync(PageOf(sp.ApplicationId));
        Assert.Contains("data-testid=\"delete-saml\"", page, StringComparison.Ordinal);

        var response = await ConsoleDriver.ConfirmAsync(browser, $"{PageOf(sp.ApplicationId)}?confirm=removeSaml", "remove-saml");

        Assert.Equal(HttpStatusCode.Redirect, response.StatusCode);
        Assert.Null(await StoredAsync(sp.ApplicationId));
        Assert.Contains("data-testid=\"saml-none\"", await browser.GetStringAsync(PageOf(sp.ApplicationId)), StringComparison.Ordinal);
    }

    [PrerequisiteFact]
    public async Task SamlSection_PostWithoutAntiforgeryToken_IsRefusedAndRegistersNothing()
    {
        var application = await NewApplicationAsync();
        var browser = await SignedInAsync(AdminRoles.SuperAdmin);
        await browser.GetStringAsync(PageOf(application));

        var response = await PostImportAsync(browser, application, page: null, file: new SamlTestSp().Metadata());

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Null(await StoredAsync(application));
    }

    [PrerequisiteFact]
    public async Task SamlSection_Auditor_SeesTheSpWithoutFormsAndCannotReplaceIt()
    {
        var sp = await new SamlTestSp().RegisterAsync(factory);
        var browser = await SignedInAsync(AdminRoles.Auditor);
        var page = await browser.GetStringAsync(PageOf(sp.ApplicationId));
        Assert.Contains(sp.EntityId, page, StringComparison.Ordinal);
        Assert.DoesNotContain("data-testid=\"saml-import\"", page, StringComparison.Ordinal);
        Assert.DoesNotContain("data-testid=\"delete-saml\"", page, StringComparison.Ordinal);

        var response = await PostImportAsync(browser, sp.ApplicationId, page, file: new SamlTestSp().Metadata());

        Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
        Assert.Equal(sp.EntityId, (await StoredAsync(sp.ApplicationId))!.EntityId);
    }

    private static string PageOf(Guid application) => $"/admin/applications/{application}";

    /// <summary>Posts the registration form as a browser does: multipart, the file as a file part, the token from <paramref name="page"/>.</summary>
    private static Task<HttpResponseMessage> PostImportAsync(
        HttpClient browser, Guid application, string? page, string? file = null, string? url = null, string? nameIdFormat = null, bool allowIdpInitiated = false)
    {
        var form = new MultipartFormDataContent();
        if (page is not null)
        {
            form.Add(new StringContent(BrowserSession.AntiforgeryToken(page)), "__RequestVerificationToken");
        }

        if (file is not null)
        {
            var content = new ByteArrayContent(Encoding.UTF8.GetBytes(file));
            content.Headers.ContentType = new MediaTypeHeaderValue("application/samlmetadata+xml");
            form.Add(content, "SamlImport.MetadataFile", "sp-metadata.xml");
        }

        form.Add(new StringContent(url ?? ""), "SamlImport.MetadataUrl");
        form.Add(new StringContent(nameIdFormat ?? ""), "SamlImport.NameIdFormat");
        if (allowIdpInitiated)
        {
            form.Add(new StringContent("true"), "SamlImport.AllowIdpInitiated");
        }

        return browser.PostAsync($"{PageOf(application)}?handler=samlMetadata", form);
    }

    private async Task<Guid> NewApplicationAsync()
    {
        using var admin = await AdminApiClient.CreateAdminAsync(factory);
        return await AdminApiClient.CreateApplicationAsync(admin);
    }

    private async Task<SamlServiceProvider?> StoredAsync(Guid application)
    {
        await using var scope = factory.Services.CreateAsyncScope();
        return await scope.ServiceProvider.GetRequiredService<IdentityHubDbContext>().SamlServiceProviders.AsNoTracking()
            .SingleOrDefaultAsync(s => s.ApplicationId == application);
    }

    private async Task<HttpClient> SignedInAsync(string role)
    {
        var browser = factory.CreateBrowserLikeClient();
        if (role == AdminRoles.SuperAdmin)
        {
            Assert.Equal(HttpStatusCode.Redirect, (await BrowserSession.SignInAsync(browser, "admin", IdentityHubFactory.AdminPassword)).StatusCode);
            return browser;
        }

        var user = await _driver.CreateUserAsync();
        await _driver.AddRoleAsync(user, role);
        Assert.Equal(HttpStatusCode.Redirect, (await BrowserSession.SignInAsync(browser, user.UserName!, OidcDriver.Password)).StatusCode);
        return browser;
    }
}

public sealed class SqliteApplicationSamlConsoleTests(SqliteFactory factory) : ApplicationSamlConsoleTests<SqliteFactory>(factory);

[Requires(Prerequisite.PostgreSql)]
public sealed class PostgreSqlApplicationSamlConsoleTests(PostgreSqlFactory factory) : ApplicationSamlConsoleTests<PostgreSqlFactory>(factory);
