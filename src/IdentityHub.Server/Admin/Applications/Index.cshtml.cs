using IdentityHub.Core;
using IdentityHub.Core.Access;
using IdentityHub.Core.Queries;
using Microsoft.AspNetCore.Mvc;

namespace IdentityHub.Server.Admin.Applications;

/// <summary>The connected systems, and the form that creates one (the same <see cref="IdentityHub.Core.Access.Applications"/> service as the admin API).</summary>
public sealed class IndexModel(ApplicationQueries queries, IdentityHub.Core.Access.Applications applications) : ConsolePageModel
{
    public IReadOnlyList<ApplicationRow> Applications { get; private set; } = [];

    [BindProperty]
    public CreateApplicationForm Input { get; set; } = new();

    public async Task OnGetAsync(CancellationToken cancellationToken) =>
        Applications = await queries.ListAsync(cancellationToken);

    public async Task<IActionResult> OnPostAsync(CancellationToken cancellationToken)
    {
        try
        {
            var created = await applications.CreateAsync(
                new ApplicationInput(Input.Name, string.IsNullOrWhiteSpace(Input.Description) ? null : Input.Description, Input.LaunchUrl), cancellationToken);
            return Done(created.Name, $"/admin/applications/{created.Id}");
        }
        catch (RuleViolation violation)
        {
            Refused(violation);
            await OnGetAsync(cancellationToken);
            return Page();
        }
    }
}

public sealed class CreateApplicationForm
{
    public string? Name { get; set; }

    public string? Description { get; set; }

    public string? LaunchUrl { get; set; }
}
