using IdentityHub.Core.Access;
using IdentityHub.Core.Changes;
using IdentityHub.Data;
using IdentityHub.Data.Access;
using IdentityHub.Data.Directory;
using Microsoft.EntityFrameworkCore;
using OpenIddict.Abstractions;
using OpenIddict.EntityFrameworkCore.Models;

namespace IdentityHub.Core.Queries;

/// <summary>A connected system as a confirmation names it: the connector and its application.</summary>
public sealed record ConnectedSystem(Guid Id, string Name, string ApplicationName)
{
    public string Label => $"{ApplicationName} · {Name}";
}

/// <summary>
/// What suspending a person, or marking them as left, touches: their browser sessions and valid tokens (ended), their open
/// assignments (ended when they leave, kept when suspended) and the connected systems that are told.
/// </summary>
public sealed record StatusChangeImpact(
    string UserId, string DisplayName, string? UserName, UserStatus Status, long Revision, int BrowserSessions, int ValidTokens, int OpenAssignments,
    IReadOnlyList<ConnectedSystem> Systems);

/// <summary>What ending one assignment takes away: the role's permissions (unless another assignment grants them) and whom it tells.</summary>
public sealed record AssignmentEndImpact(
    RoleAssignment Assignment, string UserName, IReadOnlyList<string> Permissions, IReadOnlyList<ConnectedSystem> Systems, bool RevokesTokens);

/// <summary>A department as its deletion would find it.</summary>
public sealed record DepartmentImpact(Guid Id, string Name, string Code, long Revision, int People, int Children, int Assignments);

/// <summary>An application as its deletion would find it: what goes with it (permissions, OIDC client, SAML SP).</summary>
public sealed record ApplicationImpact(Guid Id, string Name, long Revision, int Permissions, string? OidcClientId, bool HasSaml, int Roles, int Connectors);

/// <summary>A role as its deletion would find it: its assignments (ever, and counting now) and the separation-of-duty rules naming it.</summary>
public sealed record RoleImpact(Guid Id, long Revision, int Assignments, int ActiveAssignments, int SodRules);

/// <summary>A permission as its deletion would find it: the roles bundling it, the people holding it now through them, the rules naming it.</summary>
public sealed record PermissionImpact(Guid Id, string Name, long Revision, int Roles, int Holders, int SodRules);

/// <summary>An application's OIDC client as its rotation or deletion would find it: the tokens and grants outstanding.</summary>
public sealed record OidcClientImpact(string ClientId, long Revision, int ValidTokens, int Authorizations);

/// <summary>
/// The facts a confirmation step shows before a destructive or irreversible action, read as the action would find them
/// (whether the action is allowed stays the services' decision: see their <c>RefusalTo...Async</c>).
/// </summary>
public sealed class Consequences(IdentityHubDbContext db, IConnectorAudience audience, TimeProvider clock)
{
    /// <summary>Suspension or leaving, for <paramref name="userId"/>; null when there is no such person.</summary>
    public async Task<StatusChangeImpact?> OfStatusChangeAsync(string userId, CancellationToken cancellationToken)
    {
        var user = await db.Users.AsNoTracking().SingleOrDefaultAsync(u => u.Id == userId, cancellationToken);
        if (user is null)
        {
            return null;
        }

        var sessions = await db.UserSessions.CountAsync(s => s.UserId == userId && s.EndedAt == null, cancellationToken);
        var tokens = await db.Set<OpenIddictEntityFrameworkCoreToken>()
            .CountAsync(t => t.Subject == userId && t.Status == OpenIddictConstants.Statuses.Valid, cancellationToken);
        var open = await db.RoleAssignments.CountAsync(a => a.UserId == userId && a.EndedAt == null, cancellationToken);
        // The connectors that would hear of the change are the ones that hear of the person now (the one scope rule).
        var connectors = (await audience.InScopeAsync([userId], applicationIds: null, cancellationToken)).Select(c => c.ConnectorId).Distinct().ToList();
        return new StatusChangeImpact(user.Id, user.DisplayName, user.UserName, user.Status, Revision.Of(user.UpdatedAt), sessions, tokens, open,
            await SystemsAsync(db.Connectors.Where(c => connectors.Contains(c.Id)), cancellationToken));
    }

    /// <summary>Ending <paramref name="assignmentId"/>; null when there is no such assignment.</summary>
    public async Task<AssignmentEndImpact?> OfEndingAssignmentAsync(Guid assignmentId, CancellationToken cancellationToken)
    {
        var assignment = await db.RoleAssignments.AsNoTracking()
            .Include(a => a.Role).ThenInclude(r => r!.Application)
            .Include(a => a.Role).ThenInclude(r => r!.Permissions).ThenInclude(p => p.Permission)
            .Include(a => a.Department)
            .SingleOrDefaultAsync(a => a.Id == assignmentId, cancellationToken);
        if (assignment is null)
        {
            return null;
        }

        var user = await db.Users.AsNoTracking().Where(u => u.Id == assignment.UserId).Select(u => u.DisplayName).SingleOrDefaultAsync(cancellationToken);
        var applications = await RoleApplications.OfRoleAsync(db, assignment.RoleId, assignment.Role!.ApplicationId, cancellationToken);
        var systems = await SystemsAsync(db.Connectors.Where(c => applications.Contains(c.ApplicationId)), cancellationToken);
        var revokes = await db.Applications.AnyAsync(a => applications.Contains(a.Id) && a.RevokeTokensOnAccessLoss && a.OidcClientId != null, cancellationToken);
        var permissions = assignment.Role.Permissions.Select(p => p.Permission?.Name).OfType<string>().Order(StringComparer.Ordinal).ToList();
        // Only an assignment that counts now takes something away now; an upcoming one simply never starts.
        return new AssignmentEndImpact(assignment, user ?? assignment.UserId, assignment.IsActiveAt(clock.GetUtcNow()) ? permissions : [], systems, revokes);
    }

    public async Task<DepartmentImpact?> OfDeletingDepartmentAsync(Guid id, CancellationToken cancellationToken) =>
        await db.Departments.AsNoTracking().Where(d => d.Id == id)
            .Select(d => new
            {
                d.Id, d.Name, d.Code, d.UpdatedAt,
                People = db.Users.Count(u => u.DepartmentId == d.Id),
                Children = db.Departments.Count(c => c.ParentId == d.Id),
                Assignments = db.RoleAssignments.Count(a => a.DepartmentId == d.Id),
            })
            .SingleOrDefaultAsync(cancellationToken) is { } d
            ? new DepartmentImpact(d.Id, d.Name, d.Code, Revision.Of(d.UpdatedAt), d.People, d.Children, d.Assignments)
            : null;

    public async Task<ApplicationImpact?> OfDeletingApplicationAsync(Guid id, CancellationToken cancellationToken) =>
        await db.Applications.AsNoTracking().Where(a => a.Id == id)
            .Select(a => new
            {
                a.Id, a.Name, a.UpdatedAt, a.OidcClientId,
                Permissions = db.Permissions.Count(p => p.ApplicationId == a.Id),
                Saml = db.SamlServiceProviders.Any(s => s.ApplicationId == a.Id),
                Roles = db.AccessRoles.Count(r => r.ApplicationId == a.Id),
                Connectors = db.Connectors.Count(c => c.ApplicationId == a.Id),
            })
            .SingleOrDefaultAsync(cancellationToken) is { } a
            ? new ApplicationImpact(a.Id, a.Name, Revision.Of(a.UpdatedAt), a.Permissions, a.OidcClientId, a.Saml, a.Roles, a.Connectors)
            : null;

    public async Task<RoleImpact?> OfDeletingRoleAsync(Guid id, CancellationToken cancellationToken)
    {
        var role = await db.AccessRoles.AsNoTracking().Where(r => r.Id == id).Select(r => new { r.Id, r.UpdatedAt }).SingleOrDefaultAsync(cancellationToken);
        if (role is null)
        {
            return null;
        }

        var assignments = db.RoleAssignments.Where(a => a.RoleId == id);
        return new RoleImpact(
            role.Id, Revision.Of(role.UpdatedAt), await assignments.CountAsync(cancellationToken),
            await assignments.Where(RoleAssignment.ActiveAt(clock.GetUtcNow())).CountAsync(cancellationToken),
            await db.SeparationOfDutyRules.CountAsync(r => r.FirstRoleId == id || r.SecondRoleId == id, cancellationToken));
    }

    public async Task<PermissionImpact?> OfDeletingPermissionAsync(Guid id, CancellationToken cancellationToken)
    {
        var permission = await db.Permissions.AsNoTracking().Where(p => p.Id == id).Select(p => new { p.Id, p.Name, p.UpdatedAt }).SingleOrDefaultAsync(cancellationToken);
        if (permission is null)
        {
            return null;
        }

        var bundling = db.AccessRoles.Where(r => r.Permissions.Any(p => p.PermissionId == id));
        var roles = await bundling.CountAsync(cancellationToken);
        var holders = await db.RoleAssignments.Where(RoleAssignment.ActiveAt(clock.GetUtcNow()))
            .Where(a => bundling.Any(r => r.Id == a.RoleId)).Select(a => a.UserId).Distinct().CountAsync(cancellationToken);
        return new PermissionImpact(
            permission.Id, permission.Name, Revision.Of(permission.UpdatedAt), roles, holders,
            await db.SeparationOfDutyRules.CountAsync(r => r.FirstPermissionId == id || r.SecondPermissionId == id, cancellationToken));
    }

    /// <summary>The OIDC client of <paramref name="applicationId"/>; null when it has none.</summary>
    public async Task<OidcClientImpact?> OfOidcClientAsync(Guid applicationId, CancellationToken cancellationToken)
    {
        var application = await db.Applications.AsNoTracking().Where(a => a.Id == applicationId).Select(a => new { a.OidcClientId, a.UpdatedAt })
            .SingleOrDefaultAsync(cancellationToken);
        if (application?.OidcClientId is not { } clientId)
        {
            return null;
        }

        var tokens = await db.Set<OpenIddictEntityFrameworkCoreToken>()
            .CountAsync(t => t.Application!.ClientId == clientId && t.Status == OpenIddictConstants.Statuses.Valid, cancellationToken);
        var authorizations = await db.Set<OpenIddictEntityFrameworkCoreAuthorization>()
            .CountAsync(a => a.Application!.ClientId == clientId && a.Status == OpenIddictConstants.Statuses.Valid, cancellationToken);
        return new OidcClientImpact(clientId, Revision.Of(application.UpdatedAt), tokens, authorizations);
    }

    private static async Task<IReadOnlyList<ConnectedSystem>> SystemsAsync(IQueryable<Data.Provisioning.Connector> connectors, CancellationToken cancellationToken) =>
        await connectors.AsNoTracking().OrderBy(c => c.Application!.Name).ThenBy(c => c.Name)
            .Select(c => new ConnectedSystem(c.Id, c.Name, c.Application!.Name)).ToListAsync(cancellationToken);
}
