using IdentityHub.Core;
using IdentityHub.Core.Access;
using IdentityHub.Core.Audit;
using IdentityHub.Data;
using IdentityHub.Data.Access;
using IdentityHub.Saml.Metadata;
using IdentityHub.Server.AdminApi;
using IdentityHub.Server.Saml;
using Microsoft.AspNetCore.Mvc;
using Microsoft.EntityFrameworkCore;

namespace IdentityHub.Server.Admin.Applications;

/// <summary>One application: whether losing a role revokes its tokens, its permissions (with parameters such as an amount limit), the roles that bundle them, and its SAML SP.</summary>
public sealed class DetailModel(
    IdentityHubDbContext db, Permissions permissions, IdentityHub.Core.Access.Roles roles, AuditTrail audit, TimeProvider clock,
    SamlServiceProviderRegistry samlRegistry, SamlSettings samlSettings) : ConsolePageModel
{
    public Application? Application { get; private set; }

    /// <summary>The application's SAML service provider, when one is registered.</summary>
    public SamlServiceProviderDto? Saml { get; private set; }

    /// <summary>Where SPs read this IdP's metadata.</summary>
    public Uri IdpMetadataUrl => SamlIdpEndpoints.Of(HttpContext, samlSettings).Metadata;

    [BindProperty]
    public SamlImportForm SamlImport { get; set; } = new();

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
            application.UpdatedAt = Revision.After(application.UpdatedAt, clock);
            await ApplicationsApi.SaveAuditedAsync(db, audit, application, "application.updated", before, cancellationToken);
        }, cancellationToken);

    public Task<IActionResult> OnPostDeletePermissionAsync(Guid id, Guid permissionId, long? revision, CancellationToken cancellationToken) =>
        WriteAsync(id, "", () => permissions.DeleteAsync(permissionId, revision, cancellationToken), cancellationToken);

    /// <summary>Registers or replaces the SAML SP from an uploaded metadata file or a metadata URL, by the admin API's own rules.</summary>
    public async Task<IActionResult> OnPostSamlMetadataAsync(Guid id, CancellationToken cancellationToken)
    {
        var xml = await ReadUploadAsync(SamlImport.MetadataFile, cancellationToken);
        var outcome = xml is { Error: { } tooLarge }
            ? SamlRegistrationOutcome.Invalid("metadataXml", tooLarge)
            : await samlRegistry.ImportAsync(
                id, new SamlMetadataImportRequest(xml?.Text, SamlImport.MetadataUrl, SamlImport.NameIdFormat, SamlImport.AllowIdpInitiated), cancellationToken);
        if (!outcome.ApplicationFound)
        {
            return NotFound();
        }

        if (outcome.Saved is { } saved)
        {
            return Done(SavedWhat(saved, outcome.Skipped), $"/admin/applications/{id}");
        }

        var messages = HttpContext.RequestServices.GetRequiredService<IdentityHub.Server.Hosting.ThemeMessages>();
        Refused(new RuleViolation(ViolationKind.Invalid, messages["admin.saml.refused"].Value, outcome.Errors), nameof(SamlImport));
        return await LoadAsync(id, cancellationToken) ? Page() : NotFound();
    }

    public async Task<IActionResult> OnPostDeleteSamlAsync(Guid id, CancellationToken cancellationToken)
    {
        if (!await db.Applications.AnyAsync(a => a.Id == id, cancellationToken))
        {
            return NotFound();
        }

        await samlRegistry.DeleteAsync(id, cancellationToken);
        return Done(null, $"/admin/applications/{id}");
    }

    private sealed record Upload(string? Text, string? Error);

    /// <summary>The uploaded file as text, refused unread when larger than the API accepts.</summary>
    private static async Task<Upload?> ReadUploadAsync(IFormFile? file, CancellationToken cancellationToken)
    {
        if (file is null || file.Length == 0)
        {
            return null;
        }

        if (file.Length > SpMetadata.MaxChars)
        {
            return new Upload(null, $"The metadata file is larger than {SpMetadata.MaxChars / 1024} KiB.");
        }

        using var reader = new StreamReader(file.OpenReadStream());
        return new Upload(await reader.ReadToEndAsync(cancellationToken), null);
    }

    private static string SavedWhat(SamlServiceProviderDto saved, IReadOnlyList<SkippedEndpoint> skipped) =>
        skipped.Count == 0
            ? saved.EntityId
            : $"{saved.EntityId} (left out, binding not supported: {string.Join(", ", skipped.Select(s => $"{s.Element} {s.Binding}"))})";

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
        Saml = await db.SamlServiceProviders.AsNoTracking().Where(s => s.ApplicationId == id).FirstOrDefaultAsync(cancellationToken) is { } sp
            ? SamlRegistration.Read(sp)
            : null;
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

/// <summary>The console's SAML registration form: a metadata file or a metadata URL, and the choices metadata does not carry.</summary>
public sealed class SamlImportForm
{
    public IFormFile? MetadataFile { get; set; }

    public string? MetadataUrl { get; set; }

    /// <summary>persistent, emailAddress or unspecified; empty takes the metadata's.</summary>
    public string? NameIdFormat { get; set; }

    public bool AllowIdpInitiated { get; set; }
}
