using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using IdentityHub.Saml;
using IdentityHub.Saml.Protocol;
using IdentityHub.Server.IntegrationTests.AdminApi;
using IdentityHub.Server.IntegrationTests.Oidc;
using IdentityHub.Server.IntegrationTests.Saml;
using IdentityHub.Testing;

namespace IdentityHub.Server.IntegrationTests.Admin;

/// <summary>
/// The console's SAML edit form, posted as a browser posts it (form fields and the antiforgery token): its
/// refusals are the admin API's, a mapping edited there is what the next Response carries, a stale form is
/// refused with an explanation, and removal goes through a confirmation.
/// </summary>
[Requires(Prerequisite.Xmlsec1)]
public abstract partial class SamlEditorConsoleTests<TFactory>(TFactory factory) : IClassFixture<TFactory>
    where TFactory : IdentityHubFactory
{
    private const string NotACertificate = "bm90IGEgY2VydGlmaWNhdGU=";

    private readonly OidcDriver _driver = new(factory);
    private readonly IdpMessages _messages = new(factory);

    [PrerequisiteTheory]
    [InlineData("relative ACS URL", "assertionConsumerServices[0].url")]
    [InlineData("not a certificate", "signingCertificate")]
    [InlineData("unknown NameFormat", "attributeMappings[0].nameFormat")]
    [InlineData("no entityId", "entityId")]
    [InlineData("entityID of another application", "entityId")]
    public async Task BadSpInput_ConsoleAndApi_GiveTheSameRefusalOnTheSameField(string broken, string field)
    {
        var taken = await new SamlTestSp().RegisterAsync(factory);
        var sp = new SamlTestSp();
        var entityId = broken switch
        {
            "no entityId" => "",
            "entityID of another application" => taken.EntityId,
            _ => sp.EntityId,
        };
        using var admin = await AdminApiClient.CreateAdminAsync(factory);
        var apiApplication = await AdminApiClient.CreateApplicationAsync(admin);
        var registration = JsonSerializer.SerializeToNode(sp.Registration(attributeMappings: [new { source = "email", name = "mail", nameFormat = "basic" }]))!;
        registration["entityId"] = entityId;
        var consoleApplication = await AdminApiClient.CreateApplicationAsync(admin);
        var browser = await SignedInAdminAsync();
        var page = await browser.GetStringAsync(PageOf(consoleApplication));
        var form = Form(page, sp, entityId, mappingName: "mail", mappingFormat: "basic", mappingSource: "email");
        switch (broken)
        {
            case "relative ACS URL":
                registration["assertionConsumerServices"]![0]!["url"] = "/acs";
                form["SamlEdit.AssertionConsumerServices[0].Url"] = "/acs";
                break;
            case "not a certificate":
                registration["signingCertificate"] = NotACertificate;
                form["SamlEdit.SigningCertificate"] = NotACertificate;
                break;
            case "unknown NameFormat":
                registration["attributeMappings"]![0]!["nameFormat"] = "x500";
                form["SamlEdit.AttributeMappings[0].NameFormat"] = "x500";
                break;
        }

        var api = await admin.PutAsJsonAsync($"{AdminApiClient.Applications}/{apiApplication}/saml", registration);
        var console = await browser.PostAsync($"{PageOf(consoleApplication)}?handler=saml", new FormUrlEncodedContent(form));

        var problem = await api.Content.ReadAsStringAsync();
        using var json = JsonDocument.Parse(problem);
        Assert.True(json.RootElement.GetProperty("errors").TryGetProperty(field, out var apiMessages), problem);
        var shown = FieldErrors(await console.Content.ReadAsStringAsync(), field);
        Assert.Equal(apiMessages.EnumerateArray().Select(m => m.GetString()!).ToList(), shown);
        Assert.Equal(api.StatusCode, console.StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await admin.GetAsync($"{AdminApiClient.Applications}/{consoleApplication}/saml")).StatusCode);
    }

    [PrerequisiteFact]
    public async Task SamlEditor_MappingEdited_TheNextResponseCarriesItInTheAttributeStatement()
    {
        var sp = await RegisterAsync(new SamlTestSp(), [new { source = "name", name = "displayName" }]);
        var browser = await SignedInAdminAsync();
        var page = await browser.GetStringAsync(PageOf(sp.ApplicationId));
        Assert.Contains("displayName", page, StringComparison.Ordinal);

        var saved = await browser.PostAsync($"{PageOf(sp.ApplicationId)}?handler=saml",
            new FormUrlEncodedContent(Form(page, sp, sp.EntityId, mappingName: "urn:oid:0.9.2342.19200300.100.1.3", mappingFormat: "uri", mappingSource: "email")));

        Assert.Equal(HttpStatusCode.Redirect, saved.StatusCode);
        var shown = await browser.GetStringAsync(PageOf(sp.ApplicationId));
        Assert.Contains("<td><code>urn:oid:0.9.2342.19200300.100.1.3</code></td>", shown, StringComparison.Ordinal);
        var user = await _driver.CreateUserAsync();
        var employee = factory.CreateBrowserLikeClient();
        Assert.Equal(HttpStatusCode.Redirect, (await BrowserSession.SignInAsync(employee, user.UserName!, OidcDriver.Password)).StatusCode);
        var requestId = SamlXml.NewId();
        var post = await _messages.ReadPostAsync(await employee.GetAsync(sp.RedirectUrl(SamlTestSp.Sso, sp.AuthnRequest(requestId))));
        var response = SamlAssert.ValidResponse(post, sp, requestId);
        Assert.Equal(user.Email, response.Attribute("urn:oid:0.9.2342.19200300.100.1.3").Single());
        Assert.Equal(AttributeNameFormats.Uri, response.Text("//saml:AttributeStatement/saml:Attribute[@Name='urn:oid:0.9.2342.19200300.100.1.3']/@NameFormat"));
        Assert.Empty(response.Attribute("displayName"));
    }

    [PrerequisiteFact]
    public async Task SamlEditor_SomeoneSavedMeanwhile_IsRefusedWithTheExplanationAndKeepsTheirChange()
    {
        var sp = await RegisterAsync(new SamlTestSp(), [new { source = "name", name = "displayName" }]);
        var browser = await SignedInAdminAsync();
        var page = await browser.GetStringAsync(PageOf(sp.ApplicationId));
        var theirs = await browser.PostAsync($"{PageOf(sp.ApplicationId)}?handler=saml",
            new FormUrlEncodedContent(Form(page, sp, sp.EntityId, mappingName: "theirs", mappingFormat: "basic", mappingSource: "email")));
        Assert.Equal(HttpStatusCode.Redirect, theirs.StatusCode);

        var mine = await browser.PostAsync($"{PageOf(sp.ApplicationId)}?handler=saml",
            new FormUrlEncodedContent(Form(page, sp, sp.EntityId, mappingName: "mine", mappingFormat: "basic", mappingSource: "email")));

        var body = await mine.Content.ReadAsStringAsync();
        Assert.Equal(HttpStatusCode.PreconditionFailed, mine.StatusCode);
        Assert.Contains("Someone else changed this SAML service provider after you opened the page", body, StringComparison.Ordinal);
        Assert.Contains("value=\"mine\"", body, StringComparison.Ordinal);
        using var admin = await AdminApiClient.CreateAdminAsync(factory);
        Assert.Contains("\"theirs\"", await admin.GetStringAsync($"{AdminApiClient.Applications}/{sp.ApplicationId}/saml"), StringComparison.Ordinal);
    }

    [PrerequisiteFact]
    public async Task SamlEditor_AddRowWithoutJavaScript_ShowsOneMoreEmptyMappingRowAndSavesNothing()
    {
        var sp = await RegisterAsync(new SamlTestSp(), [new { source = "name", name = "displayName" }]);
        var browser = await SignedInAdminAsync();
        var page = await browser.GetStringAsync(PageOf(sp.ApplicationId));
        Assert.DoesNotContain("data-testid=\"saml-mapping-row-2\"", page, StringComparison.Ordinal);
        var form = Form(page, sp, sp.EntityId, mappingName: "changed", mappingFormat: "basic", mappingSource: "email");
        form["add"] = "mapping";

        var response = await browser.PostAsync($"{PageOf(sp.ApplicationId)}?handler=saml", new FormUrlEncodedContent(form));

        var body = await response.Content.ReadAsStringAsync();
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Contains("data-testid=\"saml-mapping-row-2\"", body, StringComparison.Ordinal);
        Assert.Contains("value=\"changed\"", body, StringComparison.Ordinal);
        using var admin = await AdminApiClient.CreateAdminAsync(factory);
        Assert.DoesNotContain("changed", await admin.GetStringAsync($"{AdminApiClient.Applications}/{sp.ApplicationId}/saml"), StringComparison.Ordinal);
    }

    [PrerequisiteFact]
    public async Task SamlRemoval_AfterTheConfirmation_RemovesAndSaysSo()
    {
        var sp = await new SamlTestSp().RegisterAsync(factory);
        var browser = await SignedInAdminAsync();
        var page = await browser.GetStringAsync(PageOf(sp.ApplicationId));
        Assert.DoesNotContain("data-testid=\"confirm-remove-saml\"", page, StringComparison.Ordinal);

        var confirm = await browser.GetStringAsync($"{PageOf(sp.ApplicationId)}?confirm=removeSaml");
        Assert.Contains("data-testid=\"confirm-remove-saml\"", confirm, StringComparison.Ordinal);
        Assert.Contains($"Remove the SAML service provider {sp.EntityId} of ", confirm, StringComparison.Ordinal);
        var removed = await browser.PostAsync($"{PageOf(sp.ApplicationId)}?handler=deleteSaml", new FormUrlEncodedContent(new Dictionary<string, string>
        {
            ["__RequestVerificationToken"] = BrowserSession.AntiforgeryToken(confirm),
            ["revision"] = Revision(confirm)!,
        }));

        Assert.Equal(HttpStatusCode.Redirect, removed.StatusCode);
        var after = await browser.GetStringAsync(PageOf(sp.ApplicationId));
        Assert.Contains($"SAML service provider {sp.EntityId} removed", after, StringComparison.Ordinal);
        Assert.DoesNotContain(">Saved<", after, StringComparison.Ordinal);
        Assert.Contains("data-testid=\"saml-none\"", after, StringComparison.Ordinal);
    }

    private static string PageOf(Guid application) => $"/admin/applications/{application}";

    private async Task<SamlTestSp> RegisterAsync(SamlTestSp sp, object[] mappings) =>
        await sp.RegisterAsync(factory, sp.Registration(attributeMappings: mappings));

    private async Task<HttpClient> SignedInAdminAsync()
    {
        var browser = factory.CreateBrowserLikeClient();
        Assert.Equal(HttpStatusCode.Redirect, (await BrowserSession.SignInAsync(browser, "admin", IdentityHubFactory.AdminPassword)).StatusCode);
        return browser;
    }

    /// <summary>The edit form as a browser posts it for <paramref name="sp"/>, with one attribute mapping row and the page's revision.</summary>
    private static Dictionary<string, string> Form(string page, SamlTestSp sp, string entityId, string mappingName, string mappingFormat, string mappingSource)
    {
        var form = new Dictionary<string, string>
        {
            ["__RequestVerificationToken"] = BrowserSession.AntiforgeryToken(page),
            ["SamlEdit.EntityId"] = entityId,
            ["SamlEdit.AssertionConsumerServices[0].Index"] = "0",
            ["SamlEdit.AssertionConsumerServices[0].Binding"] = Saml2Names.HttpPostBinding,
            ["SamlEdit.AssertionConsumerServices[0].Url"] = sp.Acs,
            ["SamlEdit.AssertionConsumerServices[1].Index"] = "1",
            ["SamlEdit.AssertionConsumerServices[1].Binding"] = Saml2Names.HttpPostBinding,
            ["SamlEdit.AssertionConsumerServices[1].Url"] = "",
            ["SamlEdit.DefaultAcs"] = "0",
            ["SamlEdit.SingleLogoutUrl"] = sp.SingleLogout,
            ["SamlEdit.SingleLogoutBinding"] = Saml2Names.HttpRedirectBinding,
            ["SamlEdit.NameIdFormat"] = "persistent",
            ["SamlEdit.SignResponse"] = "true",
            ["SamlEdit.SignAssertion"] = "true",
            ["SamlEdit.AuthnRequestsSigned"] = "true",
            ["SamlEdit.SigningCertificate"] = Convert.ToBase64String(sp.Certificate.RawData),
            ["SamlEdit.EncryptionCertificate"] = "",
            ["SamlEdit.AttributeMappings[0].Name"] = mappingName,
            ["SamlEdit.AttributeMappings[0].NameFormat"] = mappingFormat,
            ["SamlEdit.AttributeMappings[0].Source"] = mappingSource,
            ["SamlEdit.AttributeMappings[1].Name"] = "",
            ["SamlEdit.AttributeMappings[1].NameFormat"] = "basic",
            ["SamlEdit.AttributeMappings[1].Source"] = "name",
        };
        if (EditRevision().Match(page) is { Success: true } revision)
        {
            form["SamlEdit.Revision"] = revision.Groups[1].Value;
        }

        return form;
    }

    private static string? Revision(string page) => RemovalRevision().Match(page) is { Success: true } m ? m.Groups[1].Value : null;

    /// <summary>The messages the page shows next to <paramref name="field"/> (named as the Core and the API name it).</summary>
    private static List<string> FieldErrors(string html, string field) =>
        [.. Regex.Matches(html, $"<span class=\"field-error\" data-error-for=\"{Regex.Escape(field)}\">(.*?)</span>")
            .Select(m => WebUtility.HtmlDecode(m.Groups[1].Value))];

    [GeneratedRegex("name=\"SamlEdit.Revision\" value=\"(-?\\d+)\"")]
    private static partial Regex EditRevision();

    [GeneratedRegex("name=\"revision\" value=\"(-?\\d+)\" data-testid=\"saml-revision\"")]
    private static partial Regex RemovalRevision();
}

public sealed class SqliteSamlEditorConsoleTests(SqliteFactory factory) : SamlEditorConsoleTests<SqliteFactory>(factory);

[Requires(Prerequisite.PostgreSql)]
public sealed class PostgreSqlSamlEditorConsoleTests(PostgreSqlFactory factory) : SamlEditorConsoleTests<PostgreSqlFactory>(factory);
