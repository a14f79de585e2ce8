using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using IdentityHub.Testing;

namespace IdentityHub.Interop.Tests.Cluster;

/// <summary>Two nodes on PostgreSQL, changes told by LISTEN/NOTIFY.</summary>
public sealed class PostgreSqlNodes : IAsyncLifetime
{
    public TwoNodes Nodes { get; private set; } = null!;

    public async Task InitializeAsync() => Nodes = await TwoNodes.StartAsync(postgreSql: true);

    public async Task DisposeAsync()
    {
        if (Nodes is not null)
        {
            await Nodes.DisposeAsync();
        }
    }
}

/// <summary>
/// Issue 19 point 2: a change an administrator makes on node A holds on node B within 2 s, measured from A's answer to the
/// first moment B behaves accordingly (B had the old state cached just before).
/// </summary>
[Requires(Prerequisite.PostgreSql)]
public sealed class ChangePropagationTests(PostgreSqlNodes fixture) : IClassFixture<PostgreSqlNodes>
{
    private TwoNodes Nodes => fixture.Nodes;

    [PrerequisiteFact]
    public async Task RotateSecret_OnNodeA_NodeBRefusesOldAndAcceptsNewWithin2s()
    {
        var (applicationId, clientId, oldSecret) = await ClusterSteps.CreateServiceClientAsync(Nodes.AdminA);
        // B caches the client with its old secret.
        Assert.Equal(HttpStatusCode.OK, await ClusterSteps.ClientCredentialsAsync(Nodes.B, clientId, oldSecret));

        using var rotate = await Nodes.AdminA.PostAsync(new Uri($"api/admin/v1/applications/{applicationId}/oidc/secret", UriKind.Relative), null);
        var answered = Stopwatch.StartNew();
        Assert.True(rotate.IsSuccessStatusCode, await rotate.Content.ReadAsStringAsync());
        var newSecret = (await rotate.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("clientSecret").GetString()!;

        var took = await ClusterSteps.TimeUntilAsync(answered, async () =>
            await ClusterSteps.ClientCredentialsAsync(Nodes.B, clientId, oldSecret) != HttpStatusCode.OK
            && await ClusterSteps.ClientCredentialsAsync(Nodes.B, clientId, newSecret) == HttpStatusCode.OK,
            "node B refusing the old secret and accepting the new one");
        Assert.True(took < ClusterSteps.Propagation, $"node B took {took} to follow the rotation on node A");
    }
}
