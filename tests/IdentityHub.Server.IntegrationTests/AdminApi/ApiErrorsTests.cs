using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using IdentityHub.Server.Scim;
using Microsoft.AspNetCore.Hosting;

namespace IdentityHub.Server.IntegrationTests.AdminApi;

/// <summary>
/// The admin API's and the SCIM server's errors in Development (where the developer exception page used to answer with
/// the request's headers): problem documents for what the framework answers, malformed JSON named by line, byte and
/// path, and nothing of the request echoed.
/// </summary>
public sealed class ApiErrorsTests(SqliteFactory<ApiErrorsTests.Development> factory) : IClassFixture<SqliteFactory<ApiErrorsTests.Development>>
{
    private const string Roles = "/api/admin/v1/roles";

    [Theory]
    [InlineData("GET", Roles, false, null, 401)]
    [InlineData("DELETE", Roles, true, null, 405)]
    [InlineData("POST", Roles, true, "text/plain", 415)]
    [InlineData("GET", "/api/admin/v1/no-such-resource", true, null, 404)]
    public async Task FrameworkStatus_BrowserAccept_IsAProblemDocument(string method, string path, bool authenticated, string? contentType, int status)
    {
        using var client = authenticated ? await AdminApiClient.CreateAdminAsync(factory) : factory.CreateClient();
        using var request = new HttpRequestMessage(new HttpMethod(method), path);
        request.Headers.Accept.ParseAdd("text/html,application/xhtml+xml");
        if (contentType is not null)
        {
            request.Content = new StringContent("name=x", Encoding.UTF8, contentType);
        }

        using var response = await client.SendAsync(request);

        Assert.Equal(status, (int)response.StatusCode);
        var problem = await AdminApiClient.ProblemAsync(response);
        Assert.Equal(status, problem.GetProperty("status").GetInt32());
        Assert.False(string.IsNullOrWhiteSpace(problem.GetProperty("detail").GetString()));
    }

    [Fact]
    public async Task MalformedJson_WithABearerToken_NamesLineBytePathAndEchoesNoHeader()
    {
        using var admin = await AdminApiClient.CreateAdminAsync(factory);
        var token = admin.DefaultRequestHeaders.Authorization!.Parameter!;
        using var request = new HttpRequestMessage(HttpMethod.Post, Roles)
        {
            Content = new StringContent("{\n  \"name\": \"fz\",\n  \"permissions\": [nul\n}", Encoding.UTF8, "application/json"),
        };
        request.Headers.Add("X-Probe", "probe-header-value");

        using var response = await admin.SendAsync(request);
        var text = await response.Content.ReadAsStringAsync();

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var problem = await AdminApiClient.ProblemAsync(response);
        Assert.Equal("$.permissions[0]", problem.GetProperty("jsonPath").GetString());
        Assert.Equal(2, problem.GetProperty("lineNumber").GetInt32());
        Assert.True(problem.GetProperty("bytePositionInLine").GetInt32() > 0);
        Assert.True(problem.GetProperty("errors").TryGetProperty("permissions[0]", out _), text);
        Assert.DoesNotContain(token[..20], text, StringComparison.Ordinal);
        Assert.DoesNotContain("probe-header-value", text, StringComparison.Ordinal);
        Assert.DoesNotContain("headers", text, StringComparison.OrdinalIgnoreCase);
    }

    [Theory]
    [InlineData("{\"name\": 5}", "name")]
    [InlineData("{\"name\": \"fz\", \"delegable\": \"yes\"}", "delegable")]
    [InlineData("{\"name\": \"fz\", \"permissions\": [{\"permissionId\": \"not-a-guid\"}]}", "permissions[0].permissionId")]
    public async Task WrongTypeForAField_Answers400NamingTheField(string body, string field)
    {
        using var admin = await AdminApiClient.CreateAdminAsync(factory);

        using var response = await admin.PostAsync(Roles, new StringContent(body, Encoding.UTF8, "application/json"));

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var problem = await AdminApiClient.ProblemAsync(response);
        Assert.True(problem.GetProperty("errors").TryGetProperty(field, out _), problem.ToString());
        Assert.DoesNotContain("IdentityHub.", problem.GetProperty("detail").GetString()!, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Scim_WithoutTokenAndBrowserAccept_AnswersTheScimErrorSchema()
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, ScimSetup.BasePath + "/Users");
        request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("text/html"));

        using var response = await factory.CreateClient().SendAsync(request);

        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
        Assert.Equal(ScimJsonResult.MediaType, response.Content.Headers.ContentType?.MediaType);
        using var error = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        Assert.Equal(ScimErrors.ErrorSchema, error.RootElement.GetProperty("schemas")[0].GetString());
        Assert.Equal("401", error.RootElement.GetProperty("status").GetString());
    }

    /// <summary>The environment whose developer exception page echoed request headers.</summary>
    public sealed class Development : IServerSettings
    {
        public static void Apply(IWebHostBuilder builder) => builder.UseEnvironment("Development");
    }
}
