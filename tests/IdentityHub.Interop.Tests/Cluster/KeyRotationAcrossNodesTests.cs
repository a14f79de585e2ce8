using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using IdentityHub.Data;
using IdentityHub.Data.Cluster;
using IdentityHub.Interop.Tests.Provisioning;
using IdentityHub.Testing;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;

namespace IdentityHub.Interop.Tests.Cluster;

/// <summary>
/// Issue 19 point 2 (keys): two server processes on PostgreSQL, each checking the schedule only once an hour, so only the
/// change notice and the node registry can explain that a rotation on A never leaves B without the key that signs.
/// </summary>
[Requires(Prerequisite.PostgreSql)]
public sealed class KeyRotationAcrossNodesTests(KeyRotationAcrossNodesTests.Fixture fixture) : IClassFixture<KeyRotationAcrossNodesTests.Fixture>
{
    private TwoNodes Nodes => fixture.Nodes;

    /// <summary>Two nodes whose schedule check is an hour away, with a one-second heartbeat.</summary>
    public sealed class Fixture() : TwoNodesFixture(postgreSql: true)
    {
        protected override Task<IReadOnlyDictionary<string, string>?> SettingsAsync() => Task.FromResult<IReadOnlyDictionary<string, string>?>(new Dictionary<string, string>
        {
            // One issuer for both, as behind a load balancer: each node's tokens must be its own issuer's on the other.
            ["Oidc:Issuer"] = "http://identityhub.cluster.test/",
            ["Oidc:Keys:CheckInterval"] = "01:00:00",
            ["Cluster:HeartbeatInterval"] = "00:00:01",
            ["Oidc:Keys:RotationWait"] = "00:00:10",
        });
    }

    [PrerequisiteFact]
    public async Task Rotate_OnA_AnswersOnceBPublishesAndBAcceptsTheNewTokens()
    {
        // Introspection is for resource servers, not the admin client: a client that may introspect its own tokens.
        var service = await ClusterSteps.CreateServiceClientAsync(Nodes.AdminA);
        using var response = await Nodes.AdminA.PostAsync("api/admin/v1/keys/rotate", content: null);

        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, body);
        using var rotation = JsonDocument.Parse(body);
        var activated = rotation.RootElement.GetProperty("activated").GetProperty("kid").GetString()!;
        // Right after the answer, without waiting: B publishes the key, accepts A's tokens, and its introspection agrees.
        Assert.Contains(activated, await KidsAsync(Nodes.B));
        var token = await TokenAsync(Nodes.A);
        Assert.Equal(activated, new JsonWebToken(token).Kid);
        Assert.Equal(HttpStatusCode.OK, await ListKeysAsync(Nodes.B, token));
        var serviceToken = await TokenAsync(Nodes.A, service.ClientId, service.Secret, scope: null);
        Assert.Equal(activated, new JsonWebToken(serviceToken).Kid);
        Assert.True(await IntrospectAsync(Nodes.B, serviceToken, service.ClientId, service.Secret));
    }

    [PrerequisiteFact]
    public async Task Rotate_FiveTimesUnderLoad_NoTokenIsRefusedByTheOtherNode()
    {
        using var stop = new CancellationTokenSource();
        var refusals = new List<string>();
        var checkedTokens = 0;
        var load = Task.Run(async () =>
        {
            for (var i = 0; !stop.IsCancellationRequested; i++)
            {
                var (issuer, other) = i % 2 == 0 ? (Nodes.A, Nodes.B) : (Nodes.B, Nodes.A);
                var token = await TokenAsync(issuer);
                var kid = new JsonWebToken(token).Kid;
                var status = await ListKeysAsync(other, token);
                var published = (await KidsAsync(other)).Contains(kid);
                if (status != HttpStatusCode.OK || !published)
                {
                    lock (refusals)
                    {
                        refusals.Add($"token {i} ({kid}): {status}, published by the other node: {published}");
                    }
                }

                Interlocked.Increment(ref checkedTokens);
            }
        });

        for (var rotation = 0; rotation < 5; rotation++)
        {
            var node = rotation % 2 == 0 ? Nodes.AdminA : Nodes.AdminB;
            using var response = await node.PostAsync("api/admin/v1/keys/rotate", content: null);
            Assert.True(response.StatusCode == HttpStatusCode.OK, await response.Content.ReadAsStringAsync());
            await Task.Delay(300);
        }

        await stop.CancelAsync();
        await load;
        Assert.True(checkedTokens > 10, $"Only {checkedTokens} tokens were checked.");
        Assert.Empty(refusals);
    }

    [PrerequisiteFact]
    public async Task Rotate_ALiveNodeNeverConfirms_AcceptedAndTheKeyIsPublishedButDoesNotSign()
    {
        var before = new JsonWebToken(await TokenAsync(Nodes.A)).Kid;
        // A node that says it is alive but never publishes anything new. Its heartbeat is dated ahead, so it stays live for
        // the whole test however slowly a loaded machine lets the test refresh a row.
        await Nodes.Database.RunAsync(async services =>
        {
            var db = services.GetRequiredService<IdentityHubDbContext>();
            var now = DateTimeOffset.UtcNow;
            db.ClusterNodes.Add(new ClusterNode { Id = "never-confirms", Name = "stuck-node", StartedAt = now, SeenAt = now.AddMinutes(10), PublishedKeyIds = before });
            return await db.SaveChangesAsync();
        });
        try
        {
            using var response = await Nodes.AdminA.PostAsync("api/admin/v1/keys/rotate", content: null);

            var body = await response.Content.ReadAsStringAsync();
            Assert.True(response.StatusCode == HttpStatusCode.Accepted, body);
            using var pending = JsonDocument.Parse(body);
            var next = pending.RootElement.GetProperty("next").GetProperty("kid").GetString()!;
            Assert.Contains("stuck-node", pending.RootElement.GetProperty("laggingNodes").EnumerateArray().Select(n => n.GetString()));
            Assert.Contains(next, await KidsAsync(Nodes.A));
            Assert.Contains(next, await KidsAsync(Nodes.B));
            Assert.Equal(before, new JsonWebToken(await TokenAsync(Nodes.A)).Kid);
            Assert.Equal(before, new JsonWebToken(await TokenAsync(Nodes.B)).Kid);
        }
        finally
        {
            await Nodes.Database.RunAsync(services => services.GetRequiredService<IdentityHubDbContext>().ClusterNodes.Where(n => n.Id == "never-confirms").ExecuteDeleteAsync());
        }
    }

    internal static HttpClient Client(ServerProcess node) => new() { BaseAddress = new Uri($"http://127.0.0.1:{node.Port}/") };

    internal static Task<string> TokenAsync(ServerProcess node) =>
        TokenAsync(node, "identityhub-admin", ProvisioningDatabase.AdminClientSecret, "identityhub.admin");

    private static async Task<string> TokenAsync(ServerProcess node, string clientId, string secret, string? scope)
    {
        using var http = Client(node);
        var form = new Dictionary<string, string> { ["grant_type"] = "client_credentials" };
        if (scope is not null)
        {
            form["scope"] = scope;
        }

        using var request = new HttpRequestMessage(HttpMethod.Post, "connect/token") { Content = new FormUrlEncodedContent(form) };
        request.Headers.Authorization = Basic(clientId, secret);
        using var response = await http.SendAsync(request);
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.IsSuccessStatusCode, body);
        using var json = JsonDocument.Parse(body);
        return json.RootElement.GetProperty("access_token").GetString()!;
    }

    internal static async Task<HttpStatusCode> ListKeysAsync(ServerProcess node, string token)
    {
        using var http = Client(node);
        http.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token);
        using var response = await http.GetAsync("api/admin/v1/keys");
        return response.StatusCode;
    }

    private static async Task<bool> IntrospectAsync(ServerProcess node, string token, string clientId, string secret)
    {
        using var http = Client(node);
        using var request = new HttpRequestMessage(HttpMethod.Post, "connect/introspect")
        {
            Content = new FormUrlEncodedContent(new Dictionary<string, string> { ["token"] = token }),
        };
        request.Headers.Authorization = Basic(clientId, secret);
        using var response = await http.SendAsync(request);
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.IsSuccessStatusCode, body);
        using var json = JsonDocument.Parse(body);
        return json.RootElement.GetProperty("active").GetBoolean();
    }

    internal static async Task<IReadOnlyList<string>> KidsAsync(ServerProcess node)
    {
        using var http = Client(node);
        return [.. new JsonWebKeySet(await http.GetStringAsync(".well-known/jwks")).Keys.Select(k => k.Kid)];
    }

    private static AuthenticationHeaderValue Basic(string clientId, string secret) =>
        new("Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes($"{Uri.EscapeDataString(clientId)}:{Uri.EscapeDataString(secret)}")));
}
