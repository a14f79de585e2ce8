using IdentityHub.Core.Directory;
using IdentityHub.Data;
using IdentityHub.Data.Directory;
using Microsoft.EntityFrameworkCore;

namespace IdentityHub.Core.Factors;

/// <summary>The <c>Account:Mfa</c> settings.</summary>
public sealed record MfaSettings(bool RequireForAdministrators = true);

/// <summary>
/// When a sign-in takes a second factor: the user holds an administrator role (<see cref="MfaSettings.RequireForAdministrators"/>),
/// the user's department or one above it requires it, or the target application does (its setting, or the request's
/// acr_values / RequestedAuthnContext, which the protocol endpoints pass in).
/// </summary>
public sealed class MfaPolicy(IdentityHubDbContext db, MfaSettings settings)
{
    /// <summary>RFC 8176 §2: the values a session's "amr" holds after a second factor.</summary>
    public const string MultiFactorMethod = "mfa";

    /// <summary>Whether the user must use a second factor whatever the application.</summary>
    public async Task<bool> RequiredForUserAsync(UserAccount user, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(user);
        if (settings.RequireForAdministrators && await IsAdministratorAsync(user.Id, cancellationToken))
        {
            return true;
        }

        return user.DepartmentId is { } departmentId && await DepartmentRequiresAsync(departmentId, cancellationToken);
    }

    /// <summary>Whether signing in to the application with this OIDC client_id takes a second factor.</summary>
    public Task<bool> RequiredForClientAsync(string clientId, CancellationToken cancellationToken) =>
        db.Applications.AsNoTracking().AnyAsync(a => a.OidcClientId == clientId && a.RequireMfa, cancellationToken);

    /// <summary>Whether signing in to the application owning this SAML service provider takes a second factor.</summary>
    public Task<bool> RequiredForApplicationAsync(Guid applicationId, CancellationToken cancellationToken) =>
        db.Applications.AsNoTracking().AnyAsync(a => a.Id == applicationId && a.RequireMfa, cancellationToken);

    /// <summary>True when the department or any department above it requires MFA (its path lists them all).</summary>
    public async Task<bool> DepartmentRequiresAsync(Guid departmentId, CancellationToken cancellationToken)
    {
        var path = await db.Departments.AsNoTracking().Where(d => d.Id == departmentId).Select(d => d.Path).FirstOrDefaultAsync(cancellationToken);
        if (path is null)
        {
            return false;
        }

        var line = path.Split('/', StringSplitOptions.RemoveEmptyEntries).Select(p => Guid.TryParse(p, out var id) ? id : Guid.Empty).Append(departmentId).ToList();
        return await db.Departments.AsNoTracking().AnyAsync(d => line.Contains(d.Id) && d.RequireMfa, cancellationToken);
    }

    /// <summary>A session satisfies MFA when its RFC 8176 methods include "mfa".</summary>
    public static bool IsSatisfiedBy(IEnumerable<string> amr) => amr.Contains(MultiFactorMethod, StringComparer.Ordinal);

    private Task<bool> IsAdministratorAsync(string userId, CancellationToken cancellationToken) => (
            from link in db.UserRoles
            join role in db.Roles on link.RoleId equals role.Id
            where link.UserId == userId && AdminRoles.All.Contains(role.Name!)
            select link)
        .AnyAsync(cancellationToken);
}
