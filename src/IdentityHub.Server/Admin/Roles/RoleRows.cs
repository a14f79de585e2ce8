using IdentityHub.Data.Access;

namespace IdentityHub.Server.Admin.Roles;

/// <summary>What the role table shows, and whether to offer "edit" and "delete" (both on the role's page).</summary>
public sealed record RoleRows(IReadOnlyList<Role> Rows, bool CanDelete, bool ShowApplication);
