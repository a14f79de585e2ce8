using System.Net;
using System.Net.Http.Json;
using IdentityHub.Core.Directory;
using IdentityHub.Data;
using IdentityHub.Data.Access;
using IdentityHub.Server.IntegrationTests.Oidc;
using IdentityHub.Testing;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Microsoft.AspNetCore.Routing;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace IdentityHub.Server.IntegrationTests.Admin;

/// <summary>
/// Every console page × every admin role (and a plain employee), taken from the live route table so a new page
/// cannot escape: who may open it, and that a forged write by anyone who may not change it is refused with 403.
/// The expectations are written out here, independently of the server's own section table.
/// </summary>
public abstract class ConsoleAuthorizationTests<TFactory>(TFactory factory) : IClassFixture<TFactory>
    where TFactory : IdentityHubFactory
{
    private const string Plain = "(no admin role)";

    private static readonly string[] Roles = [AdminRoles.SuperAdmin, AdminRoles.SecurityAdmin, AdminRoles.HrAdmin, AdminRoles.Auditor, Plain];

    /// <summary>Folder → (who may read, who may write). A page in a folder missing here fails the test.</summary>
    private static readonly Dictionary<string, (string[] Readers, string[] Writers)> Expected = new(StringComparer.Ordinal)
    {
        ["/Admin"] = ([AdminRoles.SuperAdmin, AdminRoles.SecurityAdmin, AdminRoles.HrAdmin, AdminRoles.Auditor], []),
        // Security administrators read people's pages to end their sessions (a handler of its own, tested below).
        ["/Admin/Users"] = ([AdminRoles.SuperAdmin, AdminRoles.SecurityAdmin, AdminRoles.HrAdmin, AdminRoles.Auditor], [AdminRoles.SuperAdmin, AdminRoles.HrAdmin]),
        ["/Admin/Departments"] = ([AdminRoles.SuperAdmin, AdminRoles.HrAdmin, AdminRoles.Auditor], [AdminRoles.SuperAdmin, AdminRoles.HrAdmin]),
        ["/Admin/Assignments"] = ([AdminRoles.SuperAdmin, AdminRoles.HrAdmin, AdminRoles.Auditor], [AdminRoles.SuperAdmin, AdminRoles.HrAdmin]),
        ["/Admin/Applications"] = ([AdminRoles.SuperAdmin, AdminRoles.SecurityAdmin, AdminRoles.Auditor], [AdminRoles.SuperAdmin, AdminRoles.SecurityAdmin]),
        ["/Admin/Roles"] = ([AdminRoles.SuperAdmin, AdminRoles.SecurityAdmin, AdminRoles.Auditor], [AdminRoles.SuperAdmin, AdminRoles.SecurityAdmin]),
        ["/Admin/SeparationOfDuty"] = ([AdminRoles.SuperAdmin, AdminRoles.SecurityAdmin, AdminRoles.Auditor], [AdminRoles.SuperAdmin, AdminRoles.SecurityAdmin]),
        ["/Admin/Provisioning"] = ([AdminRoles.SuperAdmin, AdminRoles.SecurityAdmin, AdminRoles.HrAdmin, AdminRoles.Auditor], [AdminRoles.SuperAdmin, AdminRoles.SecurityAdmin]),
        ["/Admin/Sources"] = ([AdminRoles.SuperAdmin], [AdminRoles.SuperAdmin]),
        ["/Admin/Audit"] = ([AdminRoles.SuperAdmin, AdminRoles.SecurityAdmin, AdminRoles.Auditor], []),
    };

    private readonly OidcDriver _driver = new(factory);

    [PrerequisiteFact]
    public async Task EveryConsolePage_EveryAdminRole_OpensOnlyForItsReadersAndRefusesWritesByOthers()
    {
        var samples = await SampleIdsAsync();
        var pages = ConsolePages().ToList();
        Assert.True(pages.Count >= 10, $"Expected the console's pages in the route table, found {pages.Count}.");
        var failures = new List<string>();

        foreach (var role in Roles)
        {
            var client = await SignedInAsync(role);
            var token = BrowserSession.AntiforgeryToken(await client.GetStringAsync(role == Plain ? "/" : "/admin"));
            foreach (var (viewPath, template) in pages)
            {
                var folder = Expected.Keys.Where(f => viewPath.StartsWith(f + "/", StringComparison.Ordinal)).MaxBy(f => f.Length);
                Assert.True(folder is not null, $"{viewPath} is in no folder the test knows: add its expected readers and writers.");
                var (readers, writers) = Expected[folder!];
                var url = Fill(template, viewPath, samples);

                var get = await client.GetAsync(url);
                var opened = get.StatusCode == HttpStatusCode.OK;
                if (readers.Contains(role) ? !opened : !IsAccessDenied(get))
                {
                    failures.Add($"GET {url} as {role}: {(int)get.StatusCode} {get.Headers.Location}");
                }

                // Readers who may not write get 403 from the write filter; others never reach the page at all.
                if (!writers.Contains(role))
                {
                    var post = await client.PostAsync(url, new FormUrlEncodedContent(new Dictionary<string, string> { ["__RequestVerificationToken"] = token }));
                    if (readers.Contains(role) ? post.StatusCode != HttpStatusCode.Forbidden : !IsAccessDenied(post))
                    {
                        failures.Add($"POST {url} as {role}: {(int)post.StatusCode} {post.Headers.Location}, expected to be refused");
                    }
                }
            }
        }

        Assert.True(failures.Count == 0, string.Join('\n', failures));
    }

    [PrerequisiteFact]
    public async Task EndSessions_OnAPersonsPage_SecurityAdminMayAndHrAdminMayNot()
    {
        var target = await _driver.CreateUserAsync();
        var security = await SignedInAsync(AdminRoles.SecurityAdmin);
        var hr = await SignedInAsync(AdminRoles.HrAdmin);
        var url = $"/admin/users/{target.Id}";
        var securityPage = await security.GetStringAsync(url);
        var hrPage = await hr.GetStringAsync(url);
        var securityConfirmation = ConsoleDriver.Dialog(await security.GetStringAsync($"{url}?confirm=endSessions"), "end-sessions");
        var hrConfirmation = ConsoleDriver.Dialog(await hr.GetStringAsync($"{url}?confirm=endSessions"), "end-sessions");

        var refused = await PostHandlerAsync(hr, url, "endSessions", BrowserSession.AntiforgeryToken(hrPage));
        var stampAfterRefusal = await StampAsync(target.Id);
        var ended = await PostHandlerAsync(security, url, "endSessions", BrowserSession.AntiforgeryToken(securityPage));
        var suspendBySecurity = await PostHandlerAsync(security, url, "suspend", BrowserSession.AntiforgeryToken(securityPage));

        Assert.Contains("data-testid=\"end-sessions\"", securityPage, StringComparison.Ordinal);
        Assert.DoesNotContain("data-testid=\"status-form\"", securityPage, StringComparison.Ordinal);
        Assert.DoesNotContain("data-testid=\"end-sessions\"", hrPage, StringComparison.Ordinal);
        Assert.NotNull(securityConfirmation);
        Assert.Null(hrConfirmation);
        Assert.Equal(HttpStatusCode.Forbidden, refused.StatusCode);
        Assert.Equal(target.SecurityStamp, stampAfterRefusal);
        Assert.Equal(HttpStatusCode.Redirect, ended.StatusCode);
        Assert.NotEqual(target.SecurityStamp, await StampAsync(target.Id));
        Assert.Equal(HttpStatusCode.Forbidden, suspendBySecurity.StatusCode);
    }

    [PrerequisiteFact]
    public async Task AuditTrail_HrAdmin_SeesItNeitherOnTheDashboardNorOnAPersonsPage()
    {
        var target = await _driver.CreateUserAsync();
        var hr = await SignedInAsync(AdminRoles.HrAdmin);
        var auditor = await SignedInAsync(AdminRoles.Auditor);

        var hrDashboard = await hr.GetStringAsync("/admin");
        var hrPerson = await hr.GetStringAsync($"/admin/users/{target.Id}");
        var auditorDashboard = await auditor.GetStringAsync("/admin");
        var auditorPerson = await auditor.GetStringAsync($"/admin/users/{target.Id}");

        Assert.DoesNotContain("recent-heading", hrDashboard, StringComparison.Ordinal);
        Assert.DoesNotContain("trail-heading", hrPerson, StringComparison.Ordinal);
        Assert.Contains("recent-heading", auditorDashboard, StringComparison.Ordinal);
        Assert.Contains("trail-heading", auditorPerson, StringComparison.Ordinal);
    }

    [PrerequisiteFact]
    public async Task AdminApiWrite_AuditorConsoleCookieWithAntiforgeryToken_Gets403()
    {
        var client = await SignedInAsync(AdminRoles.Auditor);
        var token = BrowserSession.AntiforgeryToken(await client.GetStringAsync("/admin"));
        using var request = new HttpRequestMessage(HttpMethod.Post, "/api/admin/v1/applications")
        {
            Content = JsonContent.Create(new { name = "Auditor's application" }),
        };
        request.Headers.Add("RequestVerificationToken", token);

        var response = await client.SendAsync(request);

        Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
    }

    private static Task<HttpResponseMessage> PostHandlerAsync(HttpClient client, string url, string handler, string token) =>
        client.PostAsync($"{url}?handler={handler}", new FormUrlEncodedContent(new Dictionary<string, string> { ["__RequestVerificationToken"] = token }));

    private async Task<string?> StampAsync(string userId)
    {
        await using var scope = factory.Services.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<IdentityHubDbContext>();
        return await db.Users.Where(u => u.Id == userId).Select(u => u.SecurityStamp).SingleAsync();
    }

    /// <summary>The console sends a signed-in person without the role to the "not allowed" page.</summary>
    private static bool IsAccessDenied(HttpResponseMessage response) =>
        response.StatusCode == HttpStatusCode.Redirect
        && response.Headers.Location?.AbsolutePath.StartsWith("/account/access-denied", StringComparison.Ordinal) == true;

    /// <summary>The console's pages: (view path, route template) of every Razor page under /Admin.</summary>
    private IEnumerable<(string ViewPath, string Template)> ConsolePages() =>
        factory.Services.GetRequiredService<EndpointDataSource>().Endpoints.OfType<RouteEndpoint>()
            .Select(e => (Page: e.Metadata.GetMetadata<PageActionDescriptor>(), e.RoutePattern.RawText))
            .Where(p => p.Page is not null && p.Page.ViewEnginePath.StartsWith("/Admin/", StringComparison.Ordinal))
            .Select(p => (p.Page!.ViewEnginePath, "/" + p.RawText!.TrimStart('/')))
            .Distinct();

    /// <summary>Route parameters filled with real ids, so authorized readers see the page itself; an unknown parameter fails the test.</summary>
    private static string Fill(string template, string viewPath, Dictionary<string, string> samples)
    {
        var url = template.Replace("{id?}", "", StringComparison.Ordinal).TrimEnd('/');
        if (!url.Contains('{', StringComparison.Ordinal))
        {
            return url;
        }

        // {id} is the folder's own resource; any other parameter ({permissionId}) has a sample by its name.
        var folder = viewPath.Split('/')[2];
        return System.Text.RegularExpressions.Regex.Replace(url, @"\{([A-Za-z]+)(:[a-z]+)?\}", parameter =>
        {
            var key = parameter.Groups[1].Value == "id" ? folder : parameter.Groups[1].Value;
            Assert.True(samples.TryGetValue(key, out var id), $"No sample id for {parameter.Value} in the route {template} of {viewPath}: add one.");
            return id!;
        });
    }

    private async Task<Dictionary<string, string>> SampleIdsAsync()
    {
        var user = await _driver.CreateUserAsync();
        var department = await _driver.CreateDepartmentAsync("Authorization matrix");
        await using var scope = factory.Services.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<IdentityHubDbContext>();
        var application = new Application { Id = Guid.NewGuid(), Name = OidcDriver.NewId("matrix-app"), CreatedAt = DateTimeOffset.UtcNow, UpdatedAt = DateTimeOffset.UtcNow };
        db.Applications.Add(application);
        var connector = new IdentityHub.Data.Provisioning.Connector
        {
            Id = Guid.NewGuid(), ApplicationId = application.Id, Name = "matrix", Kind = IdentityHub.Data.Provisioning.ConnectorKind.Scim,
            Settings = """{"baseUrl":"http://127.0.0.1:9/scim/v2"}""", CreatedAt = DateTimeOffset.UtcNow, UpdatedAt = DateTimeOffset.UtcNow,
        };
        db.Connectors.Add(connector);
        var source = new IdentityHub.Data.Inbound.InboundSource
        {
            Id = Guid.NewGuid(), Name = OidcDriver.NewId("matrix-source"), Kind = IdentityHub.Data.Inbound.InboundSourceKind.Scim,
            CreatedAt = DateTimeOffset.UtcNow, UpdatedAt = DateTimeOffset.UtcNow,
        };
        db.InboundSources.Add(source);
        var permission = new Permission { Id = Guid.NewGuid(), ApplicationId = application.Id, Name = "matrix.read", CreatedAt = DateTimeOffset.UtcNow, UpdatedAt = DateTimeOffset.UtcNow };
        db.Permissions.Add(permission);
        var role = new Role { Id = Guid.NewGuid(), ApplicationId = application.Id, Name = "matrix-reader", CreatedAt = DateTimeOffset.UtcNow, UpdatedAt = DateTimeOffset.UtcNow };
        db.AccessRoles.Add(role);
        await db.SaveChangesAsync();
        return new(StringComparer.Ordinal)
        {
            ["Provisioning"] = connector.Id.ToString(),
            ["Sources"] = source.Id.ToString(),
            ["Users"] = user.Id,
            ["Departments"] = department.ToString(),
            ["Applications"] = application.Id.ToString(),
            ["permissionId"] = permission.Id.ToString(),
            ["Roles"] = role.Id.ToString(),
        };
    }

    private async Task<HttpClient> SignedInAsync(string role)
    {
        var client = factory.CreateBrowserLikeClient();
        if (role == AdminRoles.SuperAdmin)
        {
            await BrowserSession.SignInAsync(client, "admin", IdentityHubFactory.AdminPassword);
            return client;
        }

        var user = await _driver.CreateUserAsync();
        if (role != Plain)
        {
            await _driver.AddRoleAsync(user, role);
        }

        await BrowserSession.SignInAsync(client, user.UserName!, OidcDriver.Password);
        return client;
    }
}

public sealed class SqliteConsoleAuthorizationTests(SqliteFactory factory) : ConsoleAuthorizationTests<SqliteFactory>(factory);

[Requires(Prerequisite.PostgreSql)]
public sealed class PostgreSqlConsoleAuthorizationTests(PostgreSqlFactory factory) : ConsoleAuthorizationTests<PostgreSqlFactory>(factory);
