using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using System.Text.Json.Nodes;
using IdentityHub.Server.IntegrationTests.AdminApi;
using IdentityHub.Server.IntegrationTests.Saml;
using IdentityHub.Testing;
using Microsoft.AspNetCore.Hosting;

namespace IdentityHub.Server.IntegrationTests;

/// <summary>The Outbound defaults (no inward addresses), with 127.0.0.2 alone allow-listed.</summary>
public sealed class InwardAddressesRefused : IServerSettings
{
    public const string AllowedAddress = "127.0.0.2";

    public static void Apply(IWebHostBuilder builder)
    {
        builder.UseSetting("Outbound:AllowPrivateNetworks", "false");
        builder.UseSetting("Outbound:AllowedNetworks:0", AllowedAddress + "/32");
    }
}

/// <summary>
/// SSRF: URLs an administrator types in (SAML metadata, connector test) never reach loopback, link-local or private
/// addresses unless allowed, checked after DNS resolution, and every failure reads the same.
/// </summary>
public sealed class OutboundFetchTests(SqliteFactory<InwardAddressesRefused> factory) : IClassFixture<SqliteFactory<InwardAddressesRefused>>
{
    public static TheoryData<string> InwardUrls => new()
    {
        "http://127.0.0.1:{port}/metadata",
        "http://169.254.169.254/latest/meta-data/",
        "http://10.1.2.3/metadata",
        "http://localhost:{port}/metadata",
        "http://[::1]:{port}/metadata",
        // Allowed, but nothing listens there: refused by the target, and said exactly as a blocked address is.
        "http://" + InwardAddressesRefused.AllowedAddress + ":{closed}/metadata",
    };

    [PrerequisiteTheory]
    [MemberData(nameof(InwardUrls))]
    public async Task ImportMetadata_InwardOrUnreachableUrl_CouldNotBeFetchedAndNothingReached(string url)
    {
        await using var host = await MetadataHost.StartAsync(new SamlTestSp().Metadata());
        using var admin = await AdminApiClient.CreateAdminAsync(factory);
        var application = await AdminApiClient.CreateApplicationAsync(admin);

        var response = await admin.PostAsJsonAsync($"{AdminApiClient.Applications}/{application}/saml/metadata", new { metadataUrl = Fill(url, host.MetadataUrl.Port) });

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal(await MetadataMessageAsync(admin, application, $"http://{InwardAddressesRefused.AllowedAddress}:{ServerProcess.FreePort()}/metadata"), await FieldMessageAsync(response, "metadataUrl"));
        Assert.Equal(0, host.Requests);
    }

    [PrerequisiteFact]
    public async Task ImportMetadata_AllowListedAddress_IsFetched()
    {
        await using var host = await MetadataHost.StartAsync(new SamlTestSp().Metadata(), InwardAddressesRefused.AllowedAddress);
        using var admin = await AdminApiClient.CreateAdminAsync(factory);
        var application = await AdminApiClient.CreateApplicationAsync(admin);

        var response = await admin.PostAsJsonAsync($"{AdminApiClient.Applications}/{application}/saml/metadata", new { metadataUrl = host.MetadataUrl.AbsoluteUri });

        Assert.True(response.IsSuccessStatusCode, await response.Content.ReadAsStringAsync());
        Assert.Equal(1, host.Requests);
    }

    [PrerequisiteTheory]
    [MemberData(nameof(InwardUrls))]
    public async Task TestConnector_InwardOrUnreachableUrl_SaysOnlyCouldNotBeFetched(string url)
    {
        await using var host = await MetadataHost.StartAsync(new SamlTestSp().Metadata());
        using var admin = await AdminApiClient.CreateAdminAsync(factory);
        var applicationId = await AdminApiClient.CreateApplicationAsync(admin);
        using var created = await admin.PostAsJsonAsync($"/api/admin/v1/applications/{applicationId}/connectors", new
        {
            kind = "scim", name = "inward", secret = "token",
            settings = JsonNode.Parse($$"""{"baseUrl":"{{Fill(url, host.MetadataUrl.Port)}}","authentication":"bearer"}"""),
        });
        var connector = await created.Content.ReadFromJsonAsync<JsonElement>();
        Assert.True(created.StatusCode == HttpStatusCode.Created, connector.ToString());

        using var tested = await admin.PostAsync($"/api/admin/v1/connectors/{connector.GetProperty("id").GetGuid()}/test", null);

        var result = await tested.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal("failed", result.GetProperty("outcome").GetString());
        Assert.Equal("The target could not be fetched.", result.GetProperty("message").GetString());
        Assert.Equal(0, host.Requests);
    }

    private static string Fill(string url, int port) =>
        url.Replace("{port}", port.ToString(System.Globalization.CultureInfo.InvariantCulture), StringComparison.Ordinal)
            .Replace("{closed}", ServerProcess.FreePort().ToString(System.Globalization.CultureInfo.InvariantCulture), StringComparison.Ordinal);

    private static async Task<string> MetadataMessageAsync(HttpClient admin, Guid application, string url) =>
        await FieldMessageAsync(await admin.PostAsJsonAsync($"{AdminApiClient.Applications}/{application}/saml/metadata", new { metadataUrl = url }), "metadataUrl");

    private static async Task<string> FieldMessageAsync(HttpResponseMessage response, string field)
    {
        using var json = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        return json.RootElement.GetProperty("errors").GetProperty(field)[0].GetString()!;
    }
}
