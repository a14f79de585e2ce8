using System.Net;
using System.Net.Http.Headers;
using System.Text.Json;
using IdentityHub.Server.IntegrationTests.AdminApi;
using IdentityHub.Testing;

namespace IdentityHub.Server.IntegrationTests.Oidc;

/// <summary>
/// Issue 18 point 4: discovery and JWKS are served from bytes rendered once, with an ETag and a Cache-Control, and
/// rendered again when the keys change or the request's base address differs.
/// </summary>
public sealed class PublishedDocumentsTests(SqliteFactory factory) : IClassFixture<SqliteFactory>
{
    private const string Discovery = "/.well-known/openid-configuration";
    private const string Jwks = "/.well-known/jwks";

    [PrerequisiteTheory]
    [InlineData(Discovery, 3600)]
    [InlineData(Jwks, 300)]
    public async Task Document_FetchedTwice_SameBytesAndETag_IfNoneMatchGets304(string path, int maxAge)
    {
        var client = factory.CreateClient();

        var first = await client.GetAsync(path);
        var second = await client.GetAsync(path);

        Assert.Equal(HttpStatusCode.OK, first.StatusCode);
        Assert.Equal(HttpStatusCode.OK, second.StatusCode);
        Assert.Equal(await first.Content.ReadAsStringAsync(), await second.Content.ReadAsStringAsync());
        Assert.Equal("application/json", second.Content.Headers.ContentType?.MediaType);
        var tag = Assert.IsType<EntityTagHeaderValue>(second.Headers.ETag);
        Assert.Equal(first.Headers.ETag, tag);
        Assert.True(second.Headers.CacheControl?.Public, "Cache-Control says public.");
        Assert.Equal(TimeSpan.FromSeconds(maxAge), second.Headers.CacheControl?.MaxAge);
        Assert.False(second.Headers.CacheControl?.NoStore ?? false, "OpenIddict's no-store is replaced.");
        Assert.False(second.Headers.Contains("Pragma"), "OpenIddict's Pragma: no-cache is dropped.");

        using var conditional = new HttpRequestMessage(HttpMethod.Get, path);
        conditional.Headers.IfNoneMatch.Add(tag);
        var notModified = await client.SendAsync(conditional);
        Assert.Equal(HttpStatusCode.NotModified, notModified.StatusCode);
        Assert.Empty(await notModified.Content.ReadAsByteArrayAsync());
        Assert.Equal(tag, notModified.Headers.ETag);

        using var stale = new HttpRequestMessage(HttpMethod.Get, path);
        stale.Headers.IfNoneMatch.Add(new EntityTagHeaderValue("\"not-the-current-one\""));
        Assert.Equal(HttpStatusCode.OK, (await client.SendAsync(stale)).StatusCode);
    }

    [PrerequisiteFact]
    public async Task Discovery_AnotherHost_NamesThatHostAsIssuer()
    {
        var client = factory.CreateClient();
        Assert.Equal("http://localhost/", await IssuerAsync(client, host: null));

        Assert.Equal("http://sso.example.test/", await IssuerAsync(client, "sso.example.test"));
        Assert.Equal("http://localhost/", await IssuerAsync(client, host: null));
    }

    [PrerequisiteFact]
    public async Task Jwks_AfterARotation_HasANewETagAndTheNewKey()
    {
        var client = factory.CreateClient();
        var before = await client.GetAsync(Jwks);
        var kidsBefore = Kids(await before.Content.ReadAsStringAsync());

        using var admin = await AdminApiClient.CreateAdminAsync(factory);
        var rotated = await admin.PostAsync("/api/admin/v1/keys/rotate", content: null);
        Assert.Equal(HttpStatusCode.OK, rotated.StatusCode);
        using var rotation = JsonDocument.Parse(await rotated.Content.ReadAsStringAsync());
        var activated = rotation.RootElement.GetProperty("activated").GetProperty("kid").GetString();

        var after = await client.GetAsync(Jwks);
        Assert.Equal(HttpStatusCode.OK, after.StatusCode);
        Assert.NotEqual(before.Headers.ETag, after.Headers.ETag);
        var kidsAfter = Kids(await after.Content.ReadAsStringAsync());
        Assert.Contains(activated, kidsAfter);
        Assert.Superset(kidsBefore.ToHashSet(), kidsAfter.ToHashSet());

        using var conditional = new HttpRequestMessage(HttpMethod.Get, Jwks);
        conditional.Headers.IfNoneMatch.Add(before.Headers.ETag!);
        Assert.Equal(HttpStatusCode.OK, (await client.SendAsync(conditional)).StatusCode);
    }

    private static async Task<string?> IssuerAsync(HttpClient client, string? host)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, Discovery);
        if (host is not null)
        {
            request.Headers.Host = host;
        }

        var response = await client.SendAsync(request);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        using var document = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        return document.RootElement.GetProperty("issuer").GetString();
    }

    private static List<string?> Kids(string jwks)
    {
        using var document = JsonDocument.Parse(jwks);
        return document.RootElement.GetProperty("keys").EnumerateArray().Select(k => k.GetProperty("kid").GetString()).ToList();
    }
}
