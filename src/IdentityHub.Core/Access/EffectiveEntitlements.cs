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
    public async Task<Entitlements> ForApplicationAsync(string userId, string clientId, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrEmpty(clientId);
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
