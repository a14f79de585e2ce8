using IdentityHub.Core;
using IdentityHub.Provisioning.Inbound;
using IdentityHub.Server.Admin.Provisioning;
using IdentityHub.Server.AdminApi;
using Microsoft.AspNetCore.Mvc;

namespace IdentityHub.Server.Admin.Sources;

/// <summary>
/// A new inbound source, created through the same <see cref="InboundSources"/> registry as the admin API's POST /sources. A SCIM
/// source's bearer token is shown on the answer to the creation only (never cached, never in a redirect), with the SCIM base
/// URL to give the OA or HR system; a REST source opens its page.
/// </summary>
public sealed class NewModel(InboundSources sources, Pickers pickers) : ConsolePageModel
{
    [BindProperty]
    public SourceForm Input { get; set; } = SourceForm.New();

    /// <summary>The source this very request created, with its token: shown on this response only.</summary>
    public InboundSourceCreated? Created { get; private set; }

    public string ScimUrl => SourcesApi.ScimUrlOf(Request);

    public IReadOnlyList<(string Field, string Message)> Errors => ConnectorForm.Errors(ModelState, SourceForm.Prefix);

    public void OnGet()
    {
    }

    public async Task<IActionResult> OnPostAsync(CancellationToken cancellationToken)
    {
        var (picked, subtrees) = await Input.ResolveSubtreesAsync(pickers, ModelState, cancellationToken);
        InboundSourceCreated created;
        try
        {
            if (!picked)
            {
                throw RuleViolation.Field("subtrees", ThemeTexts["admin.sources.subtreeUnresolved"].Value);
            }

            created = await sources.CreateAsync(Input.ToInput(subtrees), cancellationToken);
        }
        catch (RuleViolation violation)
        {
            var title = violation.Kind == ViolationKind.Invalid ? ThemeTexts["admin.sources.notSaved"].Value : null;
            Refused(title is null ? violation : new RuleViolation(violation.Kind, title, violation.Errors, violation.Codes), SourceForm.Prefix);
            Input.Secret = null;
            return Page();
        }

        if (created.Token is null)
        {
            return Did($"/admin/sources/{created.Source.Id}", "admin.sources.done.created", created.Source.Name);
        }

        // As with a connector's drawn secret: this answer itself shows the token, never a redirect (no cookie, no URL), never cached.
        Created = created;
        Response.Headers.CacheControl = "no-store";
        Response.Headers.Pragma = "no-cache";
        Notice = null;
        Alert = new ConsoleAlert(ThemeTexts["admin.sources.done.created", created.Source.Name].Value, [], IsError: false);
        return Page();
    }
}
