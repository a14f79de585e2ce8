using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using IdentityHub.Core.Directory;
using IdentityHub.Core.Inbound;
using IdentityHub.Data;
using IdentityHub.Data.Inbound;
using IdentityHub.Provisioning.Inbound;
using IdentityHub.Server.IntegrationTests.Scim;
using IdentityHub.Testing;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using static IdentityHub.Server.IntegrationTests.AdminApi.AdminCallers;

namespace IdentityHub.Server.IntegrationTests.AdminApi;

/// <summary>
/// /sources through the admin API over the InboundSources registry: a SCIM source's token shown once and accepted by
/// <see cref="InboundSources.AuthenticateAsync"/>, rotation and revocation refusing the old token, super administrators only,
/// refusals naming the field with nothing written, If-Match, runs and conflicts as the console shows them.
/// </summary>
public abstract class SourcesApiTests<TFactory>(TFactory factory) : IClassFixture<TFactory>
    where TFactory : IdentityHubFactory
{
    public const string Sources = "/api/admin/v1/sources";

    [PrerequisiteFact]
    public async Task Create_ScimSource_Answers201WithTheTokenOnceAndTheTokenAuthenticates()
    {
        var admin = await AdminApiClient.CreateAdminAsync(factory);
        var department = await CreateDepartmentAsync(admin);
        var name = NewCode("OA");

        var response = await admin.PostAsJsonAsync(Sources, new { name, kind = "scim", subtrees = new[] { department } });
        var created = await JsonAsync(response, HttpStatusCode.Created);
        var id = created.GetProperty("id").GetGuid();
        var token = created.GetProperty("token").GetString()!;
        var read = await JsonAsync(await admin.GetAsync($"{Sources}/{id}"), HttpStatusCode.OK);
        var listed = await JsonAsync(await admin.GetAsync(Sources), HttpStatusCode.OK);

        Assert.Equal($"{Sources}/{id}", response.Headers.Location?.AbsolutePath);
        Assert.True(response.Headers.CacheControl?.NoStore, "An answer carrying a token must not be stored.");
        Assert.StartsWith(InboundSources.TokenPrefix, token, StringComparison.Ordinal);
        Assert.EndsWith("/scim/v2", created.GetProperty("scimUrl").GetString(), StringComparison.Ordinal);
        Assert.Equal(id, (await AuthenticateAsync(token))?.Id);
        Assert.DoesNotContain(token, read.ToString(), StringComparison.Ordinal);
        Assert.Equal(JsonValueKind.Null, read.GetProperty("token").ValueKind);
        Assert.StartsWith(read.GetProperty("tokenHint").GetString()!, token, StringComparison.Ordinal);
        Assert.Equal(new[] { department }, read.GetProperty("subtrees").EnumerateArray().Select(t => t.GetProperty("id").GetGuid()));
        Assert.Equal("displayName,department,manager,status", string.Join(',', read.GetProperty("ownedAttributes").EnumerateArray().Select(a => a.GetString())));
        Assert.Equal("never-run", read.GetProperty("health").GetString());
        var row = Assert.Single(listed.EnumerateArray(), s => s.GetProperty("id").GetGuid() == id);
        Assert.Equal((name, "scim"), (row.GetProperty("name").GetString(), row.GetProperty("kind").GetString()));
    }

    [PrerequisiteFact]
    public async Task RotateToken_TheOldTokenIsRefusedAndTheNewOneWorks_RevokeRefusesBoth()
    {
        var admin = await AdminApiClient.CreateAdminAsync(factory);
        var (id, old) = await CreateScimSourceAsync(admin);

        var rotated = await admin.PostAsync($"{Sources}/{id}/token", null);
        var body = await JsonAsync(rotated, HttpStatusCode.OK);
        var fresh = body.GetProperty("token").GetString()!;

        Assert.True(rotated.Headers.CacheControl?.NoStore, "An answer carrying a token must not be stored.");
        Assert.NotEqual(old, fresh);
        Assert.Null(await AuthenticateAsync(old));
        Assert.Equal(id, (await AuthenticateAsync(fresh))?.Id);

        var revoked = await admin.DeleteAsync($"{Sources}/{id}/token");

        Assert.Equal(HttpStatusCode.NoContent, revoked.StatusCode);
        Assert.Null(await AuthenticateAsync(fresh));
        Assert.Equal(JsonValueKind.Null, (await JsonAsync(await admin.GetAsync($"{Sources}/{id}"), HttpStatusCode.OK)).GetProperty("tokenHint").ValueKind);
    }

    [PrerequisiteTheory]
    [InlineData(AdminRoles.SecurityAdmin)]
    [InlineData(AdminRoles.HrAdmin)]
    [InlineData(AdminRoles.Auditor)]
    public async Task Sources_AnAdministratorWhoIsNotSuper_Is403AndNothingIsWritten(string role)
    {
        var admin = await AdminApiClient.CreateAdminAsync(factory);
        var department = await CreateDepartmentAsync(admin);
        var (id, token) = await CreateScimSourceAsync(admin);
        var (caller, _) = await CreateAsync(factory, role, department);
        var name = NewCode("Refused");
        var before = await CountSourcesAsync();

        var list = await caller.GetAsync(Sources);
        var create = await caller.PostAsJsonAsync(Sources, new { name, kind = "scim", subtrees = new[] { department } });
        var rotate = await caller.PostAsync($"{Sources}/{id}/token", null);
        var delete = await caller.DeleteAsync($"{Sources}/{id}");

        Assert.All(new[] { list, create, rotate, delete }, r => Assert.Equal(HttpStatusCode.Forbidden, r.StatusCode));
        Assert.Equal(before, await CountSourcesAsync());
        Assert.Equal(id, (await AuthenticateAsync(token))?.Id);
    }

    [PrerequisiteTheory]
    [InlineData("""{"name": "", "kind": "scim", "subtrees": ["{dept}"]}""", "name")]
    [InlineData("""{"name": "{name}", "kind": "ldap", "subtrees": ["{dept}"]}""", "kind")]
    [InlineData("""{"name": "{name}", "kind": "scim", "subtrees": []}""", "subtrees")]
    [InlineData("""{"name": "{name}", "kind": "scim", "subtrees": ["00000000-0000-0000-0000-000000000001"]}""", "subtrees")]
    [InlineData("""{"name": "{name}", "kind": "scim", "subtrees": ["{dept}"], "ownedAttributes": ["salary"]}""", "ownedAttributes")]
    [InlineData("""{"name": "{name}", "kind": "scim", "subtrees": ["{dept}"], "conflictPolicy": "fight"}""", "conflictPolicy")]
    [InlineData("""{"name": "{name}", "kind": "scim", "subtrees": ["{dept}"], "settings": [1, 2]}""", "settings")]
    [InlineData("""{"name": "{name}", "kind": "scim", "subtrees": ["{dept}"], "inviteNewUsers": "yes"}""", "inviteNewUsers")]
    public async Task Create_BadInput_Is400NamingTheFieldAndWritesNothing(string body, string field)
    {
        var admin = await AdminApiClient.CreateAdminAsync(factory);
        var department = await CreateDepartmentAsync(admin);
        var before = await CountSourcesAsync();
        var json = body.Replace("{dept}", department.ToString(), StringComparison.Ordinal).Replace("{name}", NewCode("Bad"), StringComparison.Ordinal);

        var response = await admin.PostAsync(Sources, new StringContent(json, System.Text.Encoding.UTF8, "application/json"));

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var problem = await AdminApiClient.ProblemAsync(response);
        Assert.True(problem.GetProperty("errors").TryGetProperty(field, out var messages), problem.ToString());
        Assert.NotEmpty(messages.EnumerateArray());
        Assert.Equal(before, await CountSourcesAsync());
    }

    [PrerequisiteFact]
    public async Task Update_IfMatchOfAnOlderRead_Is412AndKeepsTheNewerChange()
    {
        var admin = await AdminApiClient.CreateAdminAsync(factory);
        var department = await CreateDepartmentAsync(admin);
        var (id, _) = await CreateScimSourceAsync(admin, department);
        var read = await admin.GetAsync($"{Sources}/{id}");
        var etag = read.Headers.ETag!;
        var renamed = NewCode("Renamed");

        var first = await PutAsync(admin, id, new { name = renamed, subtrees = new[] { department }, conflictPolicy = "overwrite" }, etag);
        var stale = await PutAsync(admin, id, new { name = NewCode("Stale"), subtrees = new[] { department } }, etag);

        var updated = await JsonAsync(first, HttpStatusCode.OK);
        Assert.Equal(("overwrite", "scim"), (updated.GetProperty("conflictPolicy").GetString(), updated.GetProperty("kind").GetString()));
        Assert.Equal(HttpStatusCode.PreconditionFailed, stale.StatusCode);
        Assert.Equal(renamed, (await JsonAsync(await admin.GetAsync($"{Sources}/{id}"), HttpStatusCode.OK)).GetProperty("name").GetString());
    }

    [PrerequisiteFact]
    public async Task Delete_Source_Answers204AndItsTokenStopsWorking()
    {
        var admin = await AdminApiClient.CreateAdminAsync(factory);
        var (id, token) = await CreateScimSourceAsync(admin);

        var deleted = await admin.DeleteAsync($"{Sources}/{id}");

        Assert.Equal(HttpStatusCode.NoContent, deleted.StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await admin.GetAsync($"{Sources}/{id}")).StatusCode);
        Assert.Null(await AuthenticateAsync(token));
    }

    /// <summary>A SCIM source has nothing to pull (the runner refuses); push is counted, never run; no kind is no run.</summary>
    [PrerequisiteTheory]
    [InlineData("increment")]
    [InlineData("push")]
    [InlineData(null)]
    public async Task RunNow_ScimSourceOrNoSuchKind_Is400NamingKindAndNoRunIsRecorded(string? runKind)
    {
        var admin = await AdminApiClient.CreateAdminAsync(factory);
        var (id, _) = await CreateScimSourceAsync(admin);

        var response = await admin.PostAsJsonAsync($"{Sources}/{id}/runs", new { kind = runKind });

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.True((await AdminApiClient.ProblemAsync(response)).GetProperty("errors").TryGetProperty("kind", out _));
        Assert.Equal(0, (await JsonAsync(await admin.GetAsync($"{Sources}/{id}/runs"), HttpStatusCode.OK)).GetProperty("total").GetInt32());
    }

    [PrerequisiteFact]
    public async Task ApproveFirstImport_ScimSource_Is400NamingKind()
    {
        var admin = await AdminApiClient.CreateAdminAsync(factory);
        var (id, _) = await CreateScimSourceAsync(admin);

        var response = await admin.PostAsync($"{Sources}/{id}/approve-first-import", null);

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.True((await AdminApiClient.ProblemAsync(response)).GetProperty("errors").TryGetProperty("kind", out _));
        Assert.False((await JsonAsync(await admin.GetAsync($"{Sources}/{id}"), HttpStatusCode.OK)).GetProperty("firstImportApproved").GetBoolean());
    }

    [PrerequisiteFact]
    public async Task Get_SourceWithRunsAndConflicts_ShowsHealthCountsErrorsReportAndConflictsWithNames()
    {
        var admin = await AdminApiClient.CreateAdminAsync(factory);
        var (id, _) = await CreateScimSourceAsync(admin);
        var person = await new Oidc.OidcDriver(factory).CreateUserAsync();
        await SeedAsync(db =>
        {
            var earlier = DateTimeOffset.UtcNow.AddHours(-1);
            db.InboundRuns.Add(new InboundRun
            {
                Id = Guid.NewGuid(), SourceId = id, Kind = InboundRunKind.Reconciliation, StartedAt = earlier, FinishedAt = earlier, RequestedBy = "schedule",
                Created = 3, Updated = 2, Report = """{"missing": 1, "users": [{"externalId": "e-1", "action": "create"}]}""",
            });
            db.InboundRuns.Add(new InboundRun
            {
                Id = Guid.NewGuid(), SourceId = id, Kind = InboundRunKind.Push, StartedAt = earlier.AddMinutes(30), FinishedAt = DateTimeOffset.UtcNow,
                RequestedBy = "push", Updated = 4, Failed = 1, Conflicts = 1, Errors = """["A person's manager may not report to them."]""",
            });
            db.InboundConflicts.Add(new InboundConflict
            {
                SourceId = id, UserId = person.Id, Attribute = "displayName", LocalValue = "Local", SourceValue = "From HR", Resolution = "refused",
                ChangedBy = "admin", OccurredAt = DateTimeOffset.UtcNow,
            });
        });

        var source = await JsonAsync(await admin.GetAsync($"{Sources}/{id}"), HttpStatusCode.OK);
        var runs = await JsonAsync(await admin.GetAsync($"{Sources}/{id}/runs?pageSize=1"), HttpStatusCode.OK);
        var conflicts = await JsonAsync(await admin.GetAsync($"{Sources}/{id}/conflicts"), HttpStatusCode.OK);

        Assert.Equal("failing", source.GetProperty("health").GetString());
        Assert.Equal("A person's manager may not report to them.", Assert.Single(source.GetProperty("lastErrors").EnumerateArray()).GetString());
        Assert.Equal(1, source.GetProperty("report").GetProperty("report").GetProperty("missing").GetInt32());
        Assert.Equal((2, 1), (runs.GetProperty("total").GetInt32(), runs.GetProperty("items").GetArrayLength()));
        Assert.Equal("push", runs.GetProperty("items")[0].GetProperty("kind").GetString());
        var conflict = Assert.Single(conflicts.GetProperty("items").EnumerateArray());
        Assert.Equal((person.DisplayName, "displayName", "refused"),
            (conflict.GetProperty("userDisplayName").GetString(), conflict.GetProperty("attribute").GetString(), conflict.GetProperty("resolution").GetString()));
    }

    [PrerequisiteTheory]
    [InlineData(true, 1)]
    [InlineData(false, 0)]
    public async Task Push_NewPerson_IsInvitedOnlyWhenTheSourceInvitesNewUsers(bool inviteNewUsers, int invitations)
    {
        var admin = await AdminApiClient.CreateAdminAsync(factory);
        var world = await ScimWorld.CreateAsync(factory);
        var saved = await JsonAsync(await admin.PutAsJsonAsync($"{Sources}/{world.SourceId}", AllOwned(world, inviteNewUsers)), HttpStatusCode.OK);
        var read = await JsonAsync(await admin.GetAsync($"{Sources}/{world.SourceId}"), HttpStatusCode.OK);

        var person = await world.CreateUserAsync("ann");
        var id = person.Text("id");

        Assert.Equal((inviteNewUsers, inviteNewUsers), (saved.GetProperty("inviteNewUsers").GetBoolean(), read.GetProperty("inviteNewUsers").GetBoolean()));
        Assert.Equal(invitations, await InDatabaseAsync(factory, db => db.MailOutbox.CountAsync(m => m.UserId == id && m.Template == MailTemplates.Invitation)));
        var audited = await InDatabaseAsync(factory, db => db.AuditEvents.Where(e => e.Type == "user.invited" && e.TargetId == id).ToListAsync());
        Assert.Equal(invitations, audited.Count);
        Assert.All(audited, e => Assert.Equal((SourceActor.IdOf(world.SourceId), true), (e.ActorId, e.After!.Contains(SourceActor.IdOf(world.SourceId), StringComparison.Ordinal))));
    }

    [PrerequisiteFact]
    public async Task Push_UpdateAndSecondPushOfAnInvitedPerson_SendNoFurtherInvitation()
    {
        var admin = await AdminApiClient.CreateAdminAsync(factory);
        var world = await ScimWorld.CreateAsync(factory);
        await JsonAsync(await admin.PutAsJsonAsync($"{Sources}/{world.SourceId}", AllOwned(world, inviteNewUsers: true)), HttpStatusCode.OK);
        var id = (await world.CreateUserAsync("bo")).Text("id");
        var changed = world.User("bo");
        changed["displayName"] = "Bo Renamed " + world.Prefix;

        var update = await world.SendAsync(HttpMethod.Put, $"/Users/{id}", changed);
        var again = await world.SendAsync(HttpMethod.Post, "/Users", world.User("bo"));

        Assert.Equal(HttpStatusCode.OK, update.Status);
        Assert.NotEqual(HttpStatusCode.Created, again.Status);
        Assert.Equal("Bo Renamed " + world.Prefix, await InDatabaseAsync(factory, db => db.Users.Where(u => u.Id == id).Select(u => u.DisplayName).SingleAsync()));
        Assert.Equal(1, await InDatabaseAsync(factory, db => db.MailOutbox.CountAsync(m => m.UserId == id && m.Template == MailTemplates.Invitation)));
    }

    /// <summary>The PUT body of a <see cref="ScimWorld"/>'s source as it was created (every attribute owned), with <paramref name="inviteNewUsers"/>.</summary>
    private static object AllOwned(ScimWorld world, bool inviteNewUsers) =>
        new { name = "HR " + world.Prefix, subtrees = new[] { world.RootId }, ownedAttributes = SourceAttributes.All, conflictPolicy = "refuse", inviteNewUsers };

    internal static async Task<(Guid Id, string Token)> CreateScimSourceAsync(HttpClient admin, Guid? department = null)
    {
        var subtree = department ?? await CreateDepartmentAsync(admin);
        var created = await JsonAsync(await admin.PostAsJsonAsync(Sources, new { name = NewCode("OA"), kind = "scim", subtrees = new[] { subtree } }), HttpStatusCode.Created);
        return (created.GetProperty("id").GetGuid(), created.GetProperty("token").GetString()!);
    }

    private static async Task<HttpResponseMessage> PutAsync(HttpClient admin, Guid id, object body, System.Net.Http.Headers.EntityTagHeaderValue etag)
    {
        using var request = new HttpRequestMessage(HttpMethod.Put, $"{Sources}/{id}") { Content = JsonContent.Create(body) };
        request.Headers.IfMatch.Add(etag);
        return await admin.SendAsync(request);
    }

    private async Task<InboundSource?> AuthenticateAsync(string? token)
    {
        await using var scope = factory.Services.CreateAsyncScope();
        return await scope.ServiceProvider.GetRequiredService<InboundSources>().AuthenticateAsync(token, CancellationToken.None);
    }

    private async Task<int> CountSourcesAsync()
    {
        await using var scope = factory.Services.CreateAsyncScope();
        return await scope.ServiceProvider.GetRequiredService<IdentityHubDbContext>().InboundSources.CountAsync();
    }

    private async Task SeedAsync(Action<IdentityHubDbContext> seed)
    {
        await using var scope = factory.Services.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<IdentityHubDbContext>();
        seed(db);
        await db.SaveChangesAsync();
    }
}

public sealed class SqliteSourcesApiTests(SqliteFactory factory) : SourcesApiTests<SqliteFactory>(factory);

[Requires(Prerequisite.PostgreSql)]
public sealed class PostgreSqlSourcesApiTests(PostgreSqlFactory factory) : SourcesApiTests<PostgreSqlFactory>(factory);
