using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using IdentityHub.Core.Directory;
using IdentityHub.Server.AdminApi;
using IdentityHub.Server.IntegrationTests.Oidc;
using IdentityHub.Testing;
using Microsoft.AspNetCore.Routing;
using Microsoft.AspNetCore.Routing.Patterns;
using Microsoft.Extensions.DependencyInjection;
using static OpenIddict.Abstractions.OpenIddictConstants;
using IdentityHubScopes = IdentityHub.Core.Access.IdentityHubScopes;
using ClientProperties = IdentityHub.Core.Access.ClientProperties;

namespace IdentityHub.Server.IntegrationTests.AdminApi;

/// <summary>
/// Every admin API endpoint × every admin role (and a user without one, and nobody) against ONE table of
/// who may call what. An endpoint missing from the table fails, so a new endpoint cannot escape review.
/// </summary>
public abstract class RouteTableTests<TFactory>(TFactory factory) : IClassFixture<TFactory>
    where TFactory : IdentityHubFactory
{
    private const string Super = AdminRoles.SuperAdmin;
    private const string Security = AdminRoles.SecurityAdmin;
    private const string Hr = AdminRoles.HrAdmin;
    private const string Auditor = AdminRoles.Auditor;

    private static readonly string[] AnyAdmin = [Super, Security, Hr, Auditor];
    private static readonly string[] SecurityAdmins = [Super, Security];
    private static readonly string[] DirectoryAdmins = [Super, Hr];
    private static readonly string[] AuditExporters = [Super, Security, Auditor];
    private static readonly string[] SuperOnly = [Super];

    /// <summary>Who may call each endpoint, keyed by method and route pattern under /api/admin/v1.</summary>
    private static readonly Dictionary<string, string[]> Expected = new(StringComparer.Ordinal)
    {
        ["GET /keys"] = AnyAdmin,
        ["POST /keys/rotate"] = SecurityAdmins,

        ["GET /applications"] = AnyAdmin,
        ["GET /applications/{id:guid}"] = AnyAdmin,
        ["POST /applications"] = SecurityAdmins,
        ["PUT /applications/{id:guid}"] = SecurityAdmins,
        ["DELETE /applications/{id:guid}"] = SecurityAdmins,
        ["GET /applications/{id:guid}/oidc"] = AnyAdmin,
        ["PUT /applications/{id:guid}/oidc"] = SecurityAdmins,
        ["DELETE /applications/{id:guid}/oidc"] = SecurityAdmins,
        ["POST /applications/{id:guid}/oidc/secret"] = SecurityAdmins,
        ["GET /applications/{id:guid}/saml"] = AnyAdmin,
        ["PUT /applications/{id:guid}/saml"] = SecurityAdmins,
        ["DELETE /applications/{id:guid}/saml"] = SecurityAdmins,
        ["POST /applications/{id:guid}/saml/metadata"] = SecurityAdmins,

        ["GET /applications/{applicationId:guid}/permissions"] = AnyAdmin,
        ["GET /applications/{applicationId:guid}/permissions/{id:guid}"] = AnyAdmin,
        ["POST /applications/{applicationId:guid}/permissions"] = SecurityAdmins,
        ["PUT /applications/{applicationId:guid}/permissions/{id:guid}"] = SecurityAdmins,
        ["DELETE /applications/{applicationId:guid}/permissions/{id:guid}"] = SecurityAdmins,

        ["GET /roles"] = AnyAdmin,
        ["GET /roles/{id:guid}"] = AnyAdmin,
        ["POST /roles"] = SecurityAdmins,
        ["PUT /roles/{id:guid}"] = SecurityAdmins,
        ["DELETE /roles/{id:guid}"] = SecurityAdmins,

        ["GET /users"] = AnyAdmin,
        ["GET /users/{id}"] = AnyAdmin,
        ["GET /users/{id}/entitlements"] = AnyAdmin,
        ["GET /users/{id}/assignments"] = AnyAdmin,
        ["GET /users/{id}/admin-roles"] = AnyAdmin,
        ["POST /users"] = DirectoryAdmins,
        ["PUT /users/{id}"] = DirectoryAdmins,
        ["POST /users/{id}/suspend"] = DirectoryAdmins,
        ["POST /users/{id}/reactivate"] = DirectoryAdmins,
        ["POST /users/{id}/leave"] = DirectoryAdmins,
        ["POST /users/{id}/end-sessions"] = SecurityAdmins,
        ["POST /users/{id}/mfa/reset"] = SecurityAdmins,
        ["GET /users/{id}/passkeys"] = AnyAdmin,
        ["DELETE /users/{id}/passkeys"] = SecurityAdmins,
        // An administrator's own account is guarded inside (EnsureMayManageAdministrator), as for suspend and leave.
        ["POST /users/{id}/invitation"] = DirectoryAdmins,
        ["POST /users/{id}/password"] = DirectoryAdmins,
        ["POST /users/{id}/unlock"] = DirectoryAdmins,
        ["PUT /users/{id}/admin-roles"] = SuperOnly,

        ["GET /departments"] = AnyAdmin,
        ["GET /departments/tree"] = AnyAdmin,
        ["GET /departments/{id:guid}"] = AnyAdmin,
        ["POST /departments"] = DirectoryAdmins,
        ["PUT /departments/{id:guid}"] = DirectoryAdmins,
        ["POST /departments/{id:guid}/move"] = DirectoryAdmins,
        ["PUT /departments/{id:guid}/mfa"] = DirectoryAdmins,
        ["DELETE /departments/{id:guid}"] = DirectoryAdmins,

        ["GET /assignments"] = AnyAdmin,
        ["GET /assignments/{id:guid}"] = AnyAdmin,
        ["POST /assignments"] = DirectoryAdmins,
        ["POST /assignments/{id:guid}/end"] = DirectoryAdmins,

        ["GET /sod-rules"] = AnyAdmin,
        ["GET /sod-rules/violations"] = AnyAdmin,
        ["GET /sod-rules/{id:guid}"] = AnyAdmin,
        ["POST /sod-rules"] = SecurityAdmins,
        ["DELETE /sod-rules/{id:guid}"] = SecurityAdmins,

        // HR administrators do not read the trail (nor in the console); the auditor and the security side do.
        ["GET /audit"] = AuditExporters,
        ["GET /audit/verify"] = AuditExporters,
        ["GET /audit/export"] = AuditExporters,

        ["POST /import/departments"] = DirectoryAdmins,
        ["POST /import/users"] = DirectoryAdmins,

        ["GET /applications/{id:guid}/connectors"] = AnyAdmin,
        ["POST /applications/{id:guid}/connectors"] = SecurityAdmins,
        ["GET /connectors/{id:guid}"] = AnyAdmin,
        ["PUT /connectors/{id:guid}"] = SecurityAdmins,
        ["DELETE /connectors/{id:guid}"] = SecurityAdmins,
        ["POST /connectors/{id:guid}/pause"] = SecurityAdmins,
        ["POST /connectors/{id:guid}/resume"] = SecurityAdmins,
        // Calls the target with the stored secret: for those who may change the connector.
        ["POST /connectors/{id:guid}/test"] = SecurityAdmins,
        ["GET /connectors/{id:guid}/status"] = AnyAdmin,
        ["GET /connectors/{id:guid}/dead-letters"] = AnyAdmin,
        ["POST /connectors/{id:guid}/dead-letters/replay"] = SecurityAdmins,
        ["POST /connectors/{id:guid}/dead-letters/{rowId}/replay"] = SecurityAdmins,
        ["GET /connectors/{id:guid}/deliveries"] = AnyAdmin,
        ["GET /connectors/{id:guid}/deliveries/stats"] = AnyAdmin,
        ["GET /connectors/{id:guid}/drift"] = AnyAdmin,
        ["POST /connectors/{id:guid}/drift/fix"] = SecurityAdmins,
        ["POST /connectors/{id:guid}/full-sync"] = SecurityAdmins,
        ["GET /connectors/{id:guid}/full-sync"] = AnyAdmin,
        ["GET /connector-presets"] = AnyAdmin,
        // A preview carries a valid signature, which the vendor would accept for a few minutes.
        ["GET /connectors/{id:guid}/preview"] = SecurityAdmins,

        // A source writes the directory as an HR administrator of its subtrees: super administrators only, reads included.
        ["GET /sources"] = SuperOnly,
        ["POST /sources"] = SuperOnly,
        ["GET /sources/{id:guid}"] = SuperOnly,
        ["PUT /sources/{id:guid}"] = SuperOnly,
        ["DELETE /sources/{id:guid}"] = SuperOnly,
        ["POST /sources/{id:guid}/token"] = SuperOnly,
        ["DELETE /sources/{id:guid}/token"] = SuperOnly,
        ["POST /sources/{id:guid}/runs"] = SuperOnly,
        ["POST /sources/{id:guid}/approve-first-import"] = SuperOnly,
        ["GET /sources/{id:guid}/runs"] = SuperOnly,
        ["GET /sources/{id:guid}/conflicts"] = SuperOnly,
    };

    /// <summary>Callers: null = anonymous, "" = a signed-in user without an admin role, else that role.</summary>
    private static readonly string?[] Callers = [null, "", Super, Security, Hr, Auditor];

    [PrerequisiteFact]
    public void RouteTable_EveryAdminEndpoint_IsInTheExpectationTable()
    {
        var actual = AdminEndpoints().Select(e => e.Key).ToHashSet(StringComparer.Ordinal);

        Assert.Empty(actual.Except(Expected.Keys).Order(StringComparer.Ordinal));
        Assert.Empty(Expected.Keys.Except(actual).Order(StringComparer.Ordinal));
    }

    [PrerequisiteFact]
    public async Task AdminEndpoints_EveryCaller_AllowedOrDeniedAsTheTableSays()
    {
        var tokens = await TokensAsync();
        var http = factory.CreateClient();
        var mismatches = new List<string>();

        foreach (var (key, path, method) in AdminEndpoints())
        {
            var allowedRoles = Expected.GetValueOrDefault(key) ?? [];
            foreach (var caller in Callers)
            {
                using var request = Probe(method, path);
                if (caller is not null)
                {
                    request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", tokens[caller]);
                }

                using var response = await http.SendAsync(request);
                var expected = caller is null ? HttpStatusCode.Unauthorized
                    : allowedRoles.Contains(caller) ? (HttpStatusCode?)null
                    : HttpStatusCode.Forbidden;
                var denied = response.StatusCode is HttpStatusCode.Unauthorized or HttpStatusCode.Forbidden;
                if (expected is null ? denied : response.StatusCode != expected)
                {
                    mismatches.Add($"{key} as {(caller is null ? "anonymous" : caller.Length == 0 ? "no role" : caller)}: "
                        + $"expected {(expected?.ToString() ?? "allowed")}, got {(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}");
                }
            }
        }

        Assert.True(mismatches.Count == 0, string.Join(Environment.NewLine, mismatches));
    }

    /// <summary>Every endpoint under the admin API base path: its table key, a concrete path to call, and its method.</summary>
    private List<(string Key, string Path, string Method)> AdminEndpoints()
    {
        var endpoints = factory.Services.GetRequiredService<EndpointDataSource>().Endpoints.OfType<RouteEndpoint>();
        var result = new List<(string, string, string)>();
        foreach (var endpoint in endpoints)
        {
            var raw = "/" + (endpoint.RoutePattern.RawText ?? "").TrimStart('/');
            if (!raw.StartsWith(AdminApiSetup.BasePath + "/", StringComparison.Ordinal))
            {
                continue;
            }

            var route = raw[AdminApiSetup.BasePath.Length..].TrimEnd('/');
            foreach (var method in endpoint.Metadata.GetMetadata<IHttpMethodMetadata>()?.HttpMethods ?? ["GET"])
            {
                result.Add(($"{method} {route}", ConcretePath(endpoint.RoutePattern), method));
            }
        }

        return result;
    }

    /// <summary>The pattern with every parameter filled by a value that names nothing, so an allowed call changes nothing.</summary>
    private static string ConcretePath(RoutePattern pattern)
    {
        var path = new StringBuilder();
        foreach (var segment in pattern.PathSegments)
        {
            path.Append('/');
            foreach (var part in segment.Parts)
            {
                path.Append(part switch
                {
                    RoutePatternLiteralPart literal => literal.Content,
                    RoutePatternParameterPart parameter when parameter.ParameterPolicies.Any(p => p.Content == "guid") => Guid.NewGuid().ToString(),
                    RoutePatternParameterPart parameter when parameter.ParameterPolicies.Any(p => p.Content is "long" or "int") => "1",
                    RoutePatternParameterPart => "no-such-" + Guid.NewGuid().ToString("N")[..8],
                    _ => "",
                });
            }
        }

        return path.ToString();
    }

    /// <summary>
    /// A request that an allowed caller gets refused for its content (a broken JSON body, an unknown id, a bad
    /// option, a dry run), so the probe never changes anything whatever the role.
    /// </summary>
    private static HttpRequestMessage Probe(string method, string path)
    {
        var request = new HttpRequestMessage(new HttpMethod(method), path + "?use=probe&dryRun=true");
        if (method is "POST" or "PUT" or "PATCH" or "DELETE")
        {
            request.Content = new StringContent("{", Encoding.UTF8, "application/json");
        }

        return request;
    }

    /// <summary>An admin API token per caller: users who hold one role each (or none), through a client allowed all admin roles.</summary>
    private async Task<Dictionary<string, string>> TokensAsync()
    {
        var rp = new OidcDriver(factory);
        var clientId = await rp.RegisterClientAsync(configure: d =>
        {
            d.Permissions.Add(Permissions.Prefixes.Scope + IdentityHubScopes.AdminApi);
            d.Properties[ClientProperties.AdminRoles] = JsonSerializer.SerializeToElement(AdminRoles.All);
        });
        var tokens = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var role in Callers.OfType<string>())
        {
            var user = await rp.CreateUserAsync();
            if (role.Length > 0)
            {
                await rp.AddRoleAsync(user, role);
            }

            var (code, verifier, _, _) = await rp.ObtainCodeAsync(clientId, "openid " + IdentityHubScopes.AdminApi, user: user);
            using var body = await OidcDriver.JsonAsync(await rp.RedeemCodeAsync(clientId, code, verifier));
            tokens[role] = body.RootElement.GetProperty("access_token").GetString()!;
        }

        return tokens;
    }
}

public sealed class SqliteRouteTableTests(SqliteFactory factory) : RouteTableTests<SqliteFactory>(factory);

[Requires(Prerequisite.PostgreSql)]
public sealed class PostgreSqlRouteTableTests(PostgreSqlFactory factory) : RouteTableTests<PostgreSqlFactory>(factory);
