using IdentityHub.Data;
using IdentityHub.Data.Directory;
using IdentityHub.Server.Admin.Departments;
using Microsoft.AspNetCore.Mvc;
using Microsoft.EntityFrameworkCore;

namespace IdentityHub.Server.Admin.Users;

/// <summary>The directory: search by name, number or email, filter by department (with its subtree) and status, page through.</summary>
public sealed class IndexModel(IdentityHubDbContext db) : ConsolePageModel
{
    public const int PageSize = 25;

    [BindProperty(SupportsGet = true, Name = "q")]
    public string? Search { get; set; }

    [BindProperty(SupportsGet = true)]
    public Guid? Department { get; set; }

    [BindProperty(SupportsGet = true)]
    public UserStatus? Status { get; set; }

    [BindProperty(SupportsGet = true, Name = "p")]
    public int PageNumber { get; set; } = 1;

    public IReadOnlyList<UserAccount> Users { get; private set; } = [];

    public IReadOnlyList<DepartmentNode> Tree { get; private set; } = [];

    public int Total { get; private set; }

    public int Pages => Math.Max(1, (Total + PageSize - 1) / PageSize);

    public async Task OnGetAsync(CancellationToken cancellationToken)
    {
        PageNumber = Math.Max(1, PageNumber);
        Tree = await DepartmentNode.TreeAsync(db, cancellationToken);
        IQueryable<UserAccount> query = db.Users.AsNoTracking().Include(u => u.Department);
        if (Search is { Length: > 0 } search)
        {
            var s = search.Trim();
            query = query.Where(u => u.UserName!.Contains(s) || u.DisplayName.Contains(s) || u.EmployeeNumber == s || u.Email!.Contains(s));
        }

        if (Department is { } departmentId && Tree.FirstOrDefault(n => n.Department.Id == departmentId) is { } node)
        {
            var prefix = node.Department.Path;
            query = query.Where(u => u.Department != null && u.Department.Path.StartsWith(prefix));
        }

        if (Status is { } status)
        {
            query = query.Where(u => u.Status == status);
        }

        Total = await query.CountAsync(cancellationToken);
        Users = await query.OrderBy(u => u.UserName).Skip((PageNumber - 1) * PageSize).Take(PageSize).ToListAsync(cancellationToken);
    }

    public string Query(int page) => QueryString.Create(new Dictionary<string, string?>
    {
        ["q"] = Search, ["department"] = Department?.ToString(), ["status"] = Status?.ToString(), ["p"] = page.ToString(System.Globalization.CultureInfo.InvariantCulture),
    }.Where(p => !string.IsNullOrEmpty(p.Value))).ToString();
}
