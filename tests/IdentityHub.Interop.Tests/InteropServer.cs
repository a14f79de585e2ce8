using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using IdentityHub.Testing;

namespace IdentityHub.Interop.Tests;

/// <summary>
/// The real IdentityHub process (SQLite file, known admin password, bootstrap admin API client), shared
/// by the tests of a class. Clients are registered the way an operator would: through the admin API.
/// </summary>
public sealed class InteropServer : IAsyncLifetime
{
    public const string AdminPassword = "Interop-Admin-Password-1";
    private const string AdminClientId = "identityhub-admin";
    private const string AdminClientSecret = "interop-admin-client-secret-0123456789abcdef";

    private readonly string _workDirectory = Directory.CreateTempSubdirectory("identityhub-interop-").FullName;
    private ServerProcess? _server;

    public ServerProcess Server => _server ?? throw new InvalidOperationException("The server is not started.");

    /// <summary>The issuer as relying parties on this machine reach it (an IP: Node may try ::1 first for localhost).</summary>
    public Uri LoopbackIssuer => new($"http://127.0.0.1:{Server.Port}/");

    public async Task InitializeAsync()
    {
        _server = ServerProcess.Start(
            new Dictionary<string, string>
            {
                ["ConnectionStrings:IdentityHub"] = $"Data Source={Path.Combine(_workDirectory, "identityhub.db")}",
                ["Bootstrap:AdminPassword"] = AdminPassword,
                ["Bootstrap:AdminClientSecret"] = AdminClientSecret,
                ["Oidc:RequireHttps"] = "false",
                // samlify refuses to send a signed AuthnRequest to an IdP whose metadata does not want one (and the
                // reverse): every SP of this server signs, so the metadata says WantAuthnRequestsSigned="true".
                ["Saml:RequireSignedAuthnRequests"] = "true",
            },
            _workDirectory);
        await _server.WaitUntilReadyAsync(ServerProcess.StartPatience);
    }

    /// <summary>Creates an application and its OIDC client through the admin API; returns (clientId, clientSecret?).</summary>
    public async Task<(string ClientId, string? ClientSecret)> RegisterClientAsync(string name, JsonObject oidc)
    {
        using var api = await AdminApiAsync();
        var created = await api.PostAsJsonAsync("api/admin/v1/applications", new { name, description = "interop test" });
        await EnsureSuccessAsync(created);
        var application = await created.Content.ReadFromJsonAsync<JsonObject>();
        var registered = await api.PutAsync(
            $"api/admin/v1/applications/{application!["id"]}/oidc",
            new StringContent(oidc.ToJsonString(), Encoding.UTF8, "application/json"));
        await EnsureSuccessAsync(registered);
        var client = await registered.Content.ReadFromJsonAsync<JsonObject>();
        await GrantAdminApplicationRoleAsync(api, application["id"]!.GetValue<Guid>());
        return (client!["clientId"]!.GetValue<string>(), client["clientSecret"]?.GetValue<string>());
    }

    /// <summary>The role every interop client expects in the roles claim: <see cref="ApplicationRole"/> of that application, granted to admin.</summary>
    public const string ApplicationRole = "expense-approver";

    /// <summary>Through the admin API, as an administrator would: a permission, a role holding it, and an assignment to admin.</summary>
    private static async Task GrantAdminApplicationRoleAsync(HttpClient api, Guid applicationId)
    {
        var permission = await api.PostAsJsonAsync($"api/admin/v1/applications/{applicationId}/permissions", new { name = "expense.approve" });
        await EnsureSuccessAsync(permission);
        var permissionId = (await permission.Content.ReadFromJsonAsync<JsonObject>())!["id"]!.GetValue<Guid>();
        var role = await api.PostAsJsonAsync("api/admin/v1/roles", new { applicationId, name = ApplicationRole, permissions = new[] { new { permissionId } } });
        await EnsureSuccessAsync(role);
        var roleId = (await role.Content.ReadFromJsonAsync<JsonObject>())!["id"]!.GetValue<Guid>();
        var users = await api.GetFromJsonAsync<JsonObject>("api/admin/v1/users?q=admin");
        var adminId = users!["items"]!.AsArray().Single(u => u!["userName"]!.GetValue<string>() == "admin")!["id"]!.GetValue<string>();
        await EnsureSuccessAsync(await api.PostAsJsonAsync("api/admin/v1/assignments", new { userId = adminId, roleId, reason = "interop test" }));
    }

    /// <summary>Creates an application and registers its SAML service provider from the SP's metadata, through the admin API.</summary>
    public async Task RegisterSamlServiceProviderAsync(string name, string metadataXml)
    {
        using var api = await AdminApiAsync();
        var created = await api.PostAsJsonAsync("api/admin/v1/applications", new { name, description = "interop test" });
        await EnsureSuccessAsync(created);
        var application = await created.Content.ReadFromJsonAsync<JsonObject>();
        await EnsureSuccessAsync(await api.PostAsJsonAsync($"api/admin/v1/applications/{application!["id"]}/saml/metadata", new { metadataXml }));
        await GrantAdminApplicationRoleAsync(api, application["id"]!.GetValue<Guid>());
    }

    public async Task DisposeAsync()
    {
        if (_server is not null)
        {
            await _server.DisposeAsync();
        }

        Directory.Delete(_workDirectory, recursive: true);
    }

    private async Task<HttpClient> AdminApiAsync()
    {
        var api = new HttpClient { BaseAddress = LoopbackIssuer };
        var request = new HttpRequestMessage(HttpMethod.Post, "connect/token")
        {
            Content = new FormUrlEncodedContent(new Dictionary<string, string>
            {
                ["grant_type"] = "client_credentials",
                ["scope"] = "identityhub.admin",
            }),
        };
        request.Headers.Authorization = new AuthenticationHeaderValue(
            "Basic", Convert.ToBase64String(Encoding.UTF8.GetBytes($"{AdminClientId}:{AdminClientSecret}")));
        var response = await api.SendAsync(request);
        await EnsureSuccessAsync(response);
        using var token = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        api.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", token.RootElement.GetProperty("access_token").GetString());
        return api;
    }

    private static async Task EnsureSuccessAsync(HttpResponseMessage response)
    {
        if (!response.IsSuccessStatusCode)
        {
            throw new InvalidOperationException(
                $"{response.RequestMessage?.Method} {response.RequestMessage?.RequestUri} answered {(int)response.StatusCode}: {await response.Content.ReadAsStringAsync()}");
        }
    }
}
