using System.Net;
using System.Net.Http.Json;
using System.Text.RegularExpressions;
using IdentityHub.Data;
using IdentityHub.Data.Inbound;
using IdentityHub.Provisioning.Inbound;
using IdentityHub.Server.IntegrationTests.AdminApi;
using IdentityHub.Testing;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace IdentityHub.Server.IntegrationTests.Admin;

/// <summary>
/// The console's inbound source pages, posted as a browser without JavaScript posts them: a SCIM source's token on the answer
/// to its creation only; the same refusal as the admin API on the same field; no antiforgery token, nothing created; token
/// rotation and deletion through their confirmation; the source page showing runs, errors, the report and conflicts by name.
/// </summary>
public abstract partial class SourceConsoleTests<TFactory>(TFactory factory) : IClassFixture<TFactory>
    where TFactory : IdentityHubFactory
{
    private const string NewPage = "/admin/sources/new";

    private readonly ConsoleDriver _console = new(factory);

    [PrerequisiteFact]
    public async Task NewSourceForm_Scim_IsCreatedAndItsTokenShownOnThisResponseOnly()
    {
        using var admin = await AdminApiClient.CreateAdminAsync(factory);
        var department = await AdminCallers.CreateDepartmentAsync(admin);
        var browser = await _console.AdminAsync();
        var name = AdminCallers.NewCode("OA");

        var created = await ConsoleDriver.PostAsync(browser, NewPage, NewPage, Form("scim", name, department));

        var html = await created.Content.ReadAsStringAsync();
        Assert.True(created.StatusCode == HttpStatusCode.OK, ConsoleDriver.Text(html));
        Assert.True(created.Headers.CacheControl?.NoStore, "A page that shows a token must not be stored by the browser.");
        var token = WebUtility.HtmlDecode(TokenField().Match(html).Groups[1].Value);
        Assert.StartsWith(InboundSources.TokenPrefix, token, StringComparison.Ordinal);
        Assert.Contains("/scim/v2", html, StringComparison.Ordinal);
        var source = await SourceNamedAsync(name);
        Assert.Equal(source.Id, (await AuthenticateAsync(token))?.Id);
        var page = await browser.GetStringAsync($"/admin/sources/{source.Id}");
        Assert.DoesNotContain(token, page, StringComparison.Ordinal);
        Assert.Contains(source.TokenHint!, page, StringComparison.Ordinal);
        Assert.Contains(name, await browser.GetStringAsync("/admin/sources"), StringComparison.Ordinal);
    }

    /// <summary>One set of rules: the console's form and the admin API refuse the same input on the same field with the same words.</summary>
    [PrerequisiteTheory]
    [InlineData("scim", "", "name")]
    [InlineData("ldap", "x", "kind")]
    [InlineData("scim", "x", "conflictPolicy")]
    public async Task NewSourceForm_BadInput_IsRefusedLikeTheApiOnTheSameFieldWithTheSameMessage(string kind, string name, string field)
    {
        using var admin = await AdminApiClient.CreateAdminAsync(factory);
        var department = await AdminCallers.CreateDepartmentAsync(admin);
        var browser = await _console.AdminAsync();
        var named = name.Length == 0 ? name : AdminCallers.NewCode("Bad");
        var policy = field == "conflictPolicy" ? "fight" : "refuse";
        var before = await CountSourcesAsync();

        var api = await admin.PostAsJsonAsync(SourcesApiTests<TFactory>.Sources, new { kind, name = named, subtrees = new[] { department }, conflictPolicy = policy });
        var fields = Form(kind, named, department);
        fields["Input.ConflictPolicy"] = policy;
        var console = await ConsoleDriver.PostAsync(browser, NewPage, NewPage, fields);

        Assert.Equal(HttpStatusCode.BadRequest, api.StatusCode);
        Assert.Equal(api.StatusCode, console.StatusCode);
        var apiMessages = (await AdminApiClient.ProblemAsync(api)).GetProperty("errors").GetProperty(field).EnumerateArray().Select(m => m.GetString()!).ToList();
        var body = await console.Content.ReadAsStringAsync();
        Assert.NotEmpty(apiMessages);
        Assert.Equal(apiMessages, FieldErrors(body, field));
        Assert.Contains("The source was not saved.", body, StringComparison.Ordinal);
        Assert.Equal(before, await CountSourcesAsync());
    }

    [PrerequisiteFact]
    public async Task NewSourceForm_InviteNewUsersChecked_IsStoredAndShownOnTheSourcePage()
    {
        using var admin = await AdminApiClient.CreateAdminAsync(factory);
        var department = await AdminCallers.CreateDepartmentAsync(admin);
        var browser = await _console.AdminAsync();
        var name = AdminCallers.NewCode("OA");
        var fields = Form("scim", name, department);
        fields["Input.InviteNewUsers"] = "true";

        var created = await ConsoleDriver.PostAsync(browser, NewPage, NewPage, fields);

        Assert.True(created.StatusCode == HttpStatusCode.OK, ConsoleDriver.Text(await created.Content.ReadAsStringAsync()));
        var source = await SourceNamedAsync(name);
        Assert.True(source.InviteNewUsers);
        var page = await browser.GetStringAsync($"/admin/sources/{source.Id}");
        Assert.Contains("data-testid=\"source-invites\">Yes", page, StringComparison.Ordinal);
        Assert.Contains("name=\"Input.InviteNewUsers\" value=\"true\" checked=\"checked\"", page, StringComparison.Ordinal);
    }

    [PrerequisiteFact]
    public async Task NewSourceForm_PostedWithoutAntiforgeryToken_IsRefusedAndCreatesNothing()
    {
        using var admin = await AdminApiClient.CreateAdminAsync(factory);
        var department = await AdminCallers.CreateDepartmentAsync(admin);
        var browser = await _console.AdminAsync();
        await browser.GetStringAsync(NewPage);
        var before = await CountSourcesAsync();

        var response = await browser.PostAsync(NewPage, new FormUrlEncodedContent(Form("scim", AdminCallers.NewCode("OA"), department)));

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal(before, await CountSourcesAsync());
    }

    [PrerequisiteFact]
    public async Task RotateToken_ThroughItsConfirmation_ShowsTheNewTokenOnceAndRefusesTheOld()
    {
        using var admin = await AdminApiClient.CreateAdminAsync(factory);
        var (id, old) = await SourcesApiTests<TFactory>.CreateScimSourceAsync(admin);
        var browser = await _console.AdminAsync();
        var page = $"/admin/sources/{id}";

        var dialog = ConsoleDriver.Dialog(await browser.GetStringAsync($"{page}?confirm=rotate"), "rotate-token");
        var rotated = await ConsoleDriver.ConfirmAsync(browser, $"{page}?confirm=rotate", "rotate-token");

        Assert.NotNull(dialog);
        Assert.Contains(old[..(InboundSources.TokenPrefix.Length + 4)], ConsoleDriver.Text(dialog), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.OK, rotated.StatusCode);
        Assert.True(rotated.Headers.CacheControl?.NoStore, "A page that shows a token must not be stored by the browser.");
        var fresh = WebUtility.HtmlDecode(TokenField().Match(await rotated.Content.ReadAsStringAsync()).Groups[1].Value);
        Assert.StartsWith(InboundSources.TokenPrefix, fresh, StringComparison.Ordinal);
        Assert.Null(await AuthenticateAsync(old));
        Assert.Equal(id, (await AuthenticateAsync(fresh))?.Id);
        Assert.DoesNotContain(fresh, await browser.GetStringAsync(page), StringComparison.Ordinal);
    }

    [PrerequisiteFact]
    public async Task DeleteSource_ThroughItsConfirmation_IsGoneAndTheNoticeNamesIt()
    {
        using var admin = await AdminApiClient.CreateAdminAsync(factory);
        var (id, token) = await SourcesApiTests<TFactory>.CreateScimSourceAsync(admin);
        var browser = await _console.AdminAsync();
        var name = (await SourceAsync(id))!.Name;

        var deleted = await ConsoleDriver.ConfirmAsync(browser, $"/admin/sources/{id}?confirm=delete", "delete-source");

        Assert.Equal($"Source '{name}' deleted", await ConsoleDriver.NoticeAfterAsync(browser, deleted));
        Assert.Null(await SourceAsync(id));
        Assert.Null(await AuthenticateAsync(token));
    }

    [PrerequisiteFact]
    public async Task SourcePage_WithRunsAndConflicts_ShowsHealthCountsErrorsReportAndPeopleByName()
    {
        using var admin = await AdminApiClient.CreateAdminAsync(factory);
        var (id, _) = await SourcesApiTests<TFactory>.CreateScimSourceAsync(admin);
        var person = await new Oidc.OidcDriver(factory).CreateUserAsync();
        await using (var scope = factory.Services.CreateAsyncScope())
        {
            var db = scope.ServiceProvider.GetRequiredService<IdentityHubDbContext>();
            var at = DateTimeOffset.UtcNow.AddMinutes(-5);
            db.InboundRuns.Add(new InboundRun
            {
                Id = Guid.NewGuid(), SourceId = id, Kind = InboundRunKind.DryRun, StartedAt = at, FinishedAt = at, RequestedBy = "admin", Created = 7, Failed = 2,
                Errors = """["No department with code 'X-9'."]""", Report = """{"wouldCreate": 7, "people": [{"externalId": "hr-17", "action": "create"}]}""",
            });
            db.InboundConflicts.Add(new InboundConflict
            {
                SourceId = id, UserId = person.Id, Attribute = "manager", LocalValue = "a", SourceValue = "b", Resolution = "overwritten", ChangedBy = "admin", OccurredAt = at,
            });
            await db.SaveChangesAsync();
        }

        var browser = await _console.AdminAsync();
        var page = await browser.GetStringAsync($"/admin/sources/{id}");
        var report = await browser.GetStringAsync($"/admin/sources/{id}/report");
        var conflicts = await browser.GetStringAsync($"/admin/sources/{id}/conflicts");
        var list = await browser.GetStringAsync("/admin/sources");

        Assert.Contains("data-health=\"failing\"", page, StringComparison.Ordinal);
        Assert.Contains("data-count=\"created\">7<", page, StringComparison.Ordinal);
        Assert.Contains("No department with code &#x27;X-9&#x27;.", page, StringComparison.Ordinal);
        Assert.Contains("wouldCreate", page, StringComparison.Ordinal);
        Assert.Contains(person.DisplayName, page, StringComparison.Ordinal);
        Assert.Contains("hr-17", report, StringComparison.Ordinal);
        Assert.Contains(person.DisplayName, conflicts, StringComparison.Ordinal);
        Assert.Contains("data-count=\"failed\">2<", list, StringComparison.Ordinal);
    }

    private static Dictionary<string, string> Form(string kind, string name, Guid department) => new()
    {
        ["Input.Kind"] = kind,
        ["Input.Name"] = name,
        ["Input.Enabled"] = "true",
        ["Input.SubtreeIds[0]"] = department.ToString(),
        ["Input.OwnedPosted"] = "true",
        ["Input.OwnedAttributes"] = "displayName",
        ["Input.ConflictPolicy"] = "refuse",
        ["Input.Settings"] = "{}",
    };

    private static List<string> FieldErrors(string html, string field) =>
        [.. Regex.Matches(html, $"<span class=\"field-error\" data-error-for=\"{Regex.Escape(field)}\">(.*?)</span>", RegexOptions.Singleline)
            .Select(m => ConsoleDriver.Text(m.Groups[1].Value))];

    private async Task<InboundSource?> AuthenticateAsync(string token)
    {
        await using var scope = factory.Services.CreateAsyncScope();
        return await scope.ServiceProvider.GetRequiredService<InboundSources>().AuthenticateAsync(token, CancellationToken.None);
    }

    private async Task<InboundSource> SourceNamedAsync(string name) =>
        await QueryAsync(db => db.InboundSources.AsNoTracking().SingleAsync(s => s.Name == name));

    private Task<InboundSource?> SourceAsync(Guid id) => QueryAsync(db => db.InboundSources.AsNoTracking().SingleOrDefaultAsync(s => s.Id == id));

    private Task<int> CountSourcesAsync() => QueryAsync(db => db.InboundSources.CountAsync());

    private async Task<T> QueryAsync<T>(Func<IdentityHubDbContext, Task<T>> query)
    {
        await using var scope = factory.Services.CreateAsyncScope();
        return await query(scope.ServiceProvider.GetRequiredService<IdentityHubDbContext>());
    }

    [GeneratedRegex("id=\"source-token\"[^>]*value=\"([^\"]+)\"")]
    private static partial Regex TokenField();
}

public sealed class SqliteSourceConsoleTests(SqliteFactory factory) : SourceConsoleTests<SqliteFactory>(factory);

[Requires(Prerequisite.PostgreSql)]
public sealed class PostgreSqlSourceConsoleTests(PostgreSqlFactory factory) : SourceConsoleTests<PostgreSqlFactory>(factory);
