using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using IdentityHub.Data;
using IdentityHub.Interop.Tests.Provisioning;
using IdentityHub.Testing;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace IdentityHub.Interop.Tests.Cluster;

/// <summary>
/// Issue 19 point 2: a change an administrator makes on node A holds on node B within 2 s, measured from A's answer to the
/// first moment B behaves accordingly (B used the old state just before, so it had it cached). One class per backplane.
/// </summary>
public abstract class ChangePropagationTests(TwoNodesFixture fixture)
{
    private const string Challenge = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";

    private TwoNodes Nodes => fixture.Nodes;

    [PrerequisiteFact]
    public async Task RotateSecret_OnNodeA_NodeBRefusesOldAndAcceptsNewWithin2s()
    {
        var (applicationId, clientId, oldSecret) = await ClusterSteps.CreateServiceClientAsync(Nodes.AdminA);
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

    [PrerequisiteFact]
    public async Task DisableClient_OnNodeA_NodeBRefusesClientCredentialsWithin2s()
    {
        var (applicationId, clientId, secret) = await ClusterSteps.CreateServiceClientAsync(Nodes.AdminA);
        Assert.Equal(HttpStatusCode.OK, await ClusterSteps.ClientCredentialsAsync(Nodes.B, clientId, secret));

        var registration = ClusterSteps.ServiceClient();
        registration["enabled"] = false;
        using var disable = await Nodes.AdminA.PutAsJsonAsync($"api/admin/v1/applications/{applicationId}/oidc", registration);
        var answered = Stopwatch.StartNew();
        Assert.True(disable.IsSuccessStatusCode, await disable.Content.ReadAsStringAsync());

        var took = await ClusterSteps.TimeUntilAsync(answered, async () =>
            await ClusterSteps.ClientCredentialsAsync(Nodes.B, clientId, secret) != HttpStatusCode.OK, "node B refusing the disabled client");
        Assert.True(took < ClusterSteps.Propagation, $"node B took {took} to refuse the client disabled on node A");
    }

    [PrerequisiteFact]
    public async Task ChangeRedirectUris_OnNodeA_NodeBAuthorizesNewAndRefusesOldWithin2s()
    {
        var (applicationId, clientId, _) = await ClusterSteps.CreateServiceClientAsync(Nodes.AdminA, WebClient("https://old.example/cb"));
        Assert.Equal(HttpStatusCode.Found, await AuthorizeAsync(Nodes.B, clientId, "https://old.example/cb"));

        var registration = ClusterSteps.ServiceClient();
        WebClient("https://new.example/cb")(registration);
        using var change = await Nodes.AdminA.PutAsJsonAsync($"api/admin/v1/applications/{applicationId}/oidc", registration);
        var answered = Stopwatch.StartNew();
        Assert.True(change.IsSuccessStatusCode, await change.Content.ReadAsStringAsync());

        var took = await ClusterSteps.TimeUntilAsync(answered, async () =>
            await AuthorizeAsync(Nodes.B, clientId, "https://new.example/cb") == HttpStatusCode.Found
            && await AuthorizeAsync(Nodes.B, clientId, "https://old.example/cb") == HttpStatusCode.BadRequest,
            "node B accepting the new redirect URI and refusing the old one");
        Assert.True(took < ClusterSteps.Propagation, $"node B took {took} to follow the redirect URIs changed on node A");
    }

    [PrerequisiteFact]
    public async Task EndSessions_OnNodeA_SessionFromNodeBNoLongerOpensEitherNodeWithin2s()
    {
        var userId = await Nodes.Database.RunAsync(services =>
            services.GetRequiredService<IdentityHubDbContext>().Users.Where(u => u.UserName == ClusterSteps.AdminUserName).Select(u => u.Id).SingleAsync());
        var cookie = await ClusterSteps.SignInAsync(Nodes.B, ClusterSteps.AdminUserName, ClusterSteps.AdminPassword);
        Assert.Equal(HttpStatusCode.OK, await ClusterSteps.OpenPortalAsync(Nodes.B, cookie));
        Assert.Equal(HttpStatusCode.OK, await ClusterSteps.OpenPortalAsync(Nodes.A, cookie));

        using var end = await Nodes.AdminA.PostAsync(new Uri($"api/admin/v1/users/{userId}/end-sessions", UriKind.Relative), null);
        var answered = Stopwatch.StartNew();
        Assert.True(end.IsSuccessStatusCode, await end.Content.ReadAsStringAsync());

        var took = await ClusterSteps.TimeUntilAsync(answered, async () =>
            await ClusterSteps.OpenPortalAsync(Nodes.B, cookie) != HttpStatusCode.OK, "node B refusing the ended session");
        Assert.True(took < ClusterSteps.Propagation, $"node B took {took} to refuse the session ended on node A");
        Assert.NotEqual(HttpStatusCode.OK, await ClusterSteps.OpenPortalAsync(Nodes.A, cookie));
    }

    private static Action<Dictionary<string, object?>> WebClient(string redirectUri) => registration =>
    {
        registration["grantTypes"] = new[] { "authorization_code" };
        registration["redirectUris"] = new[] { redirectUri };
        registration["scopes"] = new[] { "openid" };
        registration["requirePkce"] = true;
    };

    /// <summary>302 to the sign-in page when the request is accepted; 400 when OpenIddict refuses the redirect URI.</summary>
    private static async Task<HttpStatusCode> AuthorizeAsync(ServerProcess node, string clientId, string redirectUri)
    {
        using var http = new HttpClient(new HttpClientHandler { AllowAutoRedirect = false }) { BaseAddress = new Uri($"http://127.0.0.1:{node.Port}/") };
        using var response = await http.GetAsync(new Uri(
            $"connect/authorize?response_type=code&scope=openid&state=s&nonce=n&code_challenge={Challenge}&code_challenge_method=S256"
            + $"&client_id={Uri.EscapeDataString(clientId)}&redirect_uri={Uri.EscapeDataString(redirectUri)}", UriKind.Relative));
        return response.StatusCode == HttpStatusCode.Found && response.Headers.Location?.OriginalString.Contains("/account/login", StringComparison.Ordinal) != true
            ? HttpStatusCode.Ambiguous
            : response.StatusCode;
    }
}

/// <summary>Two nodes on one database, shared by the tests of a class; the backplane follows from the settings.</summary>
public abstract class TwoNodesFixture(bool postgreSql) : IAsyncLifetime
{
    public TwoNodes Nodes { get; private set; } = null!;

    public virtual async Task InitializeAsync() => Nodes = await TwoNodes.StartAsync(postgreSql, await SettingsAsync());

    public virtual async Task DisposeAsync()
    {
        if (Nodes is not null)
        {
            await Nodes.DisposeAsync();
        }
    }

    protected virtual Task<IReadOnlyDictionary<string, string>?> SettingsAsync() => Task.FromResult<IReadOnlyDictionary<string, string>?>(null);
}

/// <summary>PostgreSQL: LISTEN/NOTIFY.</summary>
public sealed class PostgreSqlNodes() : TwoNodesFixture(postgreSql: true);

/// <summary>SQLite (two processes on one file): the polled ClusterSignals table.</summary>
public sealed class SqliteNodes() : TwoNodesFixture(postgreSql: false);

[Requires(Prerequisite.PostgreSql)]
public sealed class PostgreSqlChangePropagationTests(PostgreSqlNodes fixture) : ChangePropagationTests(fixture), IClassFixture<PostgreSqlNodes>;

public sealed class SqliteChangePropagationTests(SqliteNodes fixture) : ChangePropagationTests(fixture), IClassFixture<SqliteNodes>;
