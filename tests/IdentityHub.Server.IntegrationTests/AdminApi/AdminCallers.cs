using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using IdentityHub.Core.Directory;
using IdentityHub.Data;
using IdentityHub.Data.Directory;
using IdentityHub.Server.IntegrationTests.Oidc;
using Microsoft.Extensions.DependencyInjection;
using static OpenIddict.Abstractions.OpenIddictConstants;
using IdentityHubScopes = IdentityHub.Core.Access.IdentityHubScopes;
using ClientProperties = IdentityHub.Core.Access.ClientProperties;

namespace IdentityHub.Server.IntegrationTests.AdminApi;

/// <summary>Administrators as the admin API sees them: people holding one admin role, signed in through a client (code flow).</summary>
internal static class AdminCallers
{
    public const string Users = "/api/admin/v1/users";
    public const string Departments = "/api/admin/v1/departments";
    public const string Roles = "/api/admin/v1/roles";
    public const string Assignments = "/api/admin/v1/assignments";
    public const string SodRules = "/api/admin/v1/sod-rules";
    public const string Audit = "/api/admin/v1/audit";
    public const string Import = "/api/admin/v1/import";

    /// <summary>A client carrying the token of a new user who holds <paramref name="role"/> and administers <paramref name="departments"/>.</summary>
    public static async Task<(HttpClient Client, UserAccount User)> CreateAsync(IdentityHubFactory factory, string role, params Guid[] departments)
    {
        var rp = new OidcDriver(factory);
        var user = await rp.CreateUserAsync();
        await rp.AddRoleAsync(user, role);
        if (departments.Length > 0)
        {
            await using var scope = factory.Services.CreateAsyncScope();
            var db = scope.ServiceProvider.GetRequiredService<IdentityHubDbContext>();
            db.AdministeredDepartments.AddRange(departments.Select(d => new AdministeredDepartment { UserId = user.Id, DepartmentId = d }));
            await db.SaveChangesAsync();
        }

        var clientId = await rp.RegisterClientAsync(configure: d =>
        {
            d.Permissions.Add(Permissions.Prefixes.Scope + IdentityHubScopes.AdminApi);
            d.Properties[ClientProperties.AdminRoles] = JsonSerializer.SerializeToElement(AdminRoles.All);
        });
        var (code, verifier, _, _) = await rp.ObtainCodeAsync(clientId, "openid " + IdentityHubScopes.AdminApi, user: user);
        using var body = await OidcDriver.JsonAsync(await rp.RedeemCodeAsync(clientId, code, verifier));
        var client = factory.CreateClient();
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", body.RootElement.GetProperty("access_token").GetString());
        return (client, user);
    }

    public static async Task<JsonElement> JsonAsync(HttpResponseMessage response, HttpStatusCode expected)
    {
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == expected, $"Expected {expected}, got {(int)response.StatusCode}: {text}");
        return text.Length == 0 ? default : JsonDocument.Parse(text).RootElement.Clone();
    }

    public static async Task<JsonElement> PostAsync(HttpClient client, string path, object body, HttpStatusCode expected = HttpStatusCode.Created) =>
        await JsonAsync(await client.PostAsJsonAsync(path, body), expected);

    public static string NewCode(string prefix) => OidcDriver.NewId(prefix);

    public static async Task<Guid> CreateDepartmentAsync(HttpClient admin, Guid? parentId = null, string? name = null)
    {
        var code = NewCode("D");
        var created = await PostAsync(admin, Departments, new { code, name = name ?? "Department " + code, parentId });
        return created.GetProperty("id").GetGuid();
    }

    public static async Task<string> CreateUserAsync(HttpClient admin, Guid? departmentId = null, string? displayName = null)
    {
        var number = NewCode("E");
        var created = await PostAsync(admin, Users, new
        {
            userName = NewCode("u"),
            displayName = displayName ?? "Person " + number,
            email = number.ToLowerInvariant() + "@example.com",
            employeeNumber = number,
            departmentId,
        });
        return created.GetProperty("id").GetString()!;
    }

    /// <summary>An application with one permission and a role holding it; returns the ids.</summary>
    public static async Task<(Guid Application, Guid Permission, Guid Role)> CreateRoleAsync(HttpClient admin, bool delegable = false, string? permission = null)
    {
        var application = await AdminApiClient.CreateApplicationAsync(admin);
        var created = await PostAsync(admin, $"{AdminApiClient.Applications}/{application}/permissions",
            new { name = permission ?? "expense.approve", description = "Approve expenses", parameters = new Dictionary<string, string> { ["amountLimit"] = "5000" } });
        var permissionId = created.GetProperty("id").GetGuid();
        var role = await PostAsync(admin, Roles, new
        {
            applicationId = application,
            name = NewCode("approver"),
            delegable,
            permissions = new[] { new { permissionId, parameters = new Dictionary<string, string> { ["amountLimit"] = "20000" } } },
        });
        return (application, permissionId, role.GetProperty("id").GetGuid());
    }

    public static async Task<T> InDatabaseAsync<T>(IdentityHubFactory factory, Func<IdentityHubDbContext, Task<T>> query)
    {
        await using var scope = factory.Services.CreateAsyncScope();
        return await query(scope.ServiceProvider.GetRequiredService<IdentityHubDbContext>());
    }
}
