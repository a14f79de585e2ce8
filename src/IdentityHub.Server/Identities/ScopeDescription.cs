using IdentityHub.Core.Access;
using static OpenIddict.Abstractions.OpenIddictConstants;

namespace IdentityHub.Server.Identities;

/// <summary>A scope in the words a person reads on the consent page.</summary>
public sealed record ScopeDescription(string Scope, string Text)
{
    public static IReadOnlyList<ScopeDescription> Describe(IEnumerable<string> scopes) =>
        [.. scopes.Select(scope => new ScopeDescription(scope, scope switch
        {
            Scopes.OpenId => "Know who you are (your account identifier)",
            Scopes.Profile => "See your name and user name",
            Scopes.Email => "See your email address",
            Scopes.OfflineAccess => "Stay connected when you are not using it",
            IdentityHubScopes.Employee => "See your employee number and department",
            IdentityHubScopes.Roles => "See your roles and permissions in this application",
            IdentityHubScopes.AdminApi => "Administer IdentityHub on your behalf",
            _ => $"Use the \"{scope}\" permission",
        }))];
}
