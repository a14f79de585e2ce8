using IdentityHub.Data.Access;

namespace IdentityHub.Server.Admin.Roles;

/// <summary>What the role table shows, and whether to offer "delete".</summary>
public sealed record RoleRows(IReadOnlyList<Role> Rows, bool CanDelete, bool ShowApplication);
