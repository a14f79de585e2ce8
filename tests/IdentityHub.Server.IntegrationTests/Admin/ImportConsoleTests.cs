using System.Net;
using System.Net.Http.Headers;
using System.Text;
using IdentityHub.Core.Directory;
using IdentityHub.Server.IntegrationTests.AdminApi;
using IdentityHub.Testing;
using Microsoft.EntityFrameworkCore;

namespace IdentityHub.Server.IntegrationTests.Admin;

/// <summary>
/// The console's Import people page, posted as a browser without JavaScript posts it: the same <see cref="CsvImport"/> as the
/// admin API, with the invite checkbox inviting exactly the people the import creates with an e-mail address.
/// </summary>
public abstract class ImportConsoleTests<TFactory>(TFactory factory) : IClassFixture<TFactory>
    where TFactory : IdentityHubFactory
{
    private const string Page = "/admin/users/import";

    private readonly ConsoleDriver _console = new(factory);

    [PrerequisiteTheory]
    [InlineData(true, 1)]
    [InlineData(false, 0)]
    public async Task ImportPage_Commit_InvitesTheCreatedPersonWithAnEmailOnlyWhenChecked(bool invite, int invitations)
    {
        var browser = await _console.AdminAsync();
        var (withEmail, withoutEmail) = (AdminCallers.NewCode("E"), AdminCallers.NewCode("E"));
        var csv = $"employeeNumber,userName,displayName,email\n{withEmail},{AdminCallers.NewCode("u")},Mailed,{withEmail.ToLowerInvariant()}@example.test\n"
            + $"{withoutEmail},{AdminCallers.NewCode("u")},Unmailed,\n";

        var response = await PostAsync(browser, csv, invite, commit: true);

        var html = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, ConsoleDriver.Text(html));
        Assert.Contains($"data-testid=\"import-invited\">{invitations}<", html, StringComparison.Ordinal);
        Assert.Equal(invite, html.Contains("data-testid=\"import-notes\"", StringComparison.Ordinal));
        var ids = await AdminCallers.InDatabaseAsync(factory, db => db.Users.Where(u => u.EmployeeNumber == withEmail || u.EmployeeNumber == withoutEmail).Select(u => u.Id).ToListAsync());
        Assert.Equal(2, ids.Count);
        Assert.Equal(invitations, await AdminCallers.InDatabaseAsync(factory, db => db.MailOutbox.CountAsync(m => m.UserId != null && ids.Contains(m.UserId))));
    }

    [PrerequisiteFact]
    public async Task ImportPage_Check_CountsWhoWouldBeInvitedAndWritesNothing()
    {
        var browser = await _console.AdminAsync();
        var employee = AdminCallers.NewCode("E");
        var address = $"{employee.ToLowerInvariant()}@example.test";

        var response = await PostAsync(browser, $"employeeNumber,userName,displayName,email\n{employee},{AdminCallers.NewCode("u")},Checked,{address}\n", invite: true, commit: false);

        var html = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, ConsoleDriver.Text(html));
        Assert.Contains("data-testid=\"import-invited\">1<", html, StringComparison.Ordinal);
        Assert.False(await AdminCallers.InDatabaseAsync(factory, db => db.Users.AnyAsync(u => u.EmployeeNumber == employee)));
        Assert.False(await AdminCallers.InDatabaseAsync(factory, db => db.MailOutbox.AnyAsync(m => m.ToAddress == address)));
    }

    private static async Task<HttpResponseMessage> PostAsync(HttpClient browser, string csv, bool invite, bool commit)
    {
        using var form = new MultipartFormDataContent
        {
            { new StringContent(BrowserSession.AntiforgeryToken(await browser.GetStringAsync(Page))), "__RequestVerificationToken" },
            { new StringContent(invite ? "true" : "false"), "Invite" },
            { new StringContent(commit ? "true" : "false"), "commit" },
        };
        var file = new ByteArrayContent(Encoding.UTF8.GetBytes(csv));
        file.Headers.ContentType = new MediaTypeHeaderValue("text/csv");
        form.Add(file, "file", "people.csv");
        return await browser.PostAsync(Page, form);
    }
}

public sealed class SqliteImportConsoleTests(SqliteFactory factory) : ImportConsoleTests<SqliteFactory>(factory);

[Requires(Prerequisite.PostgreSql)]
public sealed class PostgreSqlImportConsoleTests(PostgreSqlFactory factory) : ImportConsoleTests<PostgreSqlFactory>(factory);
