using System.Security.Claims;
using IdentityHub.Core.Directory;

namespace IdentityHub.Server.Admin;

/// <summary>
/// One part of the console: a folder of pages, who may read it and who may change things in it.
/// The navigation, the page authorization conventions and the write filter all come from this table.
/// </summary>
public sealed record ConsoleSection(string Key, string Folder, string Path, string MessageKey, IReadOnlyList<string> Readers, IReadOnlyList<string> Writers)
{
    public string ReadPolicy => $"Console.{Key}.Read";

    public bool CanRead(ClaimsPrincipal user) => Readers.Any(user.IsInRole);

    public bool CanWrite(ClaimsPrincipal user) => Writers.Any(user.IsInRole);
}

/// <summary>Delegated administration in the console (issue 6 §4): who sees and who changes which section.</summary>
public static class ConsoleSections
{
    private static readonly string[] Everyone = [.. AdminRoles.All];
    private static readonly string[] DirectoryReaders = [AdminRoles.SuperAdmin, AdminRoles.HrAdmin, AdminRoles.Auditor];
    private static readonly string[] DirectoryWriters = [AdminRoles.SuperAdmin, AdminRoles.HrAdmin];
    private static readonly string[] AccessReaders = [AdminRoles.SuperAdmin, AdminRoles.SecurityAdmin, AdminRoles.Auditor];
    private static readonly string[] AccessWriters = [AdminRoles.SuperAdmin, AdminRoles.SecurityAdmin];

    /// <summary>The dashboard: every administrator reads it; nothing is written there.</summary>
    public static ConsoleSection Dashboard { get; } = new("Dashboard", "/Admin", "/admin", "admin.nav.dashboard", Everyone, []);

    /// <summary>People: every administrator reads them (security administrators end sessions from a person's page, the one write of theirs there).</summary>
    public static ConsoleSection Users { get; } = new("Users", "/Admin/Users", "/admin/users", "admin.nav.users", Everyone, DirectoryWriters);

    public static ConsoleSection Departments { get; } = new("Departments", "/Admin/Departments", "/admin/departments", "admin.nav.departments", DirectoryReaders, DirectoryWriters);

    public static ConsoleSection Applications { get; } = new("Applications", "/Admin/Applications", "/admin/applications", "admin.nav.applications", AccessReaders, AccessWriters);

    public static ConsoleSection Roles { get; } = new("Roles", "/Admin/Roles", "/admin/roles", "admin.nav.roles", AccessReaders, AccessWriters);

    public static ConsoleSection Assignments { get; } = new("Assignments", "/Admin/Assignments", "/admin/assignments", "admin.nav.assignments", DirectoryReaders, DirectoryWriters);

    public static ConsoleSection SeparationOfDuty { get; } = new("SeparationOfDuty", "/Admin/SeparationOfDuty", "/admin/separation-of-duty", "admin.nav.sod", AccessReaders, AccessWriters);

    /// <summary>Provisioning: every administrator watches the connectors; security administrators pause, replay, sync and fix drift.</summary>
    public static ConsoleSection Provisioning { get; } = new("Provisioning", "/Admin/Provisioning", "/admin/provisioning", "admin.nav.provisioning", Everyone, AccessWriters);

    /// <summary>Inbound sources (the OA and HR systems the organisation comes in from): a source writes the directory, so super administrators only.</summary>
    public static ConsoleSection Sources { get; } = new("Sources", "/Admin/Sources", "/admin/sources", "admin.nav.sources", [AdminRoles.SuperAdmin], [AdminRoles.SuperAdmin]);

    /// <summary>
    /// The audit trail: read by the super admin, the security admin and the auditor (never by HR administrators: not
    /// here, not on the dashboard or a person's page, not through the API); never written from the console.
    /// </summary>
    public static ConsoleSection Audit { get; } = new("Audit", "/Admin/Audit", "/admin/audit", "admin.nav.audit", AccessReaders, []);

    /// <summary>In navigation order.</summary>
    public static IReadOnlyList<ConsoleSection> All { get; } = [Dashboard, Users, Departments, Applications, Roles, Assignments, SeparationOfDuty, Provisioning, Sources, Audit];

    /// <summary>The section a page belongs to, by its view path (<c>/Admin/Users/Detail</c>).</summary>
    public static ConsoleSection Of(string viewEnginePath) =>
        All.Where(s => s != Dashboard).FirstOrDefault(s => viewEnginePath.StartsWith(s.Folder + "/", StringComparison.OrdinalIgnoreCase))
        ?? Dashboard;
}
