using System.Diagnostics;
using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using IdentityHub.Core;
using IdentityHub.Core.Access;
using IdentityHub.Core.Directory;
using IdentityHub.Core.Inbound;
using IdentityHub.Data;
using IdentityHub.Data.Inbound;
using IdentityHub.Provisioning.Inbound;
using IdentityHub.Testing;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Xunit.Abstractions;

namespace IdentityHub.Interop.Tests.Provisioning;

/// <summary>
/// Issue 14's SCIM push against real IdentityHub processes: a client that is not ours (tests/interop/scim-client.mjs,
/// requests written from RFC 7644's examples) gets the answers the RFC describes; and a manager change a source pushes
/// by SCIM PATCH reaches a downstream SCIM target (scimmy) through the ordinary provisioning path.
/// </summary>
public abstract class ScimInboundTests(bool postgreSql, ITestOutputHelper output)
{
    private const string EnterpriseSchema = "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User";

    /// <summary>How long a wait may take before the test fails: generous, for a machine busy with other suites.</summary>
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(30);

    [PrerequisiteFact]
    public async Task ScimClient_Rfc7644Examples_AnsweredAsTheRfcDescribes()
    {
        await using var database = new ProvisioningDatabase(postgreSql);
        await using var server = await database.StartServerAsync("scim-inbound");
        var prefix = "r" + Guid.NewGuid().ToString("N")[..8];
        var (_, token, _) = await CreateSourceAsync(database, prefix);

        var result = await NodeScript.RunAsync("scim-client.mjs", new Dictionary<string, string>
        {
            ["SCIM_BASE_URL"] = $"http://127.0.0.1:{server.Port}/scim/v2",
            ["SCIM_TOKEN"] = token,
            ["SCIM_PREFIX"] = prefix,
        });

        output.WriteLine(result.ToString());
        Assert.True(result.GetProperty("passed").GetInt32() >= 40, result.ToString());
    }

    [PrerequisiteFact]
    public async Task ScimPatch_ManagerChanged_ReachesTheDownstreamScimTargetWithinTwoSeconds()
    {
        await using var database = new ProvisioningDatabase(postgreSql);
        await using var target = await ScimTestServer.StartAsync();
        await using var server = await database.StartServerAsync("scim-inbound-e2e");
        using var admin = await ProvisioningDatabase.AdminApiAsync(server);
        var applicationId = await ProvisioningDatabase.CreateApplicationAsync(admin, "Downstream");
        await ProvisioningDatabase.CreateScimConnectorAsync(admin, applicationId, target);
        var prefix = "m" + Guid.NewGuid().ToString("N")[..8];
        var (_, token, rootCode) = await CreateSourceAsync(database, prefix);
        using var scim = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{server.Port}/scim/v2/") };
        scim.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);
        var first = await CreatePersonAsync(scim, prefix, "first", rootCode);
        var second = await CreatePersonAsync(scim, prefix, "second", rootCode);
        var worker = await CreatePersonAsync(scim, prefix, "worker", rootCode);
        await GrantAsync(database, applicationId, first, second, worker);
        var downstream = new Dictionary<string, string>();
        foreach (var id in new[] { first, second, worker })
        {
            downstream[id] = (await WaitForAsync(target, id, _ => true)).GetProperty("id").GetString()!;
        }

        // Warm-up round: connections, JIT and the connector's token are in place before the measured change.
        await PatchManagerAsync(scim, worker, first);
        await WaitForAsync(target, worker, u => ManagerOf(u) == downstream[first]);

        var clock = await PatchManagerAsync(scim, worker, second);
        await WaitForAsync(target, worker, u => ManagerOf(u) == downstream[second]);
        var latency = clock.Elapsed;

        output.WriteLine($"manager change visible downstream {latency.TotalMilliseconds:0} ms after the PATCH response");
        Assert.True(latency < TimeSpan.FromSeconds(2), $"The manager change took {latency.TotalMilliseconds:0} ms to reach the target.");
    }

    /// <summary>A SCIM source writing into a new root department, owning every attribute; its bearer token as issued.</summary>
    private static Task<(Guid SourceId, string Token, string RootCode)> CreateSourceAsync(ProvisioningDatabase database, string prefix) =>
        database.RunAsync(async services =>
        {
            var root = await services.GetRequiredService<Departments>().CreateAsync(new DepartmentInput(prefix + "-root", prefix + " Root", null), CancellationToken.None);
            var token = InboundSources.TokenPrefix + Convert.ToHexString(RandomNumberGenerator.GetBytes(32)).ToLowerInvariant();
            var now = Revision.Now(TimeProvider.System);
            var source = new InboundSource
            {
                Id = Guid.CreateVersion7(),
                Name = "HR " + prefix,
                Kind = InboundSourceKind.Scim,
                OwnedAttributes = string.Join(",", SourceAttributes.UserName, SourceAttributes.DisplayName, SourceAttributes.Email, SourceAttributes.PhoneNumber,
                    SourceAttributes.EmployeeNumber, SourceAttributes.Department, SourceAttributes.Manager, SourceAttributes.Status),
                TokenHash = InboundSources.HashOf(token),
                TokenHint = token[..10],
                TokenIssuedAt = now,
                CreatedAt = now,
                UpdatedAt = now,
            };
            source.Subtrees = [new InboundSourceSubtree { SourceId = source.Id, DepartmentId = root.Id }];
            var db = services.GetRequiredService<IdentityHubDbContext>();
            db.InboundSources.Add(source);
            await db.SaveChangesAsync();
            return (source.Id, token, root.Code);
        });

    private static async Task<string> CreatePersonAsync(HttpClient scim, string prefix, string name, string department)
    {
        var body = new JsonObject
        {
            ["schemas"] = new JsonArray("urn:ietf:params:scim:schemas:core:2.0:User", EnterpriseSchema),
            ["userName"] = $"{prefix}-{name}",
            ["externalId"] = $"{prefix}-{name}",
            ["displayName"] = $"{name} {prefix}",
            ["emails"] = new JsonArray(new JsonObject { ["value"] = $"{name}@{prefix}.example.test", ["type"] = "work", ["primary"] = true }),
            [EnterpriseSchema] = new JsonObject { ["employeeNumber"] = $"{prefix}-E-{name}", ["department"] = department },
        };
        using var response = await scim.PostAsync("Users", new StringContent(body.ToJsonString(), Encoding.UTF8, "application/scim+json"));
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.IsSuccessStatusCode, text);
        return JsonNode.Parse(text)!["id"]!.GetValue<string>();
    }

    /// <summary>PATCHes the manager (RFC 7644 §3.5.2.3 replace by extension path); the clock starts when the response is in.</summary>
    private static async Task<Stopwatch> PatchManagerAsync(HttpClient scim, string userId, string managerId)
    {
        var patch = new JsonObject
        {
            ["schemas"] = new JsonArray("urn:ietf:params:scim:api:messages:2.0:PatchOp"),
            ["Operations"] = new JsonArray(new JsonObject { ["op"] = "replace", ["path"] = EnterpriseSchema + ":manager", ["value"] = new JsonObject { ["value"] = managerId } }),
        };
        using var request = new HttpRequestMessage(HttpMethod.Patch, $"Users/{userId}") { Content = new StringContent(patch.ToJsonString(), Encoding.UTF8, "application/scim+json") };
        using var response = await scim.SendAsync(request);
        var clock = Stopwatch.StartNew();
        Assert.True(response.IsSuccessStatusCode, await response.Content.ReadAsStringAsync());
        return clock;
    }

    /// <summary>The people get a role in the application, so its connector provisions them.</summary>
    private static Task<bool> GrantAsync(ProvisioningDatabase database, Guid applicationId, params string[] userIds) =>
        database.RunAsync(async services =>
        {
            var permission = await services.GetRequiredService<Permissions>().CreateAsync(applicationId, new PermissionInput("app.use", null, null), CancellationToken.None);
            var role = await services.GetRequiredService<Roles>().CreateAsync(new RoleInput(applicationId, "member", null, false, [new RolePermissionInput(permission.Id)]), CancellationToken.None);
            foreach (var userId in userIds)
            {
                await services.GetRequiredService<RoleAssignments>().GrantAsync(new AssignmentInput(userId, role.Id, null, null, null, "scim inbound proof"), CancellationToken.None);
            }

            return true;
        });

    private static string? ManagerOf(JsonElement user) =>
        user.TryGetProperty(EnterpriseSchema, out var enterprise) && enterprise.TryGetProperty("manager", out var manager)
            && manager.TryGetProperty("value", out var value) ? value.GetString() : null;

    private static async Task<JsonElement> WaitForAsync(ScimTestServer target, string userId, Func<JsonElement, bool> condition)
    {
        var clock = Stopwatch.StartNew();
        while (true)
        {
            if (await target.UserByExternalIdAsync(userId) is { } user && condition(user))
            {
                return user;
            }

            Assert.True(clock.Elapsed < Patience, $"Waited {Patience} for user {userId} downstream.");
            await Task.Delay(20);
        }
    }
}

[Requires(Prerequisite.Node)]
public sealed class SqliteScimInboundTests(ITestOutputHelper output) : ScimInboundTests(postgreSql: false, output);

[Requires(Prerequisite.Node)]
[Requires(Prerequisite.PostgreSql)]
public sealed class PostgreSqlScimInboundTests(ITestOutputHelper output) : ScimInboundTests(postgreSql: true, output);
