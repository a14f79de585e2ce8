using System.Globalization;

namespace IdentityHub.Core.Access;

/// <summary>
/// How texts name an assignment to people: by role, scope and dates, never by its id (issue 17 §4), in English for the
/// API and as coded phrases (<c>phrase.*</c>) the console says in the reader's language.
/// </summary>
public static class AssignmentWording
{
    /// <summary>"Finance approver (expense-approver)", or the key alone when the role has no display name.</summary>
    public static string Role(string name, string? displayName) =>
        string.IsNullOrEmpty(displayName) ? name : $"{displayName} ({name})";

    public static string Scope(string? departmentName) => departmentName is null ? "everywhere" : $"department '{departmentName}'";

    public static RuleMessage ScopePhrase(string? departmentName) =>
        departmentName is null ? new("phrase.everywhere", []) : new("phrase.department", [departmentName]);

    /// <summary>"from 2026-01-05 until 2026-07-01 00:00 UTC" (the end is the instant it stops counting), or "from 2026-01-05, no end date".</summary>
    public static string Window(DateTimeOffset from, DateTimeOffset? until) =>
        until is { } end ? $"from {Day(from)} until {Moment(end)} UTC" : $"from {Day(from)}, no end date";

    public static RuleMessage WindowPhrase(DateTimeOffset from, DateTimeOffset? until) =>
        until is { } end ? new("phrase.window", [Day(from), Moment(end)]) : new("phrase.windowOpen", [Day(from)]);

    /// <summary>"role 'Finance approver (expense-approver)' (department 'Finance', from 2026-01-05, no end date)".</summary>
    public static string Describe(string roleLabel, string? departmentName, DateTimeOffset from, DateTimeOffset? until) =>
        $"role '{roleLabel}' ({Scope(departmentName)}, {Window(from, until)})";

    public static string Day(DateTimeOffset at) => at.UtcDateTime.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture);

    public static string Moment(DateTimeOffset at) => at.UtcDateTime.ToString("yyyy-MM-dd HH:mm", CultureInfo.InvariantCulture);
}
