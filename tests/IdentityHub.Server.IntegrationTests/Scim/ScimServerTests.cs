using System.Net;
using System.Text;
using System.Text.Json.Nodes;
using IdentityHub.Core.Directory;
using IdentityHub.Data.Directory;
using IdentityHub.Data.Inbound;
using IdentityHub.Provisioning.Inbound;
using IdentityHub.Testing;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace IdentityHub.Server.IntegrationTests.Scim;

/// <summary>
/// IdentityHub's SCIM 2.0 service provider driven over HTTP with a source's bearer token, on a real database: every
/// write goes through the organisation intake, every refusal is a SCIM error and leaves nothing written.
/// </summary>
public abstract class ScimServerTests<TFactory>(TFactory factory) : IClassFixture<TFactory>
    where TFactory : IdentityHubFactory
{
    [PrerequisiteTheory]
    [InlineData("none")]
    [InlineData("wrong")]
    [InlineData("revoked")]
    [InlineData("disabled")]
    [InlineData("basic")]
    public async Task Users_WithoutAValidSourceToken_Is401WithBearerChallenge(string credential)
    {
        var world = await ScimWorld.CreateAsync(factory);
        await world.WithServicesAsync(async services =>
        {
            var sources = services.GetRequiredService<InboundSources>();
            if (credential == "revoked")
            {
                await sources.RevokeTokenAsync(world.SourceId, CancellationToken.None);
            }
            else if (credential == "disabled")
            {
                var db = services.GetRequiredService<Data.IdentityHubDbContext>();
                await db.InboundSources.Where(s => s.Id == world.SourceId).ExecuteUpdateAsync(s => s.SetProperty(x => x.Enabled, false));
            }
        });
        using var client = factory.CreateClient();
        using var request = new HttpRequestMessage(HttpMethod.Get, "/scim/v2/Users");
        request.Headers.TryAddWithoutValidation("Authorization", credential switch
        {
            "none" => "",
            "wrong" => "Bearer ihsrc_not-the-token",
            "basic" => "Basic " + Convert.ToBase64String(Encoding.UTF8.GetBytes("user:" + world.Token)),
            _ => "Bearer " + world.Token,
        });

        var reply = await ScimWorld.ReplyOfAsync(await client.SendAsync(request));

        Assert.Equal(HttpStatusCode.Unauthorized, reply.Status);
        Assert.StartsWith("Bearer", reply.Headers.WwwAuthenticate.ToString(), StringComparison.Ordinal);
        AssertError(reply, 401, null);
    }

    [PrerequisiteFact]
    public async Task ServiceProviderConfig_WithoutToken_AdvertisesWhatIsSupported()
    {
        using var client = factory.CreateClient();

        var config = await ScimWorld.ReplyOfAsync(await client.GetAsync("/scim/v2/ServiceProviderConfig"));
        var types = await ScimWorld.ReplyOfAsync(await client.GetAsync("/scim/v2/ResourceTypes/User"));
        var schema = await ScimWorld.ReplyOfAsync(await client.GetAsync("/scim/v2/Schemas/" + ScimWorld.EnterpriseSchema));

        Assert.Equal(HttpStatusCode.OK, config.Status);
        Assert.Equal("application/scim+json", config.ContentType);
        Assert.True(config.Body!["patch"]!["supported"]!.GetValue<bool>());
        Assert.True(config.Body!["filter"]!["supported"]!.GetValue<bool>());
        Assert.Equal(500, config.Body!["filter"]!["maxResults"]!.GetValue<int>());
        Assert.True(config.Body!["etag"]!["supported"]!.GetValue<bool>());
        Assert.True(config.Body!["sort"]!["supported"]!.GetValue<bool>());
        Assert.False(config.Body!["bulk"]!["supported"]!.GetValue<bool>());
        Assert.False(config.Body!["changePassword"]!["supported"]!.GetValue<bool>());
        Assert.Equal("oauthbearertoken", config.Body!["authenticationSchemes"]![0]!["type"]!.GetValue<string>());
        Assert.Equal("/Users", types.Text("endpoint"));
        Assert.Contains("employeeNumber", schema.Body!["attributes"]!.AsArray().Select(a => a!["name"]!.GetValue<string>()));
        AssertError(await ScimWorld.ReplyOfAsync(await client.GetAsync("/scim/v2/Printers")), 404, null);
    }

    [PrerequisiteFact]
    public async Task Users_CreateReadReplaceList_RoundTripsThroughTheIntake()
    {
        var world = await ScimWorld.CreateAsync(factory);
        var manager = await world.CreateUserAsync("boss");

        var created = await world.SendAsync(HttpMethod.Post, "/Users", world.User("alice", manager: manager.Text("id")));

        Assert.Equal(HttpStatusCode.Created, created.Status);
        var id = created.Text("id");
        Assert.Equal($"http://localhost/scim/v2/Users/{id}", created.Headers.Location?.ToString());
        Assert.StartsWith("W/\"", created.Headers.ETag?.ToString(), StringComparison.Ordinal);
        Assert.Equal(created.Headers.ETag!.ToString(), created.Body!["meta"]!["version"]!.GetValue<string>());
        Assert.Equal($"{world.Prefix}-x-alice", created.Text("externalId"));
        Assert.True(created.Body!["active"]!.GetValue<bool>());
        var enterprise = created.Body![ScimWorld.EnterpriseSchema]!;
        Assert.Equal($"{world.Prefix} Root", enterprise["department"]!.GetValue<string>());
        Assert.Equal(manager.Text("id"), enterprise["manager"]!["value"]!.GetValue<string>());
        Assert.Equal($"boss {world.Prefix}", enterprise["manager"]!["displayName"]!.GetValue<string>());

        var replacement = world.User("alice");
        replacement["displayName"] = "Alice Renamed";
        var replaced = await world.SendAsync(HttpMethod.Put, "/Users/" + id, replacement, ifMatch: created.Headers.ETag.ToString());
        Assert.Equal(HttpStatusCode.OK, replaced.Status);
        Assert.Equal("Alice Renamed", replaced.Text("displayName"));
        Assert.Null(replaced.Body![ScimWorld.EnterpriseSchema]!["manager"]);

        var read = await world.SendAsync(HttpMethod.Get, "/Users/" + id);
        Assert.Equal("Alice Renamed", read.Text("displayName"));
        Assert.Equal(replaced.Headers.ETag, read.Headers.ETag);
        var stored = await world.WithDbAsync(db => db.Users.AsNoTracking().SingleAsync(u => u.Id == id));
        Assert.Equal(world.SourceId, stored.SourceId);
        Assert.Equal(world.RootId, stored.DepartmentId);
        var audited = await world.WithDbAsync(db => db.AuditEvents.AsNoTracking().Where(e => e.TargetId == id).Select(e => e.ActorId).Distinct().ToListAsync());
        Assert.Equal([$"source:{world.SourceId:D}"], audited);
    }

    [PrerequisiteFact]
    public async Task Users_PostedTwice_SecondIs409UniquenessAndWritesNothing()
    {
        var world = await ScimWorld.CreateAsync(factory);
        await world.CreateUserAsync("dup");
        var before = await world.CountsAsync();

        var again = await world.SendAsync(HttpMethod.Post, "/Users", world.User("dup"));

        AssertError(again, 409, "uniqueness");
        Assert.Equal(before, await world.CountsAsync());
        var run = await world.WithDbAsync(db => db.InboundRuns.AsNoTracking().SingleAsync(r => r.SourceId == world.SourceId && r.Kind == InboundRunKind.Push));
        Assert.Equal((1, 1, 1), (run.Created, run.Failed, run.Conflicts));
    }

    [PrerequisiteFact]
    public async Task Users_SamePutAndPatchTwice_SecondChangesNothing()
    {
        var world = await ScimWorld.CreateAsync(factory);
        var id = (await world.CreateUserAsync("idem")).Text("id");
        var body = world.User("idem");
        body["displayName"] = "Idem Two";
        var patch = ScimWorld.Patch(ScimWorld.Op("replace", "displayName", "Idem Three"));

        var first = await world.SendAsync(HttpMethod.Put, "/Users/" + id, body);
        var afterFirst = await world.CountsAsync();
        var second = await world.SendAsync(HttpMethod.Put, "/Users/" + id, body);
        var afterSecond = await world.CountsAsync();
        await world.SendAsync(HttpMethod.Patch, "/Users/" + id, patch);
        var afterPatch = await world.CountsAsync();
        var patchedAgain = await world.SendAsync(HttpMethod.Patch, "/Users/" + id, patch);

        Assert.Equal(HttpStatusCode.OK, second.Status);
        Assert.Equal(first.Headers.ETag, second.Headers.ETag);
        Assert.Equal(afterFirst, afterSecond);
        Assert.Equal(HttpStatusCode.OK, patchedAgain.Status);
        Assert.Equal(afterPatch, await world.CountsAsync());
        Assert.True(afterPatch.AuditEvents > afterSecond.AuditEvents);
    }

    [PrerequisiteFact]
    public async Task Users_Delete_MarksLeftEndsAssignmentsAndIsGoneForScim()
    {
        var world = await ScimWorld.CreateAsync(factory);
        var id = (await world.CreateUserAsync("leaver")).Text("id");
        var oidc = new Oidc.OidcDriver(factory);
        var assignmentId = await oidc.GrantApplicationRoleAsync(id, await oidc.ApplicationOfAsync("scim-" + world.Prefix), "member");

        var deleted = await world.SendAsync(HttpMethod.Delete, "/Users/" + id);
        var read = await world.SendAsync(HttpMethod.Get, "/Users/" + id);
        var patched = await world.SendAsync(HttpMethod.Patch, "/Users/" + id, new JsonObject
        {
            ["schemas"] = new JsonArray("urn:ietf:params:scim:api:messages:2.0:PatchOp"),
            ["Operations"] = new JsonArray(new JsonObject { ["op"] = "replace", ["path"] = "displayName", ["value"] = "Back again" }),
        });
        var deletedAgain = await world.SendAsync(HttpMethod.Delete, "/Users/" + id);

        // RFC 7644 §3.6: every operation on a deleted resource is 404; IdentityHub keeps the person, marked as left.
        Assert.Equal(HttpStatusCode.NoContent, deleted.Status);
        Assert.Equal(HttpStatusCode.NotFound, read.Status);
        Assert.Equal(HttpStatusCode.NotFound, patched.Status);
        Assert.Equal(HttpStatusCode.NotFound, deletedAgain.Status);
        var kept = await world.WithDbAsync(db => db.Users.AsNoTracking().SingleAsync(u => u.Id == id));
        Assert.Equal(UserStatus.Left, kept.Status);
        Assert.NotEqual("Back again", kept.DisplayName);
        var assignment = await world.WithDbAsync(db => db.RoleAssignments.AsNoTracking().SingleAsync(a => a.Id == assignmentId));
        Assert.NotNull(assignment.EndedAt);
        var run = await world.WithDbAsync(db => db.InboundRuns.AsNoTracking().SingleAsync(r => r.SourceId == world.SourceId && r.Kind == InboundRunKind.Push));
        Assert.Equal(1, run.Left);
    }

    [PrerequisiteTheory]
    [InlineData("userName eq \"{p}-ann\"", "ann")]
    [InlineData("USERNAME eq \"{P}-ANN\"", "ann")]
    [InlineData("userName ne \"{p}-ann\" and userName sw \"{p}\"", "bob,cyd")]
    [InlineData("displayName co \"yd {p}\"", "cyd")]
    [InlineData("userName sw \"{p}-b\"", "bob")]
    [InlineData("emails ew \"@{p}.example.test\" and userName ew \"-cyd\"", "cyd")]
    [InlineData("emails.value eq \"ann@{p}.example.test\"", "ann")]
    [InlineData("emails[type eq \"work\" and value co \"bob@{p}\"]", "bob")]
    [InlineData("externalId eq \"{p}-x-bob\"", "bob")]
    [InlineData("externalId eq \"{P}-X-BOB\"", "")]
    [InlineData("urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:employeeNumber eq \"{p}-E-cyd\"", "cyd")]
    [InlineData("active eq false and userName sw \"{p}\"", "cyd")]
    [InlineData("userName sw \"{p}\" and not (active eq false)", "ann,bob")]
    [InlineData("(userName eq \"{p}-ann\" or userName eq \"{p}-bob\") and active eq true", "ann,bob")]
    [InlineData("userName sw \"{p}\" and phoneNumbers pr", "ann,bob,cyd")]
    [InlineData("userName sw \"{p}\" and externalId pr and not (displayName pr)", "")]
    public async Task Users_Filter_SelectsInTheDatabase(string filter, string expected)
    {
        var world = await ScimWorld.CreateAsync(factory);
        await world.CreateUserAsync("ann");
        await world.CreateUserAsync("bob");
        await world.CreateUserAsync("cyd", active: false);

        var reply = await world.SendAsync(HttpMethod.Get, "/Users?filter=" + Uri.EscapeDataString(filter.Replace("{p}", world.Prefix).Replace("{P}", world.Prefix.ToUpperInvariant())));

        Assert.True(reply.Status == HttpStatusCode.OK, reply.Body?.ToJsonString());
        var names = reply.Body!["Resources"]!.AsArray().Select(r => r!["userName"]!.GetValue<string>()[(world.Prefix.Length + 1)..]).Order().ToList();
        Assert.Equal(expected.Split(',', StringSplitOptions.RemoveEmptyEntries), names);
        Assert.Equal(names.Count, reply.Body!["totalResults"]!.GetValue<int>());
    }

    [PrerequisiteFact]
    public async Task Users_FilterOnLastModified_ComparesInstants()
    {
        var world = await ScimWorld.CreateAsync(factory);
        await world.CreateUserAsync("old");
        await Task.Delay(50);
        var cut = DateTimeOffset.UtcNow;
        await Task.Delay(50);
        var recent = await world.CreateUserAsync("new");
        var stamp = recent["meta"]!["lastModified"]!.GetValue<string>();
        string Names(ScimReply reply) => string.Join(",", reply.Body!["Resources"]!.AsArray().Select(r => r!["userName"]!.GetValue<string>()[(world.Prefix.Length + 1)..]).Order());
        async Task<string> FilterAsync(string filter) =>
            Names(await world.SendAsync(HttpMethod.Get, "/Users?filter=" + Uri.EscapeDataString($"userName sw \"{world.Prefix}\" and {filter}")));
        var at = cut.UtcDateTime.ToString("O");

        Assert.Equal("new", await FilterAsync($"meta.lastModified gt \"{at}\""));
        Assert.Equal("new", await FilterAsync($"meta.lastModified ge \"{stamp}\""));
        Assert.Equal("old", await FilterAsync($"meta.lastModified lt \"{at}\""));
        Assert.Equal("new,old", await FilterAsync($"meta.lastModified le \"{stamp}\""));
    }

    [PrerequisiteTheory]
    [InlineData("userName eq")]
    [InlineData("userName zz \"a\"")]
    [InlineData("nickName eq \"a\"")]
    [InlineData("userName eq \"unclosed")]
    [InlineData("(userName eq \"a\"")]
    [InlineData("active eq \"yes\"")]
    [InlineData("meta.lastModified gt \"yesterday\"")]
    [InlineData("meta.lastModified co \"2026\"")]
    [InlineData("userName eq \"a\" or")]
    public async Task Users_InvalidFilter_Is400InvalidFilter(string filter)
    {
        var world = await ScimWorld.CreateAsync(factory);

        var reply = await world.SendAsync(HttpMethod.Get, "/Users?filter=" + Uri.EscapeDataString(filter));

        AssertError(reply, 400, "invalidFilter");
    }

    [PrerequisiteFact]
    public async Task Users_PagedAndSorted_PagesInTheDatabaseInOrder()
    {
        var world = await ScimWorld.CreateAsync(factory);
        foreach (var name in new[] { "d", "b", "e", "a", "c" })
        {
            await world.CreateUserAsync(name);
        }

        var filter = Uri.EscapeDataString($"userName sw \"{world.Prefix}\"");
        var first = await world.SendAsync(HttpMethod.Get, $"/Users?filter={filter}&sortBy=userName&startIndex=1&count=2");
        var second = await world.SendAsync(HttpMethod.Get, $"/Users?filter={filter}&sortBy=userName&startIndex=3&count=2");
        var descending = await world.SendAsync(HttpMethod.Get, $"/Users?filter={filter}&sortBy=displayName&sortOrder=descending&count=1&attributes=userName");

        string Names(ScimReply reply) => string.Join(",", reply.Body!["Resources"]!.AsArray().Select(r => r!["userName"]!.GetValue<string>()[(world.Prefix.Length + 1)..]));
        Assert.Equal("a,b", Names(first));
        Assert.Equal("c,d", Names(second));
        Assert.Equal(5, second.Body!["totalResults"]!.GetValue<int>());
        Assert.Equal(3, second.Body!["startIndex"]!.GetValue<int>());
        Assert.Equal(2, second.Body!["itemsPerPage"]!.GetValue<int>());
        Assert.Equal("e", Names(descending));
        Assert.Null(descending.Body!["Resources"]![0]!["emails"]);
    }

    [PrerequisiteFact]
    public async Task Users_StaleIfMatch_Is412AndNothingWritten_IfNoneMatchIs304()
    {
        var world = await ScimWorld.CreateAsync(factory);
        var created = await world.SendAsync(HttpMethod.Post, "/Users", world.User("tag"));
        var id = created.Text("id");
        var stale = created.Headers.ETag!.ToString();
        var changed = await world.SendAsync(HttpMethod.Patch, "/Users/" + id, ScimWorld.Patch(ScimWorld.Op("replace", "displayName", "Tag Two")), ifMatch: stale);
        Assert.Equal(HttpStatusCode.OK, changed.Status);
        var before = await world.CountsAsync();

        var put = await world.SendAsync(HttpMethod.Put, "/Users/" + id, world.User("tag"), ifMatch: stale);
        var patch = await world.SendAsync(HttpMethod.Patch, "/Users/" + id, ScimWorld.Patch(ScimWorld.Op("replace", "displayName", "Tag Three")), ifMatch: stale);
        var delete = await world.SendAsync(HttpMethod.Delete, "/Users/" + id, ifMatch: stale);
        var notModified = await world.SendAsync(HttpMethod.Get, "/Users/" + id, ifNoneMatch: changed.Headers.ETag!.ToString());
        var modified = await world.SendAsync(HttpMethod.Get, "/Users/" + id, ifNoneMatch: stale);

        AssertError(put, 412, null);
        AssertError(patch, 412, null);
        AssertError(delete, 412, null);
        Assert.Equal(before, await world.CountsAsync());
        Assert.Equal(HttpStatusCode.NotModified, notModified.Status);
        Assert.Equal(HttpStatusCode.OK, modified.Status);
        Assert.Equal("Tag Two", modified.Text("displayName"));
    }

    [PrerequisiteFact]
    public async Task Users_PatchOperations_FollowRfc7644()
    {
        var world = await ScimWorld.CreateAsync(factory);
        var boss = (await world.CreateUserAsync("chief")).Text("id");
        var id = (await world.CreateUserAsync("pat")).Text("id");

        var patched = await world.SendAsync(HttpMethod.Patch, "/Users/" + id, ScimWorld.Patch(
            ScimWorld.Op("replace", "emails[type eq \"work\"].value", "pat.new@example.test"),
            ScimWorld.Op("remove", "phoneNumbers", null),
            ScimWorld.Op("add", null, new JsonObject { ["displayName"] = "Pat Added", ["nickName"] = "P" }),
            ScimWorld.Op("replace", ScimWorld.EnterpriseSchema + ":manager", new JsonObject { ["value"] = boss }),
            ScimWorld.Op("Replace", "NAME.formatted", "ignored because displayName wins")));

        Assert.True(patched.Status == HttpStatusCode.OK, patched.Body?.ToJsonString());
        Assert.Equal("pat.new@example.test", patched.Body!["emails"]![0]!["value"]!.GetValue<string>());
        Assert.Null(patched.Body!["phoneNumbers"]);
        Assert.Equal("Pat Added", patched.Text("displayName"));
        Assert.Equal(boss, patched.Body![ScimWorld.EnterpriseSchema]!["manager"]!["value"]!.GetValue<string>());

        var noTarget = await world.SendAsync(HttpMethod.Patch, "/Users/" + id, ScimWorld.Patch(
            ScimWorld.Op("replace", "emails[type eq \"home\"].value", "x@example.test")));
        AssertError(noTarget, 400, "noTarget");
        var deactivated = await world.SendAsync(HttpMethod.Patch, "/Users/" + id, ScimWorld.Patch(ScimWorld.Op("replace", null, new JsonObject { ["active"] = false })));
        Assert.False(deactivated.Body!["active"]!.GetValue<bool>());
        Assert.Equal(UserStatus.Suspended, await world.WithDbAsync(db => db.Users.Where(u => u.Id == id).Select(u => u.Status).SingleAsync()));
    }

    [PrerequisiteTheory]
    [InlineData("GET")]
    [InlineData("PUT")]
    [InlineData("PATCH")]
    [InlineData("DELETE")]
    public async Task Users_OutsideTheSourcesSubtrees_Is404AndNothingWritten(string method)
    {
        var world = await ScimWorld.CreateAsync(factory);
        var before = await world.CountsAsync();
        var body = method switch
        {
            "PUT" => world.User("outsider"),
            "PATCH" => ScimWorld.Patch(ScimWorld.Op("replace", "displayName", "Taken over")),
            _ => null,
        };

        var reply = await world.SendAsync(new HttpMethod(method), "/Users/" + world.OutsiderId, body);
        var listed = await world.SendAsync(HttpMethod.Get, "/Users?filter=" + Uri.EscapeDataString($"userName eq \"{world.Prefix}-outsider\""));

        AssertError(reply, 404, null);
        Assert.Equal(0, listed.Body!["totalResults"]!.GetValue<int>());
        Assert.Equal(before, await world.CountsAsync());
        var outsider = await world.WithDbAsync(db => db.Users.AsNoTracking().SingleAsync(u => u.Id == world.OutsiderId));
        Assert.Equal(("Outsider " + world.Prefix, UserStatus.Active, (Guid?)null), (outsider.DisplayName, outsider.Status, outsider.SourceId));
    }

    [PrerequisiteTheory]
    [MemberData(nameof(ScimBadInputs.All), MemberType = typeof(ScimBadInputs))]
    public async Task BadInput_IsAScimErrorAndWritesNothing(string input)
    {
        var world = await ScimWorld.CreateAsync(factory);
        var ann = (await world.CreateUserAsync("ann")).Text("id");
        var bob = (await world.CreateUserAsync("bob", manager: ann)).Text("id");
        var parent = await world.SendAsync(HttpMethod.Post, "/Groups", Group(world, "parent"));
        var child = await world.SendAsync(HttpMethod.Post, "/Groups", Group(world, "child", parent.Text("id")));
        var before = await world.CountsAsync();

        var (reply, status, scimType) = input switch
        {
            "unknown schema" => (await world.SendAsync(HttpMethod.Post, "/Users", With(world.User("new"), "schemas", new JsonArray(ScimWorld.UserSchema, "urn:example:unknown"))), 400, "invalidSyntax"),
            "unknown extension" => (await world.SendAsync(HttpMethod.Post, "/Users", With(world.User("new"), "urn:example:ext", new JsonObject())), 400, "invalidSyntax"),
            "malformed json" => (await RawAsync(world, HttpMethod.Post, "/Users", "{\"schemas\": [\"" + ScimWorld.UserSchema + "\"], \"userName\": "), 400, "invalidSyntax"),
            "not an object" => (await RawAsync(world, HttpMethod.Post, "/Users", "[1,2]"), 400, "invalidSyntax"),
            "duplicate employee number" => (await world.SendAsync(HttpMethod.Post, "/Users", EmployeeNumber(world.User("new"), $"{world.Prefix}-E-ann")), 409, "uniqueness"),
            "manager loop" => (await world.SendAsync(HttpMethod.Patch, "/Users/" + ann, ScimWorld.Patch(ScimWorld.Op("replace", ScimWorld.EnterpriseSchema + ":manager.value", bob))), 400, "invalidValue"),
            "unknown department" => (await world.SendAsync(HttpMethod.Post, "/Users", world.User("new", department: "no-such-department")), 400, "invalidValue"),
            "department outside subtree" => (await world.SendAsync(HttpMethod.Post, "/Users", world.User("new", department: world.OutsideId.ToString())), 403, null),
            "wrong type" => (await world.SendAsync(HttpMethod.Post, "/Users", With(world.User("new"), "active", new JsonArray())), 400, "invalidValue"),
            "five megabytes" => (await RawAsync(world, HttpMethod.Post, "/Users", "{\"userName\":\"" + new string('x', 5 * 1024 * 1024) + "\"}"), 413, null),
            "group parent loop" => (await world.SendAsync(HttpMethod.Patch, "/Groups/" + parent.Text("id"), ScimWorld.Patch(
                ScimWorld.Op("replace", ScimWorld.HubGroupSchema + ":parent", new JsonObject { ["value"] = child.Text("id") }))), 400, "invalidValue"),
            "group without name" => (await world.SendAsync(HttpMethod.Post, "/Groups", With(Group(world, "noname"), "displayName", null)), 400, "invalidValue"),
            "group member unknown" => (await world.SendAsync(HttpMethod.Patch, "/Groups/" + child.Text("id"), ScimWorld.Patch(
                ScimWorld.Op("add", "members", new JsonArray(new JsonObject { ["value"] = world.OutsiderId })))), 400, "invalidValue"),
            "five megabytes chunked" => (await ChunkedAsync(world, 5 * 1024 * 1024), 413, null),
            "patch bad op" => (await world.SendAsync(HttpMethod.Patch, "/Users/" + ann, ScimWorld.Patch(ScimWorld.Op("move", "displayName", "x"))), 400, "invalidSyntax"),
            "patch without operations" => (await world.SendAsync(HttpMethod.Patch, "/Users/" + ann, new JsonObject { ["schemas"] = new JsonArray(ScimWorld.PatchSchema) }), 400, "invalidSyntax"),
            _ => throw new ArgumentOutOfRangeException(nameof(input)),
        };

        AssertError(reply, status, scimType);
        Assert.Equal(before, await world.CountsAsync());
        var bobNow = await world.WithDbAsync(db => db.Users.AsNoTracking().SingleAsync(u => u.Id == ann));
        Assert.Null(bobNow.ManagerId);
    }

    [PrerequisiteFact]
    public async Task Users_BroughtInByAnotherSource_Is409MutabilityAndNothingWritten()
    {
        var world = await ScimWorld.CreateAsync(factory);
        var id = (await world.CreateUserAsync("theirs")).Text("id");
        string otherToken = "";
        await world.WithServicesAsync(async services =>
        {
            var other = await services.GetRequiredService<InboundSources>().CreateAsync(
                new InboundSourceInput("OA " + world.Prefix, "scim", [world.RootId], null, "refuse"), CancellationToken.None);
            otherToken = other.Token!.Token;
        });
        var before = await world.CountsAsync();

        var visible = await world.SendAsync(HttpMethod.Get, "/Users/" + id, bearer: otherToken);
        var patched = await world.SendAsync(HttpMethod.Patch, "/Users/" + id, ScimWorld.Patch(ScimWorld.Op("replace", "displayName", "Taken over")), bearer: otherToken);
        var deleted = await world.SendAsync(HttpMethod.Delete, "/Users/" + id, bearer: otherToken);

        Assert.Equal(HttpStatusCode.OK, visible.Status);
        AssertError(patched, 409, "mutability");
        AssertError(deleted, 409, "mutability");
        Assert.Equal(before, await world.CountsAsync());
        Assert.Equal($"theirs {world.Prefix}", await world.WithDbAsync(db => db.Users.Where(u => u.Id == id).Select(u => u.DisplayName).SingleAsync()));
    }

    [PrerequisiteFact]
    public async Task Users_CreatedWithoutDepartment_LandInTheSourcesSubtree()
    {
        var world = await ScimWorld.CreateAsync(factory);
        var body = world.User("nodept");
        body[ScimWorld.EnterpriseSchema]!.AsObject().Remove("department");

        var created = await world.SendAsync(HttpMethod.Post, "/Users", body);
        var replaced = await world.SendAsync(HttpMethod.Put, "/Users/" + created.Text("id"), body);

        Assert.Equal(HttpStatusCode.Created, created.Status);
        Assert.Equal($"{world.Prefix} Root", created.Body![ScimWorld.EnterpriseSchema]!["department"]!.GetValue<string>());
        Assert.Equal(HttpStatusCode.OK, replaced.Status);
        Assert.Equal(world.RootId, await world.WithDbAsync(db => db.Users.Where(u => u.Id == created.Text("id")).Select(u => u.DepartmentId).SingleAsync()));
    }

    [PrerequisiteFact]
    public async Task Groups_CreateMembersMoveAndDelete_AreDepartmentsThroughTheIntake()
    {
        var world = await ScimWorld.CreateAsync(factory);
        var ann = (await world.CreateUserAsync("ann")).Text("id");

        var created = await world.SendAsync(HttpMethod.Post, "/Groups", Group(world, "sales"));
        Assert.Equal(HttpStatusCode.Created, created.Status);
        var id = created.Text("id");
        Assert.Equal(world.RootId.ToString(), created.Body![ScimWorld.HubGroupSchema]!["parent"]!["value"]!.GetValue<string>());

        var added = await world.SendAsync(HttpMethod.Patch, "/Groups/" + id, ScimWorld.Patch(ScimWorld.Op("add", "members", new JsonArray(new JsonObject { ["value"] = ann }))));
        Assert.True(added.Status == HttpStatusCode.OK, added.Body?.ToJsonString());
        Assert.Equal([ann], added.Body!["members"]!.AsArray().Select(m => m!["value"]!.GetValue<string>()));
        Assert.Equal(Guid.Parse(id), await world.WithDbAsync(db => db.Users.Where(u => u.Id == ann).Select(u => u.DepartmentId).SingleAsync()));

        var refused = await world.SendAsync(HttpMethod.Delete, "/Groups/" + id);
        AssertError(refused, 409, "uniqueness");

        var removed = await world.SendAsync(HttpMethod.Patch, "/Groups/" + id, ScimWorld.Patch(ScimWorld.Op("remove", $"members[value eq \"{ann}\"]", null)));
        Assert.Empty(removed.Body!["members"]!.AsArray());
        Assert.Equal(world.RootId, await world.WithDbAsync(db => db.Users.Where(u => u.Id == ann).Select(u => u.DepartmentId).SingleAsync()));

        var renamed = await world.SendAsync(HttpMethod.Put, "/Groups/" + id, With(Group(world, "sales"), "displayName", "Sales renamed"));
        Assert.Equal("Sales renamed", renamed.Text("displayName"));
        var listed = await world.SendAsync(HttpMethod.Get, "/Groups?filter=" + Uri.EscapeDataString($"displayName eq \"sales renamed\""));
        Assert.Equal(id, listed.Body!["Resources"]![0]!["id"]!.GetValue<string>());

        var deleted = await world.SendAsync(HttpMethod.Delete, "/Groups/" + id);
        Assert.Equal(HttpStatusCode.NoContent, deleted.Status);
        Assert.False(await world.WithDbAsync(db => db.Departments.AnyAsync(d => d.Id == Guid.Parse(id))));
    }

    private static JsonObject Group(ScimWorld world, string name, string? parent = null)
    {
        var hub = new JsonObject { ["code"] = $"{world.Prefix}-{name}" };
        if (parent is not null)
        {
            hub["parent"] = new JsonObject { ["value"] = parent };
        }

        return new JsonObject
        {
            ["schemas"] = new JsonArray(ScimWorld.GroupSchema, ScimWorld.HubGroupSchema),
            ["externalId"] = $"{world.Prefix}-g-{name}",
            ["displayName"] = name,
            [ScimWorld.HubGroupSchema] = hub,
        };
    }

    private static JsonObject With(JsonObject body, string name, JsonNode? value)
    {
        body[name] = value;
        return body;
    }

    private static JsonObject EmployeeNumber(JsonObject body, string number)
    {
        body[ScimWorld.EnterpriseSchema]!["employeeNumber"] = number;
        return body;
    }

    private static async Task<ScimReply> RawAsync(ScimWorld world, HttpMethod method, string path, string body)
    {
        using var client = world.Client();
        using var request = new HttpRequestMessage(method, "/scim/v2" + path) { Content = new StringContent(body, Encoding.UTF8, "application/scim+json") };
        return await ScimWorld.ReplyOfAsync(await client.SendAsync(request));
    }

    /// <summary>A body sent without Content-Length (chunked): the server reads no more than its limit before refusing.</summary>
    private static async Task<ScimReply> ChunkedAsync(ScimWorld world, int size)
    {
        using var client = world.Client();
        var bytes = Encoding.UTF8.GetBytes("{\"userName\":\"" + new string('y', size) + "\"}");
        using var content = new StreamContent(new MemoryStream(bytes));
        content.Headers.ContentType = new System.Net.Http.Headers.MediaTypeHeaderValue("application/scim+json");
        using var request = new HttpRequestMessage(HttpMethod.Post, "/scim/v2/Users") { Content = content };
        request.Headers.TransferEncodingChunked = true;
        return await ScimWorld.ReplyOfAsync(await client.SendAsync(request));
    }

    private static void AssertError(ScimReply reply, int status, string? scimType)
    {
        Assert.True((int)reply.Status == status, $"expected {status}, got {(int)reply.Status}: {reply.Body?.ToJsonString()}");
        Assert.Equal("application/scim+json", reply.ContentType);
        Assert.Equal("urn:ietf:params:scim:api:messages:2.0:Error", reply.Body!["schemas"]![0]!.GetValue<string>());
        Assert.Equal(status.ToString(System.Globalization.CultureInfo.InvariantCulture), reply.Body!["status"]!.GetValue<string>());
        Assert.Equal(scimType, reply.Body!["scimType"]?.GetValue<string>());
        Assert.False(string.IsNullOrWhiteSpace(reply.Body!["detail"]?.GetValue<string>()));
    }
}

public static class ScimBadInputs
{
    public static TheoryData<string> All => new()
    {
        "unknown schema", "unknown extension", "malformed json", "not an object", "duplicate employee number", "manager loop",
        "unknown department", "department outside subtree", "wrong type", "five megabytes", "group parent loop", "group without name",
        "group member unknown", "patch bad op", "patch without operations", "five megabytes chunked",
    };
}

public sealed class SqliteScimServerTests(SqliteFactory factory) : ScimServerTests<SqliteFactory>(factory);

[Requires(Prerequisite.PostgreSql)]
public sealed class PostgreSqlScimServerTests(PostgreSqlFactory factory) : ScimServerTests<PostgreSqlFactory>(factory);
