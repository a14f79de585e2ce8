using IdentityHub.Data.Access;

namespace IdentityHub.Server.Admin.Roles;

/// <summary>How the console names a role: its display name with the key beside it, or the key alone.</summary>
public static class RoleNames
{
    /// <summary>For texts without markup (a select's options): "Finance approver · expense-approver".</summary>
    public static string Text(Role role)
    {
        ArgumentNullException.ThrowIfNull(role);
        return string.IsNullOrEmpty(role.DisplayName) ? role.Name : $"{role.DisplayName} · {role.Name}";
    }
}
