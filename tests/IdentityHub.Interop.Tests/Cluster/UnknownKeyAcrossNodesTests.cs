using System.Diagnostics;
using System.Net;
using System.Text.Json;
using IdentityHub.Interop.Tests.Provisioning;
using IdentityHub.Testing;
using Microsoft.IdentityModel.JsonWebTokens;

namespace IdentityHub.Interop.Tests.Cluster;

/// <summary>
/// Issue 19 point 2: a node that meets a token of its own issuer signed with a key it does not know reloads its keys
/// before refusing. Arranged with two processes on PostgreSQL where B cannot hear A's change notices (B's changes travel
/// through a Redis only B uses) and checks its schedule once an hour, so B learns of A's new key only from the token.
/// </summary>
[Requires(Prerequisite.PostgreSql)]
[Requires(Prerequisite.Redis)]
public sealed class UnknownKeyAcrossNodesTests
{
    [PrerequisiteFact]
    public async Task Token_SignedWithAKeyTheOtherNodeNeverHeardOf_IsAcceptedAfterItReloads()
    {
        await using var redis = await RedisProcess.StartAsync();
        await using var database = new ProvisioningDatabase(postgreSql: true);
        var common = new Dictionary<string, string>
        {
            ["Oidc:Issuer"] = "http://identityhub.cluster.test/",
            ["Cluster:HeartbeatInterval"] = "00:00:01",
            ["Oidc:Keys:RotationWait"] = "00:00:02",
        };
        // A activates a deferred key at its next schedule pass, two seconds on; B never runs one during the test.
        await using var a = await database.StartServerAsync("node-a", new Dictionary<string, string>(common) { ["Oidc:Keys:CheckInterval"] = "00:00:02" });
        await using var b = await database.StartServerAsync("node-b", new Dictionary<string, string>(common)
        {
            ["Oidc:Keys:CheckInterval"] = "01:00:00",
            ["Cluster:Redis"] = redis.ConnectionString,
        });
        using var adminA = await ProvisioningDatabase.AdminApiAsync(a);

        // B does not confirm the new key (it never hears of it), so A defers the switch and then makes it on its own.
        using var rotation = await adminA.PostAsync("api/admin/v1/keys/rotate", content: null);
        var body = await rotation.Content.ReadAsStringAsync();
        Assert.True(rotation.StatusCode == HttpStatusCode.Accepted, body);
        var next = JsonDocument.Parse(body).RootElement.GetProperty("next").GetProperty("kid").GetString()!;
        var token = string.Empty;
        await ClusterSteps.TimeUntilAsync(Stopwatch.StartNew(), async () =>
        {
            token = await KeyRotationAcrossNodesTests.TokenAsync(a);
            return new JsonWebToken(token).Kid == next;
        }, "A signing with the deferred key");
        Assert.DoesNotContain(next, await KeyRotationAcrossNodesTests.KidsAsync(b));

        var keys = await KeyRotationAcrossNodesTests.ListKeysAsync(b, token);

        Assert.Equal(HttpStatusCode.OK, keys);
        Assert.Contains(next, await KeyRotationAcrossNodesTests.KidsAsync(b));
    }
}
