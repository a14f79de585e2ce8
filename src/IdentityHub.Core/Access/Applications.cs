using IdentityHub.Core.Audit;
using IdentityHub.Core.Themes;
using IdentityHub.Data;
using IdentityHub.Data.Access;
using Microsoft.EntityFrameworkCore;

namespace IdentityHub.Core.Access;

/// <param name="Mfa">"required": signing in to it takes a second factor; "default": the user's policy decides. Default on create, unchanged when omitted on update.</param>
/// <param name="RevokeTokensOnAccessLoss">Losing a role there revokes the user's refresh tokens of its client; true when omitted on create, unchanged when omitted on update.</param>
public sealed record ApplicationInput(
    string? Name, string? Description, string? LaunchUrl = null, string? IconUrl = null, string? Theme = null, bool? RevokeTokensOnAccessLoss = null,
    string? Mfa = null);

/// <summary>An application as the audit trail keeps it before and after a change.</summary>
public sealed record ApplicationSnapshot(
    Guid Id, string Name, string? Description, string? OidcClientId, string? LaunchUrl, string? IconUrl, string? Theme,
    bool RevokeTokensOnAccessLoss, DateTimeOffset CreatedAt, DateTimeOffset UpdatedAt, bool RequireMfa = false)
{
    public static ApplicationSnapshot Of(Application a) => new(
        a.Id, a.Name, a.Description, a.OidcClientId, a.LaunchUrl, a.IconUrl, a.Theme, a.RevokeTokensOnAccessLoss, a.CreatedAt, a.UpdatedAt, a.RequireMfa);
}

/// <summary>
/// The connected systems. An application owns its OIDC client, its SAML service provider and its permissions;
/// roles, separation-of-duty rules and connectors attached to it are decisions of their own and block its delete.
/// </summary>
public sealed partial class Applications(IdentityHubDbContext db, OidcClients clients, AuditTrail audit, TimeProvider clock, WebAddressPolicy addresses, ThemeFolders themes)
{
    // An icon is shown in an <img>: a picture format, base64-encoded, nothing a browser would run or navigate to.
    public const string MfaDefault = "default";
    public const string MfaRequired = "required";

    private static readonly string[] IconMediaTypes = ["image/png", "image/jpeg", "image/gif", "image/webp", "image/svg+xml"];

    public async Task<Application> CreateAsync(ApplicationInput input, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(input);
        await ValidateAsync(input, id: null, currentTheme: null, cancellationToken);
        var now = Revision.Now(clock);
        var application = new Application { Id = Guid.CreateVersion7(), Name = "", CreatedAt = now, UpdatedAt = now };
        Apply(application, input);
        application.RevokeTokensOnAccessLoss = input.RevokeTokensOnAccessLoss ?? true;
        application.RequireMfa = input.Mfa == MfaRequired;
        await SaveUnlessNameTakenAsync(application, async () =>
        {
            db.Applications.Add(application);
            await audit.RecordAsync("application.created", "application", application.Id.ToString(), null, ApplicationSnapshot.Of(application), cancellationToken);
            await db.SaveChangesAsync(cancellationToken);
        }, cancellationToken);
        return application;
    }

    /// <summary>Replaces the application's fields (PUT), except the access-loss switch, which stays when the input leaves it out.</summary>
    public async Task<Application> UpdateAsync(Guid id, ApplicationInput input, long? expectedRevision, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(input);
        var application = await db.Applications.SingleOrDefaultAsync(a => a.Id == id, cancellationToken) ?? throw RuleViolation.NotFound("application", id);
        // RFC 9110 §13.1.1: a stale If-Match means someone else changed it since the caller read it.
        Revision.Check("application", application.UpdatedAt, expectedRevision);
        await ValidateAsync(input, id, application.Theme, cancellationToken);
        var before = ApplicationSnapshot.Of(application);
        Apply(application, input);
        application.RevokeTokensOnAccessLoss = input.RevokeTokensOnAccessLoss ?? application.RevokeTokensOnAccessLoss;
        application.RequireMfa = input.Mfa is null ? application.RequireMfa : input.Mfa == MfaRequired;
        application.UpdatedAt = Revision.After(application.UpdatedAt, clock);
        await SaveUnlessNameTakenAsync(application, async () =>
        {
            await audit.RecordAsync("application.updated", "application", id.ToString(), before, ApplicationSnapshot.Of(application), cancellationToken);
            await db.SaveChangesAsync(cancellationToken);
        }, cancellationToken);
        return application;
    }

    /// <summary>
    /// Deletes the application with what is only its own: its OIDC client (with the client's tokens), its SAML
    /// service provider and its permissions. Roles (with their assignments, kept as history), separation-of-duty
    /// rules on its permissions and provisioning connectors (with their delivery history) are decisions of their
    /// own: while any is attached the delete is refused naming them, and nothing is deleted.
    /// </summary>
    public async Task DeleteAsync(Guid id, long? expectedRevision, CancellationToken cancellationToken)
    {
        var application = await db.Applications.SingleOrDefaultAsync(a => a.Id == id, cancellationToken) ?? throw RuleViolation.NotFound("application", id);
        // RFC 9110 §13.1.1: a stale If-Match means the caller decided on a version that is gone.
        Revision.Check("application", application.UpdatedAt, expectedRevision);
        string? clientId = null;
        try
        {
            await db.InTransactionAsync(async () =>
            {
                // Roles, rules and connectors are created with an audit row: holding the audit head's lock, the check
                // below sees every one committed before, and none can be attached until this transaction ends (a cascade
                // would otherwise take a connector created in between, with its delivery history).
                await audit.SerializeAsync(cancellationToken);
                if (await AttachedAsync(application, cancellationToken) is { } attached)
                {
                    throw attached;
                }

                clientId = await clients.RemoveWithApplicationAsync(application, cancellationToken);
                db.Applications.Remove(application);
                await audit.RecordAsync("application.deleted", "application", id.ToString(), ApplicationSnapshot.Of(application), after: null, cancellationToken);
                await db.SaveChangesAsync(cancellationToken);
            }, cancellationToken);
        }
        catch (RuleViolation refused) when (refused.InnerException is DbUpdateException)
        {
            // Something not audited still refers to the application: the foreign key refused the delete.
            throw await AttachedAsync(application, cancellationToken) ?? refused;
        }

        clients.InvalidateCache(clientId);
    }

    /// <summary>Why <see cref="DeleteAsync"/> would refuse the application as it is now (roles, rules or connectors attached); null when it would not.</summary>
    public async Task<RuleViolation?> RefusalToDeleteAsync(Guid id, CancellationToken cancellationToken) =>
        await AttachedAsync(
            await db.Applications.AsNoTracking().SingleOrDefaultAsync(a => a.Id == id, cancellationToken) ?? throw RuleViolation.NotFound("application", id), cancellationToken);

    /// <summary>The refusal naming the roles, rules and connectors still attached to the application; null when none is.</summary>
    private async Task<RuleViolation?> AttachedAsync(Application application, CancellationToken cancellationToken)
    {
        var roles = await db.AccessRoles.AsNoTracking().Where(r => r.ApplicationId == application.Id)
            .Select(r => new { r.Name, Assignments = db.RoleAssignments.Count(a => a.RoleId == r.Id) })
            .OrderBy(r => r.Name).ToListAsync(cancellationToken);
        var permissions = db.Permissions.Where(p => p.ApplicationId == application.Id).Select(p => (Guid?)p.Id);
        var rules = await db.SeparationOfDutyRules.AsNoTracking()
            .Where(r => permissions.Contains(r.FirstPermissionId) || permissions.Contains(r.SecondPermissionId))
            .Select(r => r.Name).OrderBy(n => n).ToListAsync(cancellationToken);
        var connectors = await db.Connectors.AsNoTracking().Where(c => c.ApplicationId == application.Id)
            .Select(c => c.Name).OrderBy(n => n).ToListAsync(cancellationToken);
        if (roles.Count == 0 && rules.Count == 0 && connectors.Count == 0)
        {
            return null;
        }

        var parts = new List<string>();
        if (roles.Count > 0)
        {
            parts.Add($"role(s) {string.Join(", ", roles.Select(r => $"'{r.Name}' ({r.Assignments} assignment(s))"))}");
        }

        if (rules.Count > 0)
        {
            parts.Add($"separation-of-duty rule(s) {string.Join(", ", rules.Select(r => $"'{r}'"))} on its permissions");
        }

        if (connectors.Count > 0)
        {
            parts.Add($"provisioning connector(s) {string.Join(", ", connectors.Select(c => $"'{c}'"))}");
        }

        // The roles go first (a role with assignments is kept as history: end its use instead), then the rules and connectors.
        return new RuleViolation(ViolationKind.Conflict, $"Application '{application.Name}' still has {string.Join("; ", parts)}.")
        {
            Details = new Dictionary<string, object?>(StringComparer.Ordinal)
            {
                ["roles"] = roles.Select(r => r.Name).ToList(),
                ["sodRules"] = rules,
                ["connectors"] = connectors,
            },
        };
    }

    private static void Apply(Application application, ApplicationInput input)
    {
        application.Name = input.Name!.Trim();
        application.Description = input.Description;
        application.LaunchUrl = Blank(input.LaunchUrl);
        application.IconUrl = Blank(input.IconUrl);
        application.Theme = Blank(input.Theme);
    }

    /// <param name="currentTheme">The theme it has now: kept even when its folder was removed since (the pages fall back to default).</param>
    private async Task ValidateAsync(ApplicationInput input, Guid? id, string? currentTheme, CancellationToken cancellationToken)
    {
        var errors = new FieldErrors();
        var name = input.Name?.Trim();
        if (string.IsNullOrEmpty(name))
        {
            errors.Add("name", "name is required.", "application.nameRequired");
        }
        else if (name.Length > Application.NameMaxLength)
        {
            errors.Add("name", $"name must be at most {Application.NameMaxLength} characters.", "application.nameLength", $"{Application.NameMaxLength}");
        }
        else if (await NameTakenAsync(name, id, cancellationToken))
        {
            var taken = NameTaken(name);
            errors.Add("name", taken.Message, taken.Code, [.. taken.Arguments]);
        }

        if (input.Description is { Length: > Application.DescriptionMaxLength })
        {
            errors.Add("description", $"description must be at most {Application.DescriptionMaxLength} characters.",
                "application.descriptionLength", $"{Application.DescriptionMaxLength}");
        }

        if (input.Mfa is not (null or MfaDefault or MfaRequired))
        {
            errors.Add("mfa", "mfa must be \"default\" (the user's policy decides) or \"required\" (always a second factor).", "application.mfa");
        }

        CheckLaunchUrl(Blank(input.LaunchUrl), addresses, errors);
        CheckIconUrl(Blank(input.IconUrl), errors);
        if (Blank(input.Theme) is { } theme)
        {
            if (!ThemeFolders.IsValidName(theme))
            {
                errors.Add("theme", "theme must be the name of a theme folder: 1 to 64 lower-case letters, digits or '-'.", "application.theme");
            }
            else if (theme != currentTheme && !themes.Exists(theme))
            {
                errors.Add("theme", $"theme \"{theme}\" is not a theme folder; the themes are: {string.Join(", ", themes.Names)}.",
                    "application.themeUnknown", theme, string.Join(", ", themes.Names));
            }
        }

        errors.ThrowIfAny();
    }

    /// <summary>
    /// The portal opens it in the employee's browser: an absolute https address (http only on this machine, or anywhere when
    /// the deployment itself runs without TLS, <see cref="WebAddressPolicy"/>).
    /// </summary>
    private static void CheckLaunchUrl(string? value, WebAddressPolicy addresses, FieldErrors errors)
    {
        if (value is null)
        {
            return;
        }

        if (value.Length > Application.LaunchUrlMaxLength)
        {
            errors.Add("launchUrl", $"launchUrl must be at most {Application.LaunchUrlMaxLength} characters.", "application.launchUrlLength", $"{Application.LaunchUrlMaxLength}");
        }
        else if (!Uri.TryCreate(value, UriKind.Absolute, out var uri) || !uri.IsWellFormedOriginalString() || !addresses.Accepts(uri))
        {
            errors.Add("launchUrl", "launchUrl must be an absolute https URL (http only for localhost or 127.0.0.1), for example https://expense.example.com/.",
                "application.launchUrl");
        }
    }

    /// <summary>An https address, or the picture itself as a base64 data: URI (RFC 2397) of an image type.</summary>
    private static void CheckIconUrl(string? value, FieldErrors errors)
    {
        if (value is null)
        {
            return;
        }

        const string Invalid = "iconUrl must be an https URL or a base64 data: URI of a PNG, JPEG, GIF, WebP or SVG image.";
        if (value.Length > Application.IconUrlMaxLength)
        {
            errors.Add("iconUrl", $"iconUrl must be at most {Application.IconUrlMaxLength} characters.", "application.iconUrlLength", $"{Application.IconUrlMaxLength}");
        }
        else if (value.StartsWith("data:", StringComparison.OrdinalIgnoreCase))
        {
            if (!IsImageDataUri(value))
            {
                errors.Add("iconUrl", Invalid, "application.iconUrl");
            }
        }
        else if (!Uri.TryCreate(value, UriKind.Absolute, out var uri) || !uri.IsWellFormedOriginalString() || uri.Scheme != Uri.UriSchemeHttps)
        {
            errors.Add("iconUrl", Invalid, "application.iconUrl");
        }
    }

    /// <summary>RFC 2397: <c>data:&lt;image type&gt;;base64,&lt;data&gt;</c> with data that really is base64.</summary>
    private static bool IsImageDataUri(string value)
    {
        var comma = value.IndexOf(',', StringComparison.Ordinal);
        if (comma < 0)
        {
            return false;
        }

        var header = value[5..comma];
        const string Base64 = ";base64";
        if (!header.EndsWith(Base64, StringComparison.OrdinalIgnoreCase)
            || !IconMediaTypes.Contains(header[..^Base64.Length], StringComparer.OrdinalIgnoreCase))
        {
            return false;
        }

        var data = value[(comma + 1)..];
        return data.Length > 0 && Convert.TryFromBase64String(data, new byte[data.Length], out _);
    }

    private Task<bool> NameTakenAsync(string name, Guid? id, CancellationToken cancellationToken) =>
        db.Applications.AsNoTracking().AnyAsync(a => a.Name == name && a.Id != id, cancellationToken);

    private static (string Message, string Code, IReadOnlyList<string> Arguments) NameTaken(string name) =>
        ($"An application named \"{name}\" already exists.", "application.nameTaken", [name]);

    /// <summary>
    /// Saves the change with its audit event in one transaction, and refuses it like the validation does when another
    /// request took the name between the check and the save (the unique index refuses the second one).
    /// </summary>
    private async Task SaveUnlessNameTakenAsync(Application application, Func<Task> save, CancellationToken cancellationToken)
    {
        try
        {
            await db.InTransactionAsync(save, cancellationToken);
        }
        catch (RuleViolation conflict) when (conflict.InnerException is DbUpdateException)
        {
            if (!await NameTakenAsync(application.Name, application.Id, cancellationToken))
            {
                throw;
            }

            var taken = NameTaken(application.Name);
            throw RuleViolation.Field("name", taken.Message, ViolationKind.Invalid, taken.Code, [.. taken.Arguments]);
        }
    }

    private static string? Blank(string? value) => string.IsNullOrWhiteSpace(value) ? null : value.Trim();
}
