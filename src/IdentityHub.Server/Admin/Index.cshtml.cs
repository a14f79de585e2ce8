using System.Security.Claims;
using IdentityHub.Data;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Microsoft.EntityFrameworkCore;
using OpenIddict.EntityFrameworkCore.Models;

namespace IdentityHub.Server.Admin;

/// <summary>The console home: who is signed in and how much the directory holds.</summary>
public sealed class IndexModel(IdentityHubDbContext db) : PageModel
{
    public string UserName { get; private set; } = "";

    public IReadOnlyList<string> Roles { get; private set; } = [];

    public int Users { get; private set; }

    public int Departments { get; private set; }

    public int Applications { get; private set; }

    public async Task OnGetAsync(CancellationToken cancellationToken)
    {
        UserName = User.Identity?.Name ?? "";
        Roles = User.FindAll(ClaimTypes.Role).Select(c => c.Value).ToList();
        Users = await db.Users.CountAsync(cancellationToken);
        Departments = await db.Departments.CountAsync(cancellationToken);
        Applications = await db.Set<OpenIddictEntityFrameworkCoreApplication>().CountAsync(cancellationToken);
    }
}
