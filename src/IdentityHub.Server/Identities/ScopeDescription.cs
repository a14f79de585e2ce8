using IdentityHub.Core.Access;
using IdentityHub.Server.Hosting;
using static OpenIddict.Abstractions.OpenIddictConstants;

namespace IdentityHub.Server.Identities;

/// <summary>A scope in the words a person reads on the consent page, in their language.</summary>
public sealed record ScopeDescription(string Scope, string Text)
{
    public static IReadOnlyList<ScopeDescription> Describe(IEnumerable<string> scopes, ThemeMessages texts)
    {
        ArgumentNullException.ThrowIfNull(texts);
        return [.. scopes.Select(scope => new ScopeDescription(scope, scope switch
        {
            Scopes.OpenId => texts["scope.openid"],
            Scopes.Profile => texts["scope.profile"],
            Scopes.Email => texts["scope.email"],
            Scopes.OfflineAccess => texts["scope.offline_access"],
            IdentityHubScopes.Employee => texts["scope.employee"],
            IdentityHubScopes.Roles => texts["scope.roles"],
            IdentityHubScopes.AdminApi => texts["scope.adminapi"],
            _ => texts["scope.other", scope],
        }))];
    }
}
