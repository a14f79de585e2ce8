using IdentityHub.Core.Queries;
using IdentityHub.Data.Directory;
using Microsoft.AspNetCore.Mvc;

namespace IdentityHub.Server.Admin.Users;

/// <summary>The directory: search by name, number or email, filter by department (with its subtree) and status, page through.</summary>
public sealed class IndexModel(UserQueries queries, DepartmentQueries departments) : ConsolePageModel
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

    public IReadOnlyList<DepartmentTreeNode> Tree { get; private set; } = [];

    public int Total { get; private set; }

    public int Pages => Math.Max(1, (Total + PageSize - 1) / PageSize);

    public async Task OnGetAsync(CancellationToken cancellationToken)
    {
        PageNumber = Math.Max(1, PageNumber);
        Tree = await departments.TreeAsync(cancellationToken);
        // A department that is not (or no longer) in the tree filters nothing.
        var department = Department is { } id && Tree.Any(n => n.Department.Id == id) ? Department : null;
        (Users, Total) = await queries.PageAsync(new UserFilter(Search, Status, department), PageNumber, PageSize, cancellationToken);
    }

    public string Query(int page) => QueryString.Create(new Dictionary<string, string?>
    {
        ["q"] = Search, ["department"] = Department?.ToString(), ["status"] = Status?.ToString(), ["p"] = page.ToString(System.Globalization.CultureInfo.InvariantCulture),
    }.Where(p => !string.IsNullOrEmpty(p.Value))).ToString();
}
