using IdentityHub.Data;
using IdentityHub.Data.Access;
using Microsoft.EntityFrameworkCore;

namespace IdentityHub.Server.Admin.Applications;

/// <summary>
/// The connected systems. Creating one posts to the admin API (<c>POST /api/admin/v1/applications</c>): the
/// application rules live there, as the Core has no application service.
/// </summary>
public sealed class IndexModel(IdentityHubDbContext db) : ConsolePageModel
{
    public IReadOnlyList<ApplicationRow> Applications { get; private set; } = [];

    public async Task OnGetAsync(CancellationToken cancellationToken)
    {
        Applications = await db.Applications.AsNoTracking().OrderBy(a => a.Name)
            .Select(a => new ApplicationRow(a, db.Permissions.Count(p => p.ApplicationId == a.Id), db.AccessRoles.Count(r => r.ApplicationId == a.Id)))
            .ToListAsync(cancellationToken);
    }
}

public sealed record ApplicationRow(Application Application, int Permissions, int Roles);
