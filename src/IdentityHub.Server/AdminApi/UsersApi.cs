using IdentityHub.Core.Access;
using IdentityHub.Core.Directory;
using IdentityHub.Core.Queries;
using IdentityHub.Data.Directory;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Identity;

namespace IdentityHub.Server.AdminApi;

public sealed record UserRequest(
    string? UserName, string? DisplayName, string? Email, string? PhoneNumber, string? EmployeeNumber,
    Guid? DepartmentId, string? ManagerId, string? InitialPassword = null, bool? Invite = null);

/// <summary>A password an administrator sets; with <see cref="MustChange"/> the person chooses their own at the next sign-in.</summary>
public sealed record SetPasswordRequest(string? Password, bool? MustChange);

/// <summary>A person; <see cref="DepartmentName"/> and <see cref="ManagerName"/> (the manager's display name) name the ids beside them.</summary>
public sealed record UserDto(
    string Id, string? UserName, string DisplayName, string? Email, string? PhoneNumber, string? EmployeeNumber, string Status,
    Guid? DepartmentId, string? ManagerId, DateTimeOffset CreatedAt, DateTimeOffset UpdatedAt, string? DepartmentName, string? ManagerName,
    DateTimeOffset? LockedUntil = null, bool MustChangePassword = false);

/// <summary>Why a status change happened, recorded in the audit trail.</summary>
public sealed record StatusChangeRequest(string? Reason);

public sealed record AdminRolesRequest(IReadOnlyList<string>? Roles, IReadOnlyList<Guid>? AdministeredDepartments);

public sealed record AdminRolesDto(string UserId, IReadOnlyList<string> Roles, IReadOnlyList<Guid> AdministeredDepartments);

/// <summary>A permission the person holds, and the assignment that grants it: its role, scope and dates (<see cref="Reason"/> says it in words).</summary>
public sealed record EntitlementDto(
    Guid ApplicationId, string ApplicationName, string Permission, IReadOnlyDictionary<string, string> Parameters,
    Guid RoleId, string RoleName, Guid AssignmentId, Guid? DepartmentId, string? DepartmentName, DateTimeOffset? ValidUntil, string Reason,
    string? RoleDisplayName, DateTimeOffset ValidFrom);

/// <summary>One of a person's passkeys: <see cref="Id"/> is the WebAuthn credential id (base64url).</summary>
public sealed record PasskeyDto(string Id, string Name, DateTimeOffset CreatedAt, DateTimeOffset? LastUsedAt);

/// <summary>/users: the people who sign in, their status, their rights and why they hold them.</summary>
public static class UsersApi
{
    private static readonly SortFields<UserAccount> Sort = new SortFields<UserAccount>("displayName")
        .Add("displayName", u => u.DisplayName)
        .Add("userName", u => u.UserName)
        .Add("employeeNumber", u => u.EmployeeNumber)
        .Add("email", u => u.Email)
        .Add("status", u => u.Status)
        .Add("createdAt", u => u.CreatedAt)
        .Add("updatedAt", u => u.UpdatedAt);

    public static void MapUsersApi(this IEndpointRouteBuilder api)
    {
        var users = api.MapGroup("/users");
        users.MapGet("/", ListAsync).WithSummary("List users");
        users.MapGet("/{id}", GetAsync).WithName("GetUser").WithSummary("Get a user");
        users.MapGet("/{id}/entitlements", EntitlementsAsync).WithSummary("Get a user's effective permissions, with the reason for each");
        users.MapGet("/{id}/assignments", AssignmentsAsync).WithSummary("List a user's role assignments");
        users.MapPost("/", CreateAsync).RequireAuthorization(AdminApiPolicies.Directory).WithSummary("Create a user");
        users.MapPut("/{id}", UpdateAsync).RequireAuthorization(AdminApiPolicies.Directory).WithSummary("Update a user");
        users.MapPost("/{id}/suspend", SuspendAsync).RequireAuthorization(AdminApiPolicies.Directory).WithSummary("Suspend a user (sessions end, assignments stay)");
        users.MapPost("/{id}/reactivate", ReactivateAsync).RequireAuthorization(AdminApiPolicies.Directory).WithSummary("Reactivate a suspended user");
        users.MapPost("/{id}/leave", LeaveAsync).RequireAuthorization(AdminApiPolicies.Directory).WithSummary("Mark a user as left (sessions and assignments end)");
        users.MapPost("/{id}/end-sessions", EndSessionsAsync).RequireAuthorization(AdminApiPolicies.Security).WithSummary("End a user's sessions and revoke their tokens");
        users.MapPost("/{id}/mfa/reset", ResetFactorsAsync).RequireAuthorization(AdminApiPolicies.Security)
            .WithSummary("Remove a user's second factors (authenticator, recovery codes, passkeys) and end their sessions");
        users.MapGet("/{id}/passkeys", PasskeysAsync).WithSummary("List a user's passkeys");
        users.MapDelete("/{id}/passkeys", RemovePasskeysAsync).RequireAuthorization(AdminApiPolicies.Security).WithSummary("Remove every passkey of a user (audited)");
        users.MapPost("/{id}/invitation", InviteAsync).RequireAuthorization(AdminApiPolicies.Directory)
            .WithSummary("Send (again) the invitation mail whose link lets the user set their password");
        users.MapPost("/{id}/password", SetPasswordAsync).RequireAuthorization(AdminApiPolicies.Directory)
            .WithSummary("Set a user's password, optionally to be changed at the next sign-in (their sessions end)");
        users.MapPost("/{id}/unlock", UnlockAsync).RequireAuthorization(AdminApiPolicies.Directory).WithSummary("End a user's lockout now");
        users.MapGet("/{id}/admin-roles", AdminRolesAsync).WithSummary("Get a user's admin roles");
        users.MapPut("/{id}/admin-roles", SetAdminRolesAsync).RequireAuthorization(AdminApiPolicies.SuperAdmin).WithSummary("Set a user's admin roles and administered departments");
    }

    private static UserDto ToDto(UserAccount u, string? managerName) => new(
        u.Id, u.UserName, u.DisplayName, u.Email, u.PhoneNumber, u.EmployeeNumber, u.Status.ToString().ToLowerInvariant(),
        u.DepartmentId, u.ManagerId, u.CreatedAt, u.UpdatedAt, u.Department?.Name, managerName,
        u.LockoutEnd is { } end && end > DateTimeOffset.UtcNow ? end : null, u.MustChangePassword);

    /// <summary>Lists users; <c>q</c> searches names, user name, email and employee number; <c>department</c> includes its subtree.</summary>
    private static async Task<Results<Ok<Paged<UserDto>>, ValidationProblem>> ListAsync(
        [AsParameters] ListQuery list, UserQueries queries, CancellationToken cancellationToken,
        Guid? department = null, string? status = null)
    {
        var errors = new Dictionary<string, string[]>(StringComparer.Ordinal);
        UserStatus? wanted = null;
        if (status is not null)
        {
            if (Enum.TryParse<UserStatus>(status, ignoreCase: true, out var parsed) && Enum.IsDefined(parsed))
            {
                wanted = parsed;
            }
            else
            {
                errors["status"] = [$"Unknown status \"{status}\"; use active, suspended or left."];
            }
        }

        var query = await queries.FindAsync(new UserFilter(list.Search, wanted, department), cancellationToken);
        if (query is null)
        {
            errors["department"] = [$"No department has the id {department}."];
        }

        return await Listing.PageAsync(query ?? Enumerable.Empty<UserAccount>().AsQueryable(), list, Sort, async (users, ct) =>
        {
            var managers = await queries.NamesAsync(users.Select(u => u.ManagerId).OfType<string>(), ct);
            return (IReadOnlyList<UserDto>)[.. users.Select(u => ToDto(u, u.ManagerId is { } m ? managers.GetValueOrDefault(m)?.DisplayName : null))];
        }, cancellationToken, errors);
    }

    private static async Task<Results<Ok<UserDto>, NotFound>> GetAsync(
        string id, UserQueries queries, HttpContext http, CancellationToken cancellationToken)
    {
        var user = await queries.GetAsync(id, cancellationToken);
        if (user is null)
        {
            return TypedResults.NotFound();
        }

        ETags.Set(http, user.Account.UpdatedAt);
        return TypedResults.Ok(ToDto(user.Account, user.ManagerName));
    }

    private static async Task<CreatedAtRoute<UserDto>> CreateAsync(
        UserRequest request, UserDirectory directory, UserQueries queries, HttpContext http, CancellationToken cancellationToken)
    {
        var user = await directory.CreateAsync(InputOf(request), request.InitialPassword, request.Invite ?? false, cancellationToken);
        var view = await queries.GetAsync(user.Id, cancellationToken);
        ETags.Set(http, user.UpdatedAt);
        return TypedResults.CreatedAtRoute(ToDto(view?.Account ?? user, view?.ManagerName), "GetUser", new { id = user.Id });
    }

    private static async Task<Results<Ok<UserDto>, NotFound>> UpdateAsync(
        string id, UserRequest request, IfMatch ifMatch, UserDirectory directory, UserQueries queries, HttpContext http, CancellationToken cancellationToken)
    {
        await directory.UpdateAsync(id, InputOf(request), ifMatch.Revision, cancellationToken);
        return await GetAsync(id, queries, http, cancellationToken);
    }

    private static async Task<Results<Ok<UserDto>, NotFound>> SuspendAsync(
        string id, StatusChangeRequest? request, IfMatch ifMatch, UserDirectory directory, UserQueries queries, HttpContext http, CancellationToken cancellationToken)
    {
        await directory.SuspendAsync(id, request?.Reason, ifMatch.Revision, cancellationToken);
        return await GetAsync(id, queries, http, cancellationToken);
    }

    private static async Task<Results<Ok<UserDto>, NotFound>> ReactivateAsync(
        string id, IfMatch ifMatch, UserDirectory directory, UserQueries queries, HttpContext http, CancellationToken cancellationToken)
    {
        await directory.ReactivateAsync(id, ifMatch.Revision, cancellationToken);
        return await GetAsync(id, queries, http, cancellationToken);
    }

    /// <summary>Marks the user as having left: disabled, sessions and tokens ended, every assignment ended.</summary>
    private static async Task<Results<Ok<UserDto>, NotFound>> LeaveAsync(
        string id, StatusChangeRequest? request, IfMatch ifMatch, UserDirectory directory, UserQueries queries, HttpContext http, CancellationToken cancellationToken)
    {
        await directory.MarkLeftAsync(id, request?.Reason, ifMatch.Revision, cancellationToken);
        return await GetAsync(id, queries, http, cancellationToken);
    }

    private static async Task<NoContent> EndSessionsAsync(string id, UserDirectory directory, CancellationToken cancellationToken)
    {
        await directory.EndSessionsAsync(id, cancellationToken);
        return TypedResults.NoContent();
    }

    private static async Task<Accepted> InviteAsync(string id, AccountRecovery recovery, CancellationToken cancellationToken)
    {
        await recovery.InviteAsync(id, cancellationToken);
        return TypedResults.Accepted((string?)null);
    }

    private static async Task<NoContent> SetPasswordAsync(string id, SetPasswordRequest request, AccountRecovery recovery, CancellationToken cancellationToken)
    {
        await recovery.SetPasswordAsync(id, request.Password ?? "", request.MustChange ?? false, cancellationToken);
        return TypedResults.NoContent();
    }

    private static async Task<Results<Ok<UserDto>, NotFound>> UnlockAsync(
        string id, AccountRecovery recovery, UserQueries queries, HttpContext http, CancellationToken cancellationToken)
    {
        await recovery.UnlockAsync(id, cancellationToken);
        return await GetAsync(id, queries, http, cancellationToken);
    }

    private static async Task<NoContent> ResetFactorsAsync(string id, IdentityHub.Core.Factors.AccountFactors factors, CancellationToken cancellationToken)
    {
        await factors.ResetAsync(id, cancellationToken);
        return TypedResults.NoContent();
    }

    private static async Task<Ok<IReadOnlyList<PasskeyDto>>> PasskeysAsync(string id, UserPasskeys passkeys, CancellationToken cancellationToken) =>
        TypedResults.Ok<IReadOnlyList<PasskeyDto>>([.. (await passkeys.ListAsync(id, cancellationToken)).Select(p => new PasskeyDto(p.Id, p.Name, p.CreatedAt, p.LastUsedAt))]);

    private static async Task<NoContent> RemovePasskeysAsync(string id, UserPasskeys passkeys, CancellationToken cancellationToken)
    {
        await passkeys.RemoveAllAsync(id, cancellationToken);
        return TypedResults.NoContent();
    }

    /// <summary>The user's effective permissions, each with the assignment that grants it and why ("granted by assignment X of role Y...").</summary>
    private static async Task<Results<Ok<IReadOnlyList<EntitlementDto>>, NotFound>> EntitlementsAsync(
        string id, EffectiveEntitlements entitlements, UserQueries queries, CancellationToken cancellationToken, Guid? applicationId = null)
    {
        if (!await queries.ExistsAsync(id, cancellationToken))
        {
            return TypedResults.NotFound();
        }

        var grants = await entitlements.ExplainAsync(id, applicationId, cancellationToken);
        return TypedResults.Ok<IReadOnlyList<EntitlementDto>>([.. grants.Select(g => new EntitlementDto(
            g.ApplicationId, g.ApplicationName, g.Permission, g.Parameters, g.RoleId, g.RoleName, g.AssignmentId,
            g.DepartmentId, g.DepartmentName, g.ValidUntil, g.Reason, g.RoleDisplayName, g.ValidFrom))]);
    }

    private static async Task<Results<Ok<IReadOnlyList<AssignmentDto>>, NotFound>> AssignmentsAsync(
        string id, UserQueries users, AssignmentQueries assignments, TimeProvider clock, CancellationToken cancellationToken)
    {
        if (!await users.ExistsAsync(id, cancellationToken))
        {
            return TypedResults.NotFound();
        }

        var held = await assignments.OfUserAsync(id, cancellationToken);
        return TypedResults.Ok(await AssignmentsApi.ToDtosAsync(held, users, clock.GetUtcNow(), cancellationToken));
    }

    private static async Task<Results<Ok<AdminRolesDto>, NotFound>> AdminRolesAsync(
        string id, UserManager<UserAccount> userManager, UserQueries queries, CancellationToken cancellationToken)
    {
        var user = await userManager.FindByIdAsync(id);
        if (user is null)
        {
            return TypedResults.NotFound();
        }

        var departments = await queries.AdministeredDepartmentsAsync(id, cancellationToken);
        return TypedResults.Ok(new AdminRolesDto(id, [.. (await userManager.GetRolesAsync(user)).Order(StringComparer.Ordinal)], departments));
    }

    /// <summary>Replaces the user's admin roles and the department subtrees they administer (super administrators only).</summary>
    private static async Task<Results<Ok<AdminRolesDto>, NotFound>> SetAdminRolesAsync(
        string id, AdminRolesRequest request, UserDirectory directory, UserManager<UserAccount> userManager, UserQueries queries,
        CancellationToken cancellationToken)
    {
        await directory.SetAdminRolesAsync(id, request.Roles ?? [], request.AdministeredDepartments ?? [], cancellationToken);
        return await AdminRolesAsync(id, userManager, queries, cancellationToken);
    }

    private static UserInput InputOf(UserRequest r) =>
        new(r.UserName, r.DisplayName, r.Email, r.PhoneNumber, r.EmployeeNumber, r.DepartmentId, r.ManagerId);
}
