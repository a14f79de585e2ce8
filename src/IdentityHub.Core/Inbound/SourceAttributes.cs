namespace IdentityHub.Core.Inbound;

/// <summary>The attributes of a person a source may own, by the names the console, the API and the SCIM mapping use.</summary>
public static class SourceAttributes
{
    public const string UserName = "userName";
    public const string DisplayName = "displayName";
    public const string Email = "email";
    public const string PhoneNumber = "phoneNumber";
    public const string EmployeeNumber = "employeeNumber";
    public const string Department = "department";
    public const string Manager = "manager";
    public const string Status = "status";

    public static readonly IReadOnlyList<string> All = [UserName, DisplayName, Email, PhoneNumber, EmployeeNumber, Department, Manager, Status];

    /// <summary>What an HR system usually owns: who someone is called, where they sit, whom they report to and whether they are still here.</summary>
    public static readonly IReadOnlyList<string> DefaultOwned = [DisplayName, Department, Manager, Status];

    public static IReadOnlySet<string> Parse(string? stored) =>
        (stored ?? "").Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).ToHashSet(StringComparer.Ordinal);

    public static string Format(IEnumerable<string> attributes) => string.Join(',', All.Where(attributes.Contains));
}
