using System.Globalization;
using System.Security.Cryptography;
using System.Text;

namespace IdentityHub.Provisioning.Connectors.Rest;

/// <summary>
/// A department as a REST connector sends it: code, name, the parent's code, the path of names and of codes from the
/// root down to it (itself included), and the vendor's ids once known.
/// </summary>
public sealed record RestDepartment(Guid Id, string Code, string Name, string? ParentCode, IReadOnlyList<string> PathNames, IReadOnlyList<string> PathCodes)
{
    public int Depth => PathCodes.Count - 1;

    public string? VendorId { get; init; }

    public string? ParentVendorId { get; init; }
}

/// <summary>What the connector knows beyond the user's state: the department chain, the vendor's ids, the delivery's idempotency key.</summary>
public sealed record RestUserContext(IReadOnlyList<RestDepartment> DepartmentChain, string? VendorId, string? ManagerVendorId, string IdempotencyKey)
{
    /// <summary>For a vendor without ids: the employee number last sent, which names a user deleted here since.</summary>
    public string? RememberedEmployeeNumber { get; init; }
}

/// <summary>
/// The template model (camelCase names, as the README documents them): <c>user</c> with the profile, <c>department</c>,
/// <c>manager</c>, <c>roles</c>, <c>permissions</c> (name, parameters, scope), the active/left flags, the version and the
/// vendor's id; <c>department</c> for department operations; <c>page</c> for the list; <c>idempotencyKey</c> always.
/// </summary>
public static class RestTemplateModel
{
    public static Dictionary<string, object?> ForUser(ProvisionedUser state, RestUserContext context, string action)
    {
        ArgumentNullException.ThrowIfNull(state);
        ArgumentNullException.ThrowIfNull(context);
        var department = context.DepartmentChain.Count > 0 ? context.DepartmentChain[^1] : null;
        var user = new Dictionary<string, object?>
        {
            ["id"] = state.UserId,
            ["userName"] = state.UserName,
            ["displayName"] = state.DisplayName,
            ["email"] = state.Email,
            ["phone"] = state.PhoneNumber,
            ["employeeNumber"] = state.EmployeeNumber ?? context.RememberedEmployeeNumber,
            ["active"] = state.Active,
            ["left"] = state.Left,
            ["exists"] = state.Exists,
            ["version"] = state.Version,
            ["vendorId"] = context.VendorId,
            ["department"] = department is null
                ? state.DepartmentCode is null ? null : new Dictionary<string, object?> { ["code"] = state.DepartmentCode, ["name"] = state.DepartmentName }
                : Department(department),
            ["manager"] = state.ManagerUserId is null ? null : new Dictionary<string, object?>
            {
                ["userId"] = state.ManagerUserId,
                ["employeeNumber"] = state.ManagerEmployeeNumber,
                ["vendorId"] = context.ManagerVendorId,
            },
            ["roles"] = state.Roles.Cast<object?>().ToList(),
            ["permissions"] = state.Permissions.Select(p => (object?)new Dictionary<string, object?>
            {
                ["name"] = p.Name,
                ["parameters"] = p.Parameters.ToDictionary(kv => kv.Key, kv => (object?)kv.Value, StringComparer.Ordinal),
                ["scope"] = p.DepartmentCode is null ? null : new Dictionary<string, object?> { ["code"] = p.DepartmentCode, ["path"] = p.DepartmentName },
            }).ToList(),
        };
        return new Dictionary<string, object?> { ["user"] = user, ["action"] = action, ["idempotencyKey"] = context.IdempotencyKey };
    }

    public static Dictionary<string, object?> ForDepartment(RestDepartment department, string idempotencyKey)
    {
        ArgumentNullException.ThrowIfNull(department);
        return new Dictionary<string, object?> { ["department"] = Department(department), ["idempotencyKey"] = idempotencyKey };
    }

    /// <summary>The list operation's page: its number (page paging), size, and cursor (cursor paging; null on the first page).</summary>
    public static Dictionary<string, object?> ForPage(int number, int size, string? cursor) => new()
    {
        ["page"] = new Dictionary<string, object?> { ["number"] = number, ["size"] = size, ["cursor"] = cursor },
        ["idempotencyKey"] = null,
    };

    /// <summary>For getUser in a test connection: an employee number nobody has.</summary>
    public static Dictionary<string, object?> ForProbe(string employeeNumber) => new()
    {
        ["user"] = new Dictionary<string, object?> { ["employeeNumber"] = employeeNumber, ["id"] = employeeNumber, ["vendorId"] = null },
        ["idempotencyKey"] = null,
    };

    private static Dictionary<string, object?> Department(RestDepartment department) => new()
    {
        ["code"] = department.Code,
        ["name"] = department.Name,
        ["parentCode"] = department.ParentCode,
        ["path"] = department.PathNames.Cast<object?>().ToList(),
        ["pathText"] = string.Join(" / ", department.PathNames),
        ["codes"] = department.PathCodes.Cast<object?>().ToList(),
        ["depth"] = department.Depth,
        ["vendorId"] = department.VendorId,
        ["parentVendorId"] = department.ParentVendorId,
    };

    /// <summary>
    /// The same for every attempt at one version (a retry is the same request but for timestamp, nonce and signature),
    /// different for every other (connector, user, version), and revealing nothing of them.
    /// </summary>
    public static string IdempotencyKey(Guid connectorId, string subject, string version)
    {
        var hash = SHA256.HashData(Encoding.UTF8.GetBytes($"{connectorId:N}\n{subject}\n{version}"));
        return Convert.ToHexStringLower(hash.AsSpan(0, 16));
    }

    public static string IdempotencyKey(Guid connectorId, string userId, long version) =>
        IdempotencyKey(connectorId, userId, version.ToString(CultureInfo.InvariantCulture));

    /// <summary>A state with every field filled, for checking templates when the connector is registered.</summary>
    public static (ProvisionedUser State, RestUserContext Context) Sample()
    {
        var root = new RestDepartment(Guid.Empty, "HQ", "Company", null, ["Company"], ["HQ"]) { VendorId = "d-1" };
        var sales = new RestDepartment(Guid.Empty, "SALES", "Sales", "HQ", ["Company", "Sales"], ["HQ", "SALES"]) { VendorId = "d-2", ParentVendorId = "d-1" };
        var state = new ProvisionedUser(
            "sample-user-id", "zhang.san", "Zhang \"San\" 张三", "zhang.san@example.com", "+86 10 5555 0100", "E0001", "SALES", "Sales",
            "sample-manager-id", "E0000", Active: true, Exists: true, ["approver", "viewer"],
            [
                new ProvisionedPermission("expense.approve", new SortedDictionary<string, string>(StringComparer.Ordinal) { ["amountLimit"] = "5000" }, "SALES", "Company / Sales"),
                new ProvisionedPermission("expense.submit", new SortedDictionary<string, string>(StringComparer.Ordinal), null, null),
            ],
            7);
        return (state, new RestUserContext([root, sales], "v-1", "v-0", IdempotencyKey(Guid.Empty, state.UserId, state.Version)));
    }
}
