using IdentityHub.Core;
using IdentityHub.Core.Access;
using IdentityHub.Core.Audit;
using IdentityHub.Core.Queries;
using IdentityHub.Data;
using IdentityHub.Data.Access;
using IdentityHub.Server.AdminApi;
using IdentityHub.Server.Saml;
using Microsoft.AspNetCore.Mvc;
using Microsoft.EntityFrameworkCore;

namespace IdentityHub.Server.Admin.Applications;

/// <summary>One application: whether losing a role revokes its tokens, its permissions (with parameters such as an amount limit), the roles that bundle them, and its SAML SP.</summary>
public sealed partial class DetailModel(
    IdentityHubDbContext db, Permissions permissions, IdentityHub.Core.Access.Roles roles, AuditTrail audit, TimeProvider clock,
    SamlServiceProviderQueries samlQueries, SamlSettings samlSettings) : ConsolePageModel
{
    public Application? Application { get; private set; }

    /// <summary>Where SPs read this IdP's metadata.</summary>
    public Uri IdpMetadataUrl => SamlIdpEndpoints.Of(HttpContext, samlSettings).Metadata;

    public IReadOnlyList<Permission> PermissionList { get; private set; } = [];

    public IReadOnlyList<Role> RoleList { get; private set; } = [];

    [BindProperty]
    public PermissionForm NewPermission { get; set; } = new();

    [BindProperty]
    public RoleForm NewRole { get; set; } = new();

    public async Task<IActionResult> OnGetAsync(Guid id, CancellationToken cancellationToken) =>
        await LoadAsync(id, cancellationToken) ? Page() : NotFound();

    public Task<IActionResult> OnPostPermissionAsync(Guid id, CancellationToken cancellationToken) =>
        WriteAsync(id, "NewPermission", () => permissions.CreateAsync(
            id, new PermissionInput(NewPermission.Name, NewPermission.Description, ConsoleForms.ParseParameters(NewPermission.Parameters)), cancellationToken), cancellationToken);

    public Task<IActionResult> OnPostRoleAsync(Guid id, CancellationToken cancellationToken) =>
        WriteAsync(id, "NewRole", () => roles.CreateAsync(
            new RoleInput(id, NewRole.Name, NewRole.Description, NewRole.Delegable, [.. NewRole.Permissions.Select(p => new RolePermissionInput(p))]), cancellationToken), cancellationToken);

    /// <summary>Saved like the admin API's update of the application (same audit event), with the page's revision as If-Match.</summary>
    public Task<IActionResult> OnPostAccessLossAsync(Guid id, bool revokeTokensOnAccessLoss, long? revision, CancellationToken cancellationToken) =>
        WriteAsync(id, "", async () =>
        {
            var application = await db.Applications.SingleOrDefaultAsync(a => a.Id == id, cancellationToken) ?? throw RuleViolation.NotFound("application", id);
            Revision.Check("application", application.UpdatedAt, revision);
            var before = ApplicationsApi.ToDto(application);
            application.RevokeTokensOnAccessLoss = revokeTokensOnAccessLoss;
            application.UpdatedAt = Revision.Now(clock);
            await ApplicationsApi.SaveAuditedAsync(db, audit, application, "application.updated", before, cancellationToken);
        }, cancellationToken);

    public Task<IActionResult> OnPostDeletePermissionAsync(Guid id, Guid permissionId, long? revision, CancellationToken cancellationToken) =>
        WriteAsync(id, "", () => permissions.DeleteAsync(permissionId, revision, cancellationToken), cancellationToken);

    private async Task<IActionResult> WriteAsync(Guid id, string prefix, Func<Task> write, CancellationToken cancellationToken)
    {
        try
        {
            await write();
            return Done(null, $"/admin/applications/{id}");
        }
        catch (RuleViolation violation)
        {
            Refused(violation, prefix);
            return await LoadAsync(id, cancellationToken) ? Page() : NotFound();
        }
    }

    private async Task<bool> LoadAsync(Guid id, CancellationToken cancellationToken)
    {
        Application = await db.Applications.AsNoTracking().SingleOrDefaultAsync(a => a.Id == id, cancellationToken);
        PermissionList = await db.Permissions.AsNoTracking().Where(p => p.ApplicationId == id).OrderBy(p => p.Name).ToListAsync(cancellationToken);
        RoleList = await db.AccessRoles.AsNoTracking().Include(r => r.Permissions).ThenInclude(p => p.Permission)
            .Where(r => r.ApplicationId == id).OrderBy(r => r.Name).ToListAsync(cancellationToken);
        Saml = await samlQueries.OfApplicationAsync(id, cancellationToken);
        return Application is not null;
    }
}

public sealed class PermissionForm
{
    public string? Name { get; set; }

    public string? Description { get; set; }

    /// <summary>"key=value" lines, for example <c>amountLimit=5000</c>.</summary>
    public string? Parameters { get; set; }
}

public sealed class RoleForm
{
    public string? Name { get; set; }

    public string? Description { get; set; }

    public bool Delegable { get; set; }

    public List<Guid> Permissions { get; set; } = [];
}
