using IdentityHub.Core;
using IdentityHub.Core.Access;
using IdentityHub.Core.Queries;
using IdentityHub.Data.Access;
using IdentityHub.Server.Saml;
using Microsoft.AspNetCore.Mvc;
using Microsoft.EntityFrameworkCore;

namespace IdentityHub.Server.Admin.Applications;

/// <summary>
/// One application: its name, description, launch URL, icon, theme and whether losing a role revokes its tokens (the
/// same <see cref="IdentityHub.Core.Access.Applications"/> service as the admin API), its permissions (with parameters such as an
/// amount limit; each edited on its own page), the roles that bundle them, its connectors, its OIDC client and its SAML SP.
/// </summary>
public sealed partial class DetailModel(
    IdentityHub.Core.Access.Applications applications, Permissions permissions, IdentityHub.Core.Access.Roles roles,
    ApplicationQueries applicationQueries, PermissionQueries permissionQueries, RoleQueries roleQueries,
    SamlServiceProviderQueries samlQueries, OidcClientQueries oidcQueries, SamlSettings samlSettings,
    IdentityHub.Provisioning.Queries.ConnectorQueries connectorQueries) : ConsolePageModel
{
    public Application? Application { get; private set; }

    [BindProperty]
    public ApplicationForm Edit { get; set; } = new();

    /// <summary>Where SPs read this IdP's metadata.</summary>
    public Uri IdpMetadataUrl => SamlIdpEndpoints.Of(HttpContext, samlSettings).Metadata;

    public IReadOnlyList<Permission> PermissionList { get; private set; } = [];

    public IReadOnlyList<Role> RoleList { get; private set; } = [];

    /// <summary>The application's connectors (each one's page creates, edits and deletes them).</summary>
    public IReadOnlyList<IdentityHub.Provisioning.Queries.ConnectorView> ConnectorList { get; private set; } = [];

    [BindProperty]
    public PermissionForm NewPermission { get; set; } = new();

    [BindProperty]
    public RoleForm NewRole { get; set; } = new();

    public async Task<IActionResult> OnGetAsync(Guid id, CancellationToken cancellationToken)
    {
        if (!await LoadAsync(id, cancellationToken))
        {
            return NotFound();
        }

        await ConfirmAsync(id, cancellationToken);
        return Page();
    }

    /// <summary>Saves the "edit application" form through the same service as the admin API's PUT, with the page's revision as If-Match.</summary>
    public Task<IActionResult> OnPostEditAsync(Guid id, CancellationToken cancellationToken) =>
        WriteAsync(id, nameof(Edit), () => applications.UpdateAsync(id, Edit.ToInput(), Edit.Revision, cancellationToken), cancellationToken);

    public Task<IActionResult> OnPostPermissionAsync(Guid id, CancellationToken cancellationToken) =>
        WriteAsync(id, "NewPermission", () => permissions.CreateAsync(
            id, new PermissionInput(NewPermission.Name, NewPermission.Description, ConsoleForms.ParseParameters(NewPermission.Parameters)), cancellationToken), cancellationToken);

    public Task<IActionResult> OnPostRoleAsync(Guid id, CancellationToken cancellationToken) =>
        WriteAsync(id, "NewRole", () => roles.CreateAsync(
            new RoleInput(id, NewRole.Name, NewRole.Description, NewRole.Delegable, [.. NewRole.Permissions.Select(p => new RolePermissionInput(p))], NewRole.DisplayName),
            cancellationToken), cancellationToken);

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
            return await LoadAsync(id, cancellationToken, keepPostedEdit: prefix == nameof(Edit)) ? Page() : NotFound();
        }
    }

    /// <summary>Reads the page's data; the edit form shows the stored application unless it is the refused form, which keeps what was posted.</summary>
    private async Task<bool> LoadAsync(Guid id, CancellationToken cancellationToken, bool keepPostedEdit = false)
    {
        Application = await applicationQueries.GetAsync(id, cancellationToken);
        PermissionList = await permissionQueries.ListAsync(id, cancellationToken);
        RoleList = await roleQueries.ListAsync(new RoleFilter(ApplicationId: id), cancellationToken);
        Saml = await samlQueries.OfApplicationAsync(id, cancellationToken);
        Oidc = await oidcQueries.GetAsync(id, cancellationToken);
        ConnectorList = await connectorQueries.OfApplicationAsync(id, cancellationToken) ?? [];
        if (Application is not null && !keepPostedEdit)
        {
            Edit = ApplicationForm.Of(Application);
        }

        return Application is not null;
    }
}

/// <summary>The "edit application" form: what the admin API's PUT takes, and the revision the page was read at (If-Match).</summary>
public sealed class ApplicationForm
{
    public string? Name { get; set; }

    public string? Description { get; set; }

    public string? LaunchUrl { get; set; }

    public string? IconUrl { get; set; }

    public string? Theme { get; set; }

    public bool RevokeTokensOnAccessLoss { get; set; }

    /// <summary>"default" or "required" (Applications.MfaDefault / MfaRequired).</summary>
    public string? Mfa { get; set; }

    public long? Revision { get; set; }

    public static ApplicationForm Of(Application application)
    {
        ArgumentNullException.ThrowIfNull(application);
        return new ApplicationForm
        {
            Name = application.Name,
            Description = application.Description,
            LaunchUrl = application.LaunchUrl,
            IconUrl = application.IconUrl,
            Theme = application.Theme,
            RevokeTokensOnAccessLoss = application.RevokeTokensOnAccessLoss,
            Mfa = application.RequireMfa ? IdentityHub.Core.Access.Applications.MfaRequired : IdentityHub.Core.Access.Applications.MfaDefault,
            Revision = IdentityHub.Core.Revision.Of(application.UpdatedAt),
        };
    }

    // An empty description field means no description, as the API's null does.
    public ApplicationInput ToInput() =>
        new(Name, string.IsNullOrWhiteSpace(Description) ? null : Description, LaunchUrl, IconUrl, Theme, RevokeTokensOnAccessLoss, Mfa);
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

    public string? DisplayName { get; set; }

    public string? Description { get; set; }

    public bool Delegable { get; set; }

    public List<Guid> Permissions { get; set; } = [];
}
