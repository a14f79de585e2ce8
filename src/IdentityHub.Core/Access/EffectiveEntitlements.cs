using IdentityHub.Data;
using Microsoft.EntityFrameworkCore;

namespace IdentityHub.Core.Access;

/// <summary>What a user may do in one application: role names and permission names.</summary>
public sealed record Entitlements(IReadOnlyList<string> Roles, IReadOnlyList<string> Permissions)
{
    public static Entitlements None { get; } = new([], []);
}

/// <summary>
/// The one computation of a user's rights for an application; tokens, SAML attributes and provisioning
/// all read it. Until application roles and assignments exist (issue 6), a user's roles are their
/// Identity roles and they hold no permissions.
/// </summary>
public sealed class EffectiveEntitlements(IdentityHubDbContext db)
{
    /// <summary>The rights of a user in the application that owns the OIDC client <paramref name="clientId"/>.</summary>
    public async Task<Entitlements> ForClientAsync(string userId, string clientId, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrEmpty(clientId);
        return await IdentityRolesAsync(userId, cancellationToken);
    }

    /// <summary>The rights of a user in one application (SAML attributes and provisioning payloads).</summary>
    public Task<Entitlements> ForApplicationAsync(string userId, Guid applicationId, CancellationToken cancellationToken) =>
        IdentityRolesAsync(userId, cancellationToken);

    private async Task<Entitlements> IdentityRolesAsync(string userId, CancellationToken cancellationToken)
    {
        var roles = await (
                from link in db.UserRoles
                join role in db.Roles on link.RoleId equals role.Id
                where link.UserId == userId
                orderby role.Name
                select role.Name!)
            .ToListAsync(cancellationToken);
        return new Entitlements(roles, []);
    }
}
