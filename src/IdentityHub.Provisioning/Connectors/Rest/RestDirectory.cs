using System.Security.Cryptography;
using System.Text;
using IdentityHub.Data;
using IdentityHub.Data.Provisioning;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace IdentityHub.Provisioning.Connectors.Rest;

/// <summary>
/// What a REST connector reads and keeps besides the user's state, on a database context of its own (the dispatcher's
/// records the delivery): a user's department chain from the root, the vendor's ids of the manager and of departments,
/// and per (connector, department) what was last sent (<see cref="ConnectorDepartmentState"/>).
/// </summary>
public sealed class RestDirectory(IServiceScopeFactory scopes, TimeProvider clock)
{
    /// <summary>The department of <paramref name="departmentCode"/> and its ancestors, root first, with the vendor's ids this connector holds.</summary>
    public async Task<IReadOnlyList<RestDepartment>> ChainAsync(Guid connectorId, string? departmentCode, CancellationToken cancellationToken)
    {
        if (departmentCode is null)
        {
            return [];
        }

        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<IdentityHubDbContext>();
        var path = await db.Departments.AsNoTracking().Where(d => d.Code == departmentCode).Select(d => d.Path).FirstOrDefaultAsync(cancellationToken);
        if (path is null)
        {
            return [];
        }

        var ids = path.Split('/', StringSplitOptions.RemoveEmptyEntries).Select(Guid.Parse).ToList();
        var departments = await db.Departments.AsNoTracking().Where(d => ids.Contains(d.Id)).ToDictionaryAsync(d => d.Id, cancellationToken);
        var sent = await db.ConnectorDepartmentStates.AsNoTracking().Where(s => s.ConnectorId == connectorId && ids.Contains(s.DepartmentId))
            .ToDictionaryAsync(s => s.DepartmentId, s => s.ExternalId, cancellationToken);
        var chain = new List<RestDepartment>();
        foreach (var id in ids.Where(departments.ContainsKey))
        {
            var department = departments[id];
            var parent = chain.Count > 0 ? chain[^1] : null;
            chain.Add(new RestDepartment(id, department.Code, department.Name, parent?.Code, [.. (parent?.PathNames ?? []), department.Name], [.. (parent?.PathCodes ?? []), department.Code])
            {
                VendorId = sent.GetValueOrDefault(id),
                ParentVendorId = parent?.VendorId,
            });
        }

        return chain;
    }

    /// <summary>The fingerprints this connector holds for <paramref name="departmentIds"/>.</summary>
    public async Task<Dictionary<Guid, string>> FingerprintsAsync(Guid connectorId, IReadOnlyCollection<Guid> departmentIds, CancellationToken cancellationToken)
    {
        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<IdentityHubDbContext>();
        return await db.ConnectorDepartmentStates.AsNoTracking().Where(s => s.ConnectorId == connectorId && departmentIds.Contains(s.DepartmentId))
            .ToDictionaryAsync(s => s.DepartmentId, s => s.Fingerprint, cancellationToken);
    }

    /// <summary>The manager's id at the vendor, when this connector delivered them and learned it.</summary>
    public async Task<string?> VendorIdOfAsync(Guid connectorId, string? userId, CancellationToken cancellationToken)
    {
        if (userId is null)
        {
            return null;
        }

        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<IdentityHubDbContext>();
        return await db.ConnectorUserStates.AsNoTracking().Where(s => s.ConnectorId == connectorId && s.UserId == userId).Select(s => s.ExternalId).FirstOrDefaultAsync(cancellationToken);
    }

    /// <summary>What the vendor was sent of a department: a hash of code, name, parent and path (and the parent's vendor id, whose change re-links it).</summary>
    public static string Fingerprint(RestDepartment department)
    {
        ArgumentNullException.ThrowIfNull(department);
        var text = string.Join('\u001f', department.Code, department.Name, department.ParentCode ?? "", string.Join('\u001e', department.PathNames), department.ParentVendorId ?? "");
        return Convert.ToBase64String(SHA256.HashData(Encoding.UTF8.GetBytes(text)), 0, 18);
    }

    /// <summary>Records that the vendor holds <paramref name="department"/> as sent; a concurrent delivery's record of the same department is as good.</summary>
    public async Task SaveSentAsync(Guid connectorId, RestDepartment department, string? vendorId, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(department);
        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<IdentityHubDbContext>();
        var row = await db.ConnectorDepartmentStates.SingleOrDefaultAsync(s => s.ConnectorId == connectorId && s.DepartmentId == department.Id, cancellationToken);
        if (row is null)
        {
            row = new ConnectorDepartmentState { ConnectorId = connectorId, DepartmentId = department.Id, Code = department.Code, Name = department.Name, Fingerprint = "" };
            db.ConnectorDepartmentStates.Add(row);
        }

        row.Code = department.Code;
        row.Name = department.Name;
        row.ParentCode = department.ParentCode;
        row.ExternalId = vendorId ?? row.ExternalId;
        row.Fingerprint = Fingerprint(department);
        row.Depth = department.Depth;
        row.SentAt = clock.GetUtcNow();
        try
        {
            await db.SaveChangesAsync(cancellationToken);
        }
        catch (DbUpdateException)
        {
            // Another delivery of a user of the same department inserted the row first: it sent the same department.
        }
    }

    /// <summary>Departments this connector sent that no longer exist in IdentityHub, deepest first (children before their parent).</summary>
    public async Task<List<ConnectorDepartmentState>> OrphansAsync(Guid connectorId, CancellationToken cancellationToken)
    {
        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<IdentityHubDbContext>();
        return await db.ConnectorDepartmentStates.AsNoTracking()
            .Where(s => s.ConnectorId == connectorId && !db.Departments.Any(d => d.Id == s.DepartmentId))
            .OrderByDescending(s => s.Depth).ThenBy(s => s.Code)
            .ToListAsync(cancellationToken);
    }

    public async Task ForgetDepartmentAsync(Guid connectorId, Guid departmentId, CancellationToken cancellationToken)
    {
        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<IdentityHubDbContext>();
        await db.ConnectorDepartmentStates.Where(s => s.ConnectorId == connectorId && s.DepartmentId == departmentId).ExecuteDeleteAsync(cancellationToken);
    }
}
