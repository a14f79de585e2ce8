using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using IdentityHub.Server.IntegrationTests.Saml;
using IdentityHub.Testing;

namespace IdentityHub.Server.IntegrationTests.AdminApi;

/// <summary>/applications/{id}/saml and RFC 9110 §13.1.1 If-Match: GET and PUT hand out the SP's ETag, a stale one is refused with 412.</summary>
public abstract class ApplicationSamlApiTests<TFactory>(TFactory factory) : IClassFixture<TFactory>
    where TFactory : IdentityHubFactory
{
    [PrerequisiteFact]
    public async Task Put_WithTheETagOfGet_SavesAndHandsOutANewETag()
    {
        var sp = await new SamlTestSp().RegisterAsync(factory);
        using var admin = await AdminApiClient.CreateAdminAsync(factory);
        var read = await admin.GetAsync(Url(sp));
        var etag = read.Headers.ETag;
        Assert.NotNull(etag);

        using var put = new HttpRequestMessage(HttpMethod.Put, Url(sp)) { Content = JsonContent.Create(sp.Registration(nameIdFormat: "unspecified")) };
        put.Headers.IfMatch.Add(etag);
        var response = await admin.SendAsync(put);

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.NotNull(response.Headers.ETag);
        Assert.NotEqual(etag, response.Headers.ETag);
        Assert.Equal(response.Headers.ETag, (await admin.GetAsync(Url(sp))).Headers.ETag);
    }

    [PrerequisiteTheory]
    [InlineData("PUT")]
    [InlineData("DELETE")]
    [InlineData("POST metadata")]
    public async Task Write_WithAStaleETag_Is412AndChangesNothing(string write)
    {
        var sp = await new SamlTestSp().RegisterAsync(factory);
        using var admin = await AdminApiClient.CreateAdminAsync(factory);
        var stale = (await admin.GetAsync(Url(sp))).Headers.ETag!;
        Assert.Equal(HttpStatusCode.OK, (await admin.PutAsJsonAsync(Url(sp), sp.Registration(signAssertion: false))).StatusCode);
        var before = await admin.GetStringAsync(Url(sp));

        using var request = write switch
        {
            "PUT" => new HttpRequestMessage(HttpMethod.Put, Url(sp)) { Content = JsonContent.Create(sp.Registration(nameIdFormat: "unspecified")) },
            "DELETE" => new HttpRequestMessage(HttpMethod.Delete, Url(sp)),
            _ => new HttpRequestMessage(HttpMethod.Post, Url(sp) + "/metadata") { Content = JsonContent.Create(new { metadataXml = sp.Metadata() }) },
        };
        request.Headers.IfMatch.Add(stale);
        var response = await admin.SendAsync(request);

        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.PreconditionFailed, body);
        using var problem = JsonDocument.Parse(body);
        Assert.Equal("stale", problem.RootElement.GetProperty("code").GetString());
        Assert.Equal(before, await admin.GetStringAsync(Url(sp)));
    }

    private static string Url(SamlTestSp sp) => $"{AdminApiClient.Applications}/{sp.ApplicationId}/saml";
}

public sealed class SqliteApplicationSamlApiTests(SqliteFactory factory) : ApplicationSamlApiTests<SqliteFactory>(factory);

[Requires(Prerequisite.PostgreSql)]
public sealed class PostgreSqlApplicationSamlApiTests(PostgreSqlFactory factory) : ApplicationSamlApiTests<PostgreSqlFactory>(factory);
