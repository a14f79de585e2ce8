using System.Globalization;
using System.Security.Claims;
using IdentityHub.Core.Access;
using IdentityHub.Core.Queries;
using IdentityHub.Server.Hosting;

namespace IdentityHub.Server.Admin;

/// <summary>
/// Where the console shows each named thing, so every page links a name to the same place (issue 17 §4: names, not ids,
/// each with a link to it).
/// </summary>
public static class ConsoleLinks
{
    public const string SodRules = "/admin/separation-of-duty";

    public static string User(string id) => $"/admin/users/{Uri.EscapeDataString(id)}";

    public static string Department(Guid id) => $"/admin/departments/{id}";

    public static string Application(Guid id) => $"/admin/applications/{id}";

    /// <summary>A role's own page (its permissions, display name and holders are edited there).</summary>
    public static string Role(Guid id) => $"/admin/roles/{id}";

    public static string Connector(Guid id) => $"/admin/provisioning/{id}";

    /// <summary>A person's deliveries to every connector.</summary>
    public static string DeliveryHistory(string userId) => $"/admin/provisioning/history?user={Uri.EscapeDataString(userId)}";

    /// <summary><paramref name="path"/> when the reader may open <paramref name="section"/>, else null (the name is then shown without a link).</summary>
    public static string? IfReadable(this ClaimsPrincipal reader, ConsoleSection section, string path)
    {
        ArgumentNullException.ThrowIfNull(section);
        return section.CanRead(reader) ? path : null;
    }

    /// <summary>A role's page, when this reader may open the roles section.</summary>
    public static string? RoleFor(this ClaimsPrincipal reader, Guid roleId) => reader.IfReadable(ConsoleSections.Roles, Role(roleId));

    /// <summary>The page of an audit event's target or actor; null when it was deleted, has no page, or its section is not the reader's.</summary>
    public static string? Of(AuditSubject subject, ClaimsPrincipal reader)
    {
        ArgumentNullException.ThrowIfNull(subject);
        ArgumentNullException.ThrowIfNull(reader);
        if (subject.Deleted)
        {
            return null;
        }

        (ConsoleSection Section, string Path)? page = subject.Kind switch
        {
            AuditKinds.User => (ConsoleSections.Users, User(subject.Id)),
            AuditKinds.Department when Guid.TryParse(subject.Id, out var department) => (ConsoleSections.Departments, Department(department)),
            AuditKinds.Application or AuditKinds.Client or AuditKinds.Permission when subject.ApplicationId is { } application =>
                (ConsoleSections.Applications, Application(application)),
            AuditKinds.Role when Guid.TryParse(subject.Id, out var role) => (ConsoleSections.Roles, Role(role)),
            AuditKinds.Connector when Guid.TryParse(subject.Id, out var connector) => (ConsoleSections.Provisioning, Connector(connector)),
            AuditKinds.SodRule => (ConsoleSections.SeparationOfDuty, SodRules),
            _ => null,
        };
        return page is { } p && p.Section.CanRead(reader) ? p.Path : null;
    }

    /// <summary>"granted by role 'X', scoped to department 'Y', from ... until ..." in the reader's language (the Core's Reason is English).</summary>
    public static string GrantReason(EntitlementGrant grant, ThemeMessages texts)
    {
        ArgumentNullException.ThrowIfNull(grant);
        ArgumentNullException.ThrowIfNull(texts);
        var scope = grant.DepartmentName is { } department ? texts["admin.users.grantScoped", department].Value : texts["admin.users.grantEverywhere"].Value;
        // The end as the assignment form entered it (its last day included), like the assignment tables show it.
        var from = ConsoleForms.ShowFrom(grant.ValidFrom);
        var window = grant.ValidUntil is { } until
            ? texts["admin.users.grantWindow", from, ConsoleForms.ShowUntil(until, texts)].Value
            : texts["admin.users.grantOpen", from].Value;
        return string.Format(CultureInfo.CurrentCulture, texts["admin.users.grantReason"].Value, grant.RoleLabel, scope, window);
    }
}
