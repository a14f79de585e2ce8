namespace IdentityHub.Core.Directory;

/// <summary>The administrative roles of the console and the admin API (ASP.NET Core Identity roles).</summary>
public static class AdminRoles
{
    public const string SuperAdmin = "super-admin";
    public const string SecurityAdmin = "security-admin";
    public const string HrAdmin = "hr-admin";
    public const string Auditor = "auditor";

    public static IReadOnlyList<string> All { get; } = [SuperAdmin, SecurityAdmin, HrAdmin, Auditor];
}
