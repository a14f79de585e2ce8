using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using System.Text.Json.Nodes;
using IdentityHub.Server.IntegrationTests.AdminApi;
using IdentityHub.Testing;
using Microsoft.AspNetCore.Hosting;

namespace IdentityHub.Server.IntegrationTests.Provisioning;

/// <summary>
/// The connectors API over the Connectors service: a new connector's initial sync (for SCIM and webhooks alike),
/// "test connection" against the scimmy SCIM server, If-Match, and the drift check of a kind that cannot be listed.
/// </summary>
[Requires(Prerequisite.Node)]
public abstract class ConnectorsApiTests<TFactory>(TFactory factory) : IClassFixture<TFactory>
    where TFactory : IdentityHubFactory
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(30);

    [PrerequisiteFact]
    public async Task CreateConnector_UsersHeldRolesBeforeIt_InitialSyncProvisionsThemWithProgress()
    {
        await using var scim = await ScimTestServer.StartAsync();
        var driver = await ProvisioningDriver.CreateAsync(factory);
        var applicationId = await AdminApiClient.CreateApplicationAsync(driver.Admin);
        var holders = new[] { await driver.CreateUserWithAccessAsync(applicationId), await driver.CreateUserWithAccessAsync(applicationId) };
        var outsider = await driver.CreateUserAsync();

        using var created = await driver.Admin.PostAsJsonAsync($"/api/admin/v1/applications/{applicationId}/connectors", new
        {
            kind = "scim", name = "scimmy", settings = JsonNode.Parse(scim.Settings()), secret = ScimTestServer.Token,
        });

        var body = await created.Content.ReadFromJsonAsync<JsonElement>();
        Assert.True(created.StatusCode == HttpStatusCode.Created, body.ToString());
        Assert.Equal(2, body.GetProperty("initialSync").GetProperty("total").GetInt32());
        var connectorId = body.GetProperty("id").GetGuid();
        foreach (var holder in holders)
        {
            await WaitUntilAsync(async () => await scim.UserByExternalIdAsync(holder) is not null, $"user {holder} never reached scimmy");
        }

        var progress = await WaitForAsync(() => driver.GetJsonAsync($"/api/admin/v1/connectors/{connectorId}/full-sync"), p => p.GetProperty("done").GetBoolean());
        Assert.Equal((2, 2, 0), (progress.GetProperty("total").GetInt32(), progress.GetProperty("processed").GetInt32(), progress.GetProperty("failed").GetInt32()));
        Assert.Null(await scim.UserByExternalIdAsync(outsider));
    }

    [PrerequisiteFact]
    public async Task CreateConnector_WebhookForAnApplicationWithHolders_TheReceiverGetsUserCreated()
    {
        await using var receiver = await WebhookReceiver.StartAsync();
        var driver = await ProvisioningDriver.CreateAsync(factory);
        var applicationId = await AdminApiClient.CreateApplicationAsync(driver.Admin);
        var holder = await driver.CreateUserWithAccessAsync(applicationId);

        using var created = await driver.Admin.PostAsJsonAsync($"/api/admin/v1/applications/{applicationId}/connectors", new { kind = "webhook", name = "hooks", settings = new { url = receiver.HooksUrl } });
        var body = await created.Content.ReadFromJsonAsync<JsonElement>();
        Assert.True(created.StatusCode == HttpStatusCode.Created, body.ToString());
        // Until the receiver knows the secret shown once here it answers 503, which the dispatcher retries.
        await receiver.SetSecretAsync(body.GetProperty("secret").GetString()!);

        var state = await receiver.WaitForAsync(s => ProvisioningDriver.HasUser(s, holder), Patience);
        Assert.True(ProvisioningDriver.HasUser(state, holder, u => u.GetProperty("type").GetString() == "user.created"), state.ToString());
        Assert.Equal(0, state.GetProperty("badSignatures").GetInt32());
    }

    [PrerequisiteTheory]
    [InlineData(ScimTestServer.Token, "succeeded", 200)]
    [InlineData("not-the-token", "failed", 401)]
    public async Task Test_ScimConnector_AuthenticatesAndReadsOneUserOrSaysWhyNot(string token, string outcome, int status)
    {
        await using var scim = await ScimTestServer.StartAsync();
        var driver = await ProvisioningDriver.CreateAsync(factory);
        var connectorId = await CreateScimConnectorAsync(driver, scim, token);

        using var tested = await driver.Admin.PostAsync($"/api/admin/v1/connectors/{connectorId}/test", null);

        var result = await tested.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal(HttpStatusCode.OK, tested.StatusCode);
        Assert.Equal(outcome, result.GetProperty("outcome").GetString());
        Assert.Equal(status, result.GetProperty("statusCode").GetInt32());
        Assert.Contains("/Users", result.GetProperty("message").GetString(), StringComparison.Ordinal);
        Assert.DoesNotContain(token, result.ToString(), StringComparison.Ordinal);
    }

    [PrerequisiteFact]
    public async Task Test_WebhookConnectorOrNone_NotAvailableOr404()
    {
        var driver = await ProvisioningDriver.CreateAsync(factory);
        var (_, connectorId, _) = await driver.CreateWebhookConnectorAsync(new Uri("https://hooks.example/identityhub"));

        var result = await driver.PostJsonAsync($"/api/admin/v1/connectors/{connectorId}/test");

        Assert.Equal("not-available", result.GetProperty("outcome").GetString());
        Assert.Equal(HttpStatusCode.NotFound, (await driver.Admin.PostAsync($"/api/admin/v1/connectors/{Guid.NewGuid()}/test", null)).StatusCode);
    }

    [PrerequisiteFact]
    public async Task Update_IfMatchOfAnOlderRead_Is412AndChangesNothing()
    {
        var driver = await ProvisioningDriver.CreateAsync(factory);
        var (_, connectorId, _) = await driver.CreateWebhookConnectorAsync(new Uri("https://hooks.example/identityhub"));
        using var read = await driver.Admin.GetAsync($"/api/admin/v1/connectors/{connectorId}");
        var etag = read.Headers.ETag!;
        using var first = await PutAsync(driver, connectorId, "renamed", etag);
        Assert.Equal(HttpStatusCode.OK, first.StatusCode);

        using var stale = await PutAsync(driver, connectorId, "renamed again", etag);

        Assert.Equal(HttpStatusCode.PreconditionFailed, stale.StatusCode);
        Assert.Equal("renamed", (await driver.GetJsonAsync($"/api/admin/v1/connectors/{connectorId}")).GetProperty("name").GetString());
    }

    [PrerequisiteFact]
    public async Task Drift_WebhookConnector_SaysItCannotBeCheckedAndRefusesAFix()
    {
        var driver = await ProvisioningDriver.CreateAsync(factory);
        var (_, connectorId, _) = await driver.CreateWebhookConnectorAsync(new Uri("https://hooks.example/identityhub"));

        var report = await driver.GetJsonAsync($"/api/admin/v1/connectors/{connectorId}/drift");
        using var fix = await driver.Admin.PostAsync($"/api/admin/v1/connectors/{connectorId}/drift/fix", null);

        Assert.Contains("cannot be read back", report.GetProperty("unavailable").GetString(), StringComparison.Ordinal);
        Assert.False(report.GetProperty("inSync").GetBoolean());
        Assert.Equal(HttpStatusCode.Conflict, fix.StatusCode);
    }

    private static async Task<HttpResponseMessage> PutAsync(ProvisioningDriver driver, Guid connectorId, string name, EntityTagHeaderValue etag)
    {
        using var request = new HttpRequestMessage(HttpMethod.Put, $"/api/admin/v1/connectors/{connectorId}")
        {
            Content = JsonContent.Create(new { name, settings = new { url = "https://hooks.example/identityhub" } }),
        };
        request.Headers.IfMatch.Add(etag);
        return await driver.Admin.SendAsync(request);
    }

    private static async Task<Guid> CreateScimConnectorAsync(ProvisioningDriver driver, ScimTestServer scim, string token)
    {
        var applicationId = await AdminApiClient.CreateApplicationAsync(driver.Admin);
        using var created = await driver.Admin.PostAsJsonAsync($"/api/admin/v1/applications/{applicationId}/connectors", new
        {
            kind = "scim", name = "scimmy", settings = JsonNode.Parse(scim.Settings()), secret = token,
        });
        var body = await created.Content.ReadFromJsonAsync<JsonElement>();
        Assert.True(created.StatusCode == HttpStatusCode.Created, body.ToString());
        return body.GetProperty("id").GetGuid();
    }

    private static async Task<JsonElement> WaitForAsync(Func<Task<JsonElement>> read, Func<JsonElement, bool> done)
    {
        var clock = System.Diagnostics.Stopwatch.StartNew();
        while (true)
        {
            var value = await read();
            if (done(value))
            {
                return value;
            }

            Assert.True(clock.Elapsed < Patience, $"not reached within {Patience.TotalSeconds} s: {value}");
            await Task.Delay(100);
        }
    }

    private static async Task WaitUntilAsync(Func<Task<bool>> condition, string failure)
    {
        var clock = System.Diagnostics.Stopwatch.StartNew();
        while (!await condition())
        {
            Assert.True(clock.Elapsed < Patience, failure);
            await Task.Delay(100);
        }
    }
}

/// <summary>Quick retries, and enough of them that a receiver still waiting for its secret never turns a delivery dead.</summary>
public sealed class ConnectorsApiSettings : IServerSettings
{
    public static void Apply(IWebHostBuilder builder)
    {
        builder.UseSetting("Provisioning:PollInterval", "00:00:00.200");
        builder.UseSetting("Provisioning:BackoffBase", "00:00:00.200");
        builder.UseSetting("Provisioning:BackoffCap", "00:00:01");
        builder.UseSetting("Provisioning:AttemptTimeout", "00:00:02");
        builder.UseSetting("Provisioning:ClaimTimeout", "00:00:10");
        builder.UseSetting("Provisioning:MaxAttempts", "60");
    }
}

public sealed class SqliteConnectorsApiTests(SqliteFactory<ConnectorsApiSettings> factory) : ConnectorsApiTests<SqliteFactory<ConnectorsApiSettings>>(factory);

[Requires(Prerequisite.PostgreSql)]
public sealed class PostgreSqlConnectorsApiTests(PostgreSqlFactory<ConnectorsApiSettings> factory) : ConnectorsApiTests<PostgreSqlFactory<ConnectorsApiSettings>>(factory);
