using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using IdentityHub.Testing;

namespace IdentityHub.Interop.Tests.Cluster;

/// <summary>
/// Issue 16 points 2 and 8 across processes: a session signed out on node A is refused on node B within 2 s, and an admin
/// API token of a client disabled, deleted or stripped of its admin roles on node A is refused on both nodes within 2 s.
/// </summary>
public abstract class SessionEndAcrossNodesTests(TwoNodesFixture fixture)
{
    private TwoNodes Nodes => fixture.Nodes;

    [PrerequisiteFact]
    public async Task SignOut_OnNodeA_ReplayedCookieRefusedOnNodeBWithin2s()
    {
        var cookie = await ClusterSteps.SignInAsync(Nodes.B, ClusterSteps.AdminUserName, ClusterSteps.AdminPassword);
        Assert.Equal(HttpStatusCode.OK, await ClusterSteps.OpenPortalAsync(Nodes.B, cookie));
        Assert.Equal(HttpStatusCode.OK, await ClusterSteps.OpenPortalAsync(Nodes.A, cookie));

        await ClusterSteps.SignOutAsync(Nodes.A, cookie);
        var answered = Stopwatch.StartNew();

        var took = await ClusterSteps.TimeUntilAsync(answered, async () =>
            await ClusterSteps.OpenPortalAsync(Nodes.B, cookie) != HttpStatusCode.OK, "node B refusing the signed-out session");
        Assert.True(took < ClusterSteps.Propagation, $"node B took {took} to refuse the session signed out on node A");
        Assert.NotEqual(HttpStatusCode.OK, await ClusterSteps.OpenPortalAsync(Nodes.A, cookie));
    }

    [PrerequisiteTheory]
    [InlineData("disable")]
    [InlineData("delete")]
    [InlineData("remove-roles")]
    public async Task AdminClientChanged_OnNodeA_ItsTokenRefusedOnBothNodesWithin2s(string change)
    {
        var (applicationId, clientId, secret) = await ClusterSteps.CreateServiceClientAsync(Nodes.AdminA, AdminClient(enabled: true, "super-admin"));
        var token = await ClusterSteps.AdminTokenAsync(Nodes.B, clientId, secret);
        await AssertListsUsersAsync(Nodes.B, token);
        await AssertListsUsersAsync(Nodes.A, token);

        var oidc = $"api/admin/v1/applications/{applicationId}/oidc";
        var registration = ClusterSteps.ServiceClient();
        AdminClient(enabled: change != "disable", change == "remove-roles" ? ["auditor"] : ["super-admin"])(registration);
        using var changed = change == "delete" ? await Nodes.AdminA.DeleteAsync(new Uri(oidc, UriKind.Relative)) : await Nodes.AdminA.PutAsJsonAsync(oidc, registration);
        var answered = Stopwatch.StartNew();
        Assert.True(changed.IsSuccessStatusCode, await changed.Content.ReadAsStringAsync());

        var took = await ClusterSteps.TimeUntilAsync(answered, async () =>
            await ListUsersAsync(Nodes.B, token) == HttpStatusCode.Unauthorized, "node B refusing the token");
        Assert.True(took < ClusterSteps.Propagation, $"node B took {took} to refuse the token of the client changed on node A");
        Assert.Equal(HttpStatusCode.Unauthorized, await ListUsersAsync(Nodes.A, token));
    }

    private static Action<Dictionary<string, object?>> AdminClient(bool enabled, params string[] roles) => registration =>
    {
        registration["scopes"] = new[] { "identityhub.admin" };
        registration["adminRoles"] = roles;
        registration["enabled"] = enabled;
    };

    private static async Task<HttpStatusCode> ListUsersAsync(ServerProcess node, string token)
    {
        using var response = await SendListUsersAsync(node, token);
        return response.StatusCode;
    }

    /// <summary>The token opens the admin API on <paramref name="node"/>; if not, the failure names the server's reason.</summary>
    private static async Task AssertListsUsersAsync(ServerProcess node, string token)
    {
        using var response = await SendListUsersAsync(node, token);
        Assert.True(response.StatusCode == HttpStatusCode.OK, $"{node.Port}: {(int)response.StatusCode} {response.Headers.WwwAuthenticate}");
    }

    private static async Task<HttpResponseMessage> SendListUsersAsync(ServerProcess node, string token)
    {
        using var http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{node.Port}/") };
        http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);
        return await http.GetAsync(new Uri("api/admin/v1/users", UriKind.Relative));
    }
}

/// <summary>
/// Two PostgreSQL nodes with one public issuer, as behind a load balancer. Without <c>Oidc:Issuer</c> each node names
/// itself after the request's host and port, so a token issued by node B carries B's address as <c>iss</c> and node A
/// refuses it as invalid_token (wrong issuer).
/// </summary>
public sealed class PostgreSqlOneIssuerNodes() : TwoNodesFixture(postgreSql: true)
{
    protected override Task<IReadOnlyDictionary<string, string>?> SettingsAsync() =>
        Task.FromResult<IReadOnlyDictionary<string, string>?>(new Dictionary<string, string> { ["Oidc:Issuer"] = "http://identityhub.cluster.test/" });
}

[Requires(Prerequisite.PostgreSql)]
public sealed class PostgreSqlSessionEndAcrossNodesTests(PostgreSqlOneIssuerNodes fixture) : SessionEndAcrossNodesTests(fixture), IClassFixture<PostgreSqlOneIssuerNodes>;
