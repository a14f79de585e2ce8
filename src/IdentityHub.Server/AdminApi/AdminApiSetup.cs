using IdentityHub.Core.Directory;
using Microsoft.AspNetCore.Antiforgery;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Identity;
using Microsoft.Extensions.DependencyInjection.Extensions;
using OpenIddict.Validation.AspNetCore;

namespace IdentityHub.Server.AdminApi;

/// <summary>Who may call the admin API: administrators by console cookie, automation by IdentityHub bearer token.</summary>
public static class AdminApiPolicies
{
    /// <summary>Any administrator (read access).</summary>
    public const string Read = "AdminApi.Read";

    /// <summary>Super and security administrators: applications, permissions, roles, separation of duty, keys, sessions.</summary>
    public const string Security = "AdminApi.Security";

    /// <summary>Super and HR administrators: users, departments, CSV import.</summary>
    public const string Directory = "AdminApi.Directory";

    /// <summary>Super and HR administrators (the Core further limits HR administrators to delegable roles in their subtrees).</summary>
    public const string Assignments = "AdminApi.Assignments";

    /// <summary>Super administrators, auditors and security administrators: the audit trail (read, verify, export); not HR administrators.</summary>
    public const string Audit = "AdminApi.Audit";

    /// <summary>Super administrators only: who administers what.</summary>
    public const string SuperAdmin = "AdminApi.SuperAdmin";

    internal static readonly string[] Schemes =
        [IdentityConstants.ApplicationScheme, OpenIddictValidationAspNetCoreDefaults.AuthenticationScheme];
}

/// <summary>
/// The admin REST API under <see cref="BasePath"/>: one file per resource (<c>XxxApi.cs</c> with
/// <c>MapXxxApi</c>), RFC 9457 problem details for every error.
/// </summary>
public static class AdminApiSetup
{
    public const string BasePath = "/api/admin/v1";

    public static void AddIdentityHubAdminApi(this WebApplicationBuilder builder)
    {
        builder.Services.AddSingleton<Microsoft.AspNetCore.Authorization.IAuthorizationMiddlewareResultHandler, CookieCallerForbidden>();
        builder.Services.AddAuthorizationBuilder()
            .AddPolicy(AdminApiPolicies.Read, policy => policy
                .AddAuthenticationSchemes(AdminApiPolicies.Schemes)
                .RequireAuthenticatedUser()
                .RequireRole(AdminRoles.All))
            .AddPolicy(AdminApiPolicies.Security, policy => policy
                .AddAuthenticationSchemes(AdminApiPolicies.Schemes)
                .RequireAuthenticatedUser()
                .RequireRole(AdminRoles.SuperAdmin, AdminRoles.SecurityAdmin))
            .AddPolicy(AdminApiPolicies.Directory, policy => policy
                .AddAuthenticationSchemes(AdminApiPolicies.Schemes)
                .RequireAuthenticatedUser()
                .RequireRole(AdminRoles.SuperAdmin, AdminRoles.HrAdmin))
            .AddPolicy(AdminApiPolicies.Assignments, policy => policy
                .AddAuthenticationSchemes(AdminApiPolicies.Schemes)
                .RequireAuthenticatedUser()
                .RequireRole(AdminRoles.SuperAdmin, AdminRoles.HrAdmin))
            .AddPolicy(AdminApiPolicies.Audit, policy => policy
                .AddAuthenticationSchemes(AdminApiPolicies.Schemes)
                .RequireAuthenticatedUser()
                .RequireRole(AdminRoles.SuperAdmin, AdminRoles.Auditor, AdminRoles.SecurityAdmin))
            .AddPolicy(AdminApiPolicies.SuperAdmin, policy => policy
                .AddAuthenticationSchemes(AdminApiPolicies.Schemes)
                .RequireAuthenticatedUser()
                .RequireRole(AdminRoles.SuperAdmin));
        builder.Services.AddIdentityHubApiDocs();
        builder.Services.TryAddScoped<CsvImport>();
    }

    public static void MapIdentityHubAdminApi(this IEndpointRouteBuilder endpoints)
    {
        endpoints.MapIdentityHubApiDocs();
        var api = endpoints.MapGroup(BasePath)
            .RequireAuthorization(AdminApiPolicies.Read)
            .AddEndpointFilter(RequireAntiforgeryForCookieWrites)
            .AddEndpointFilter(Problems.MapRuleViolations)
            .AddEndpointFilter(RequestBodies.RequireWellFormedBodies)
            .ProducesValidationProblem()
            .ProducesProblem(StatusCodes.Status401Unauthorized)
            .ProducesProblem(StatusCodes.Status403Forbidden)
            .ProducesProblem(StatusCodes.Status404NotFound)
            .ProducesProblem(StatusCodes.Status409Conflict)
            .ProducesProblem(StatusCodes.Status412PreconditionFailed)
            .DisableAntiforgery();

        // Resources register here, one line each (api.MapXxxApi()).
        api.MapKeysApi();
        api.MapApplicationsApi();
        api.MapApplicationOidcApi();
        api.MapReconciliationApi();
        api.MapPermissionsApi();
        api.MapRolesApi();
        api.MapUsersApi();
        api.MapDepartmentsApi();
        api.MapAssignmentsApi();
        api.MapSodRulesApi();
        api.MapAuditApi();
        api.MapImportApi();
        api.MapApplicationSamlApi();
        api.MapConnectorsApi();
        api.MapSourcesApi();
    }

    /// <summary>
    /// A cookie rides along on cross-site requests, a bearer token does not: any write that carries the
    /// console cookie must also carry the antiforgery token (header <c>RequestVerificationToken</c>), even
    /// when a bearer token comes with it.
    /// </summary>
    private static async ValueTask<object?> RequireAntiforgeryForCookieWrites(EndpointFilterInvocationContext context, EndpointFilterDelegate next)
    {
        var http = context.HttpContext;
        var safe = HttpMethods.IsGet(http.Request.Method) || HttpMethods.IsHead(http.Request.Method) || HttpMethods.IsOptions(http.Request.Method);
        if (!safe && (await http.AuthenticateAsync(IdentityConstants.ApplicationScheme)).Succeeded
            && !await http.RequestServices.GetRequiredService<IAntiforgery>().IsRequestValidAsync(http))
        {
            return TypedResults.Problem(
                statusCode: StatusCodes.Status400BadRequest,
                title: "Antiforgery token missing or invalid",
                detail: "Requests authenticated by the console cookie must send the RequestVerificationToken header; automation should use a bearer token.");
        }

        return await next(context);
    }
}
