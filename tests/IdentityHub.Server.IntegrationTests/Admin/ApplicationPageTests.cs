using System.Net;
using IdentityHub.Data;
using IdentityHub.Server.IntegrationTests.AdminApi;
using IdentityHub.Testing;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace IdentityHub.Server.IntegrationTests.Admin;

/// <summary>The console's application page: the access-loss setting, posted the way a browser does (antiforgery token included).</summary>
public abstract class ApplicationPageTests<TFactory>(TFactory factory) : IClassFixture<TFactory>
    where TFactory : IdentityHubFactory
{
    [PrerequisiteFact]
    public async Task AccessLossForm_Unticked_SwitchesRevocationOffAndAuditsIt()
    {
        using var admin = await AdminApiClient.CreateAdminAsync(factory);
        var id = await AdminApiClient.CreateApplicationAsync(admin);
        var browser = factory.CreateBrowserLikeClient();
        await BrowserSession.SignInAsync(browser, "admin", IdentityHubFactory.AdminPassword);
        var page = await browser.GetStringAsync($"/admin/applications/{id}");
        Assert.Matches("<input type=\"checkbox\" name=\"revokeTokensOnAccessLoss\" value=\"true\" checked=\"checked\"", page);

        var saved = await browser.PostAsync($"/admin/applications/{id}?handler=accessLoss", new FormUrlEncodedContent(new Dictionary<string, string>
        {
            ["__RequestVerificationToken"] = BrowserSession.AntiforgeryToken(page),
            ["revision"] = await RevisionAsync(id),
            // What a browser sends for an unticked box: only the hidden fallback.
            ["revokeTokensOnAccessLoss"] = "false",
        }));

        Assert.Equal(HttpStatusCode.Redirect, saved.StatusCode);
        await using var scope = factory.Services.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<IdentityHubDbContext>();
        Assert.False((await db.Applications.AsNoTracking().SingleAsync(a => a.Id == id)).RevokeTokensOnAccessLoss);
        var audited = await db.AuditEvents.AsNoTracking().Where(e => e.TargetId == id.ToString() && e.Type == "application.updated").SingleAsync();
        Assert.Contains("\"revokeTokensOnAccessLoss\":false", audited.After, StringComparison.Ordinal);
        Assert.DoesNotMatch("name=\"revokeTokensOnAccessLoss\" value=\"true\" checked", await browser.GetStringAsync($"/admin/applications/{id}"));
    }

    [PrerequisiteFact]
    public async Task AccessLossForm_StaleRevision_IsRefusedAndChangesNothing()
    {
        using var admin = await AdminApiClient.CreateAdminAsync(factory);
        var id = await AdminApiClient.CreateApplicationAsync(admin);
        var browser = factory.CreateBrowserLikeClient();
        await BrowserSession.SignInAsync(browser, "admin", IdentityHubFactory.AdminPassword);
        var page = await browser.GetStringAsync($"/admin/applications/{id}");

        var refused = await browser.PostAsync($"/admin/applications/{id}?handler=accessLoss", new FormUrlEncodedContent(new Dictionary<string, string>
        {
            ["__RequestVerificationToken"] = BrowserSession.AntiforgeryToken(page),
            ["revision"] = "1",
            ["revokeTokensOnAccessLoss"] = "false",
        }));

        Assert.Equal(HttpStatusCode.PreconditionFailed, refused.StatusCode);
        await using var scope = factory.Services.CreateAsyncScope();
        Assert.True((await scope.ServiceProvider.GetRequiredService<IdentityHubDbContext>().Applications.AsNoTracking().SingleAsync(a => a.Id == id)).RevokeTokensOnAccessLoss);
    }

    private async Task<string> RevisionAsync(Guid id)
    {
        await using var scope = factory.Services.CreateAsyncScope();
        var application = await scope.ServiceProvider.GetRequiredService<IdentityHubDbContext>().Applications.AsNoTracking().SingleAsync(a => a.Id == id);
        return IdentityHub.Core.Revision.Of(application.UpdatedAt).ToString(System.Globalization.CultureInfo.InvariantCulture);
    }
}

public sealed class SqliteApplicationPageTests(SqliteFactory factory) : ApplicationPageTests<SqliteFactory>(factory);

[Requires(Prerequisite.PostgreSql)]
public sealed class PostgreSqlApplicationPageTests(PostgreSqlFactory factory) : ApplicationPageTests<PostgreSqlFactory>(factory);
