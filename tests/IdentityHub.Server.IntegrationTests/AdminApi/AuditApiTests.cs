using System.Net;
using System.Text.Json;
using IdentityHub.Testing;
using Microsoft.EntityFrameworkCore;
using static IdentityHub.Server.IntegrationTests.AdminApi.AdminCallers;

namespace IdentityHub.Server.IntegrationTests.AdminApi;

/// <summary>/audit: filters, the chain verification (before and after tampering with raw SQL), CSV and JSON export.</summary>
public abstract class AuditApiTests<TFactory>(TFactory factory) : IClassFixture<TFactory>
    where TFactory : IdentityHubFactory
{
    [PrerequisiteFact]
    public async Task Audit_FilterByTypeAndTarget_FindsTheChangeWithActorAndAfter()
    {
        var admin = await AdminApiClient.CreateAdminAsync(factory);
        var department = await CreateDepartmentAsync(admin, name: "Audited");

        var page = await JsonAsync(await admin.GetAsync($"{Audit}?type=department.created&target={department}"), HttpStatusCode.OK);
        var prefix = await JsonAsync(await admin.GetAsync($"{Audit}?type=department.&target={department}&from={Uri.EscapeDataString(DateTimeOffset.UtcNow.AddMinutes(-5).ToString("O"))}"), HttpStatusCode.OK);

        var entry = Assert.Single(page.GetProperty("items").EnumerateArray());
        Assert.Equal("identityhub-admin", entry.GetProperty("actorId").GetString());
        Assert.Contains("Audited", entry.GetProperty("after").GetString(), StringComparison.Ordinal);
        Assert.Equal(1, prefix.GetProperty("total").GetInt32());
    }

    [PrerequisiteFact]
    public async Task Audit_ApplicationAndClientChanges_AreRecordedWithoutTheSecret()
    {
        var admin = await AdminApiClient.CreateAdminAsync(factory);
        var created = await AdminApiClient.CreateServiceClientAsync(admin);
        var application = created.GetProperty("applicationId").GetGuid();
        var secret = created.GetProperty("registration").GetProperty("clientSecret").GetString()!;
        var rotated = await JsonAsync(await admin.PostAsync($"{AdminApiClient.Applications}/{application}/oidc/secret", null), HttpStatusCode.OK);
        await JsonAsync(await admin.DeleteAsync($"{AdminApiClient.Applications}/{application}"), HttpStatusCode.NoContent);

        var response = await admin.GetAsync($"{Audit}?targetType=application&target={application}&sort=sequence");
        var text = await response.Content.ReadAsStringAsync();
        var page = await JsonAsync(response, HttpStatusCode.OK);

        Assert.Equal(
            ["application.created", "client.registered", "client.secret-rotated", "application.deleted"],
            page.GetProperty("items").EnumerateArray().Select(e => e.GetProperty("type").GetString()));
        Assert.DoesNotContain(secret, text, StringComparison.Ordinal);
        Assert.DoesNotContain(rotated.GetProperty("clientSecret").GetString()!, text, StringComparison.Ordinal);
    }

    [PrerequisiteFact]
    public async Task Audit_ToBeforeFrom_Answers400NamingTo()
    {
        var admin = await AdminApiClient.CreateAdminAsync(factory);

        var response = await admin.GetAsync($"{Audit}?from=2026-02-01T00:00:00Z&to=2026-01-01T00:00:00Z");

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.True((await AdminApiClient.ProblemAsync(response)).GetProperty("errors").TryGetProperty("to", out _));
    }

    [PrerequisiteTheory]
    [InlineData("target name")]
    [InlineData("actor name")]
    [InlineData("event type")]
    public async Task Audit_Q_FindsByTargetNameActorNameOrTypeIgnoringCase(string what)
    {
        var admin = await AdminApiClient.CreateAdminAsync(factory);
        var name = "Searchable " + NewCode("q");
        var department = await CreateDepartmentAsync(admin, name: name);
        var recorded = Assert.Single((await JsonAsync(await admin.GetAsync($"{Audit}?target={department}"), HttpStatusCode.OK)).GetProperty("items").EnumerateArray());
        var text = what switch
        {
            "target name" => name.ToUpperInvariant(),
            "actor name" => recorded.GetProperty("actorName").GetString()!.ToUpperInvariant(),
            _ => "DEPARTMENT.CREATED",
        };
        // Narrowed to this department for the actor and type rows, whose text matches other events too.
        var narrowed = what == "target name" ? "" : $"&target={department}";

        var found = await JsonAsync(await admin.GetAsync($"{Audit}?q={Uri.EscapeDataString(text)}{narrowed}"), HttpStatusCode.OK);
        var missed = await JsonAsync(await admin.GetAsync($"{Audit}?q={Uri.EscapeDataString(text + " no such text")}{narrowed}"), HttpStatusCode.OK);

        var entry = Assert.Single(found.GetProperty("items").EnumerateArray());
        Assert.Equal(department.ToString(), entry.GetProperty("targetId").GetString());
        Assert.Equal(0, missed.GetProperty("total").GetInt32());
    }

    [PrerequisiteFact]
    public async Task AuditVerify_AfterARowIsTamperedWith_ReportsTheFirstBrokenSequence()
    {
        var admin = await AdminApiClient.CreateAdminAsync(factory);
        var department = await CreateDepartmentAsync(admin);
        await CreateDepartmentAsync(admin);
        var intact = await JsonAsync(await admin.GetAsync($"{Audit}/verify"), HttpStatusCode.OK);
        var row = await InDatabaseAsync(factory, db => db.AuditEvents.AsNoTracking()
            .SingleAsync(e => e.TargetId == department.ToString() && e.Type == "department.created"));
        var (sequence, actor) = (row.Sequence, row.ActorName);

        await InDatabaseAsync(factory, db => db.Database.ExecuteSqlAsync($"UPDATE \"AuditEvents\" SET \"ActorName\" = {"mallory"} WHERE \"Sequence\" = {sequence}"));
        JsonElement broken;
        try
        {
            broken = await JsonAsync(await admin.GetAsync($"{Audit}/verify"), HttpStatusCode.OK);
        }
        finally
        {
            await InDatabaseAsync(factory, db => db.Database.ExecuteSqlAsync($"UPDATE \"AuditEvents\" SET \"ActorName\" = {actor} WHERE \"Sequence\" = {sequence}"));
        }

        Assert.True(intact.GetProperty("intact").GetBoolean(), intact.ToString());
        Assert.False(broken.GetProperty("intact").GetBoolean());
        Assert.Equal(sequence, broken.GetProperty("firstBrokenSequence").GetInt64());
    }

    [PrerequisiteFact]
    public async Task AuditExport_Csv_HasAHeaderAndTheFilteredRows()
    {
        var admin = await AdminApiClient.CreateAdminAsync(factory);
        var department = await CreateDepartmentAsync(admin, name: "Exported, with a comma");

        var response = await admin.GetAsync($"{Audit}/export?format=csv&target={department}");
        var lines = (await response.Content.ReadAsStringAsync()).Split('\n', StringSplitOptions.RemoveEmptyEntries);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("text/csv", response.Content.Headers.ContentType?.MediaType);
        Assert.Equal("attachment", response.Content.Headers.ContentDisposition?.DispositionType);
        Assert.StartsWith("Sequence,OccurredAt,Type,ActorId,ActorName", lines[0], StringComparison.Ordinal);
        Assert.Equal(2, lines.Length);
        Assert.Contains("department.created", lines[1], StringComparison.Ordinal);
    }

    [PrerequisiteFact]
    public async Task AuditExport_Json_IsAnArrayOfTheFilteredEvents()
    {
        var admin = await AdminApiClient.CreateAdminAsync(factory);
        var department = await CreateDepartmentAsync(admin);

        var events = await JsonAsync(await admin.GetAsync($"{Audit}/export?format=json&target={department}"), HttpStatusCode.OK);

        var entry = Assert.Single(events.EnumerateArray());
        Assert.Equal(department.ToString(), entry.GetProperty("targetId").GetString());
        Assert.Equal(64, entry.GetProperty("hash").GetString()!.Length);
    }

    [PrerequisiteFact]
    public async Task AuditExport_CsvCellsThatASpreadsheetWouldRunAsFormulas_StartWithAQuote()
    {
        var admin = await AdminApiClient.CreateAdminAsync(factory);
        var typed = new[] { "=1+2", "+1+2", "-1+2", "@SUM(A1)", "\tTAB" };
        foreach (var name in typed)
        {
            await BrowserSession.SignInAsync(factory.CreateBrowserLikeClient(), name, "not-a-password");
        }

        var since = Uri.EscapeDataString(DateTimeOffset.UtcNow.AddMinutes(-5).ToString("O"));
        var csv = await (await admin.GetAsync($"{Audit}/export?format=csv&type=signin.failed&from={since}")).Content.ReadAsStringAsync();

        foreach (var name in typed)
        {
            var escaped = System.Text.RegularExpressions.Regex.Escape(name);
            Assert.Matches($",\"?'{escaped}\"?,", csv);
            Assert.DoesNotMatch($",\"?{escaped}", csv);
        }
    }

    [PrerequisiteFact]
    public async Task Audit_HrAdmin_IsForbiddenTheTrail()
    {
        var (hr, _) = await CreateAsync(factory, IdentityHub.Core.Directory.AdminRoles.HrAdmin);

        Assert.Equal(HttpStatusCode.Forbidden, (await hr.GetAsync(Audit)).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await hr.GetAsync($"{Audit}/export")).StatusCode);
    }

    [PrerequisiteFact]
    public async Task EndSessionsAndSuspend_UserWithTokens_AuditTheRevocationWithTheCount()
    {
        var admin = await AdminApiClient.CreateAdminAsync(factory);
        var rp = new IdentityHub.Server.IntegrationTests.Oidc.OidcDriver(factory);
        var clientId = await rp.RegisterClientAsync();
        var (code, verifier, _, user) = await rp.ObtainCodeAsync(clientId, "openid offline_access");
        Assert.Equal(HttpStatusCode.OK, (await rp.RedeemCodeAsync(clientId, code, verifier)).StatusCode);

        await JsonAsync(await admin.PostAsync($"{Users}/{user.Id}/end-sessions", null), HttpStatusCode.NoContent);
        await PostAsync(admin, $"{Users}/{user.Id}/suspend", new { reason = "Investigation" }, HttpStatusCode.OK);

        var events = await InDatabaseAsync(factory, db => db.AuditEvents.AsNoTracking()
            .Where(e => e.TargetId == user.Id && e.Type == "user.sessions-ended").OrderBy(e => e.Sequence).ToListAsync());
        Assert.Equal(2, events.Count);
        Assert.Matches("\"revokedTokens\":[1-9]", events[0].After!);
        Assert.Equal("identityhub-admin", events[0].ActorId);
        Assert.Contains("\"because\":\"user.suspended\"", events[1].After!, StringComparison.Ordinal);
    }

    [PrerequisiteFact]
    public async Task AuditExport_UnknownFormat_Answers400NamingFormat()
    {
        var admin = await AdminApiClient.CreateAdminAsync(factory);

        var response = await admin.GetAsync($"{Audit}/export?format=xml");

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.True((await AdminApiClient.ProblemAsync(response)).GetProperty("errors").TryGetProperty("format", out _));
    }
}

public sealed class SqliteAuditApiTests(SqliteFactory factory) : AuditApiTests<SqliteFactory>(factory);

[Requires(Prerequisite.PostgreSql)]
public sealed class PostgreSqlAuditApiTests(PostgreSqlFactory factory) : AuditApiTests<PostgreSqlFactory>(factory);
