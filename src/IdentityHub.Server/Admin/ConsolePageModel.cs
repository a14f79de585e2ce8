using IdentityHub.Core;
using IdentityHub.Server.Hosting;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;

namespace IdentityHub.Server.Admin;

/// <summary>What every console page shares: its section (who may write), and the alert after a write.</summary>
public abstract class ConsolePageModel : PageModel
{
    /// <summary>Survives the redirect after a successful write (post/redirect/get).</summary>
    [TempData]
    public string? Notice { get; set; }

    public ConsoleAlert? Alert { get; protected set; }

    public ConsoleSection Section => ConsoleSections.Of(PageContext.ActionDescriptor.ViewEnginePath);

    /// <summary>Whether to show write controls; the <see cref="ConsoleWriteFilter"/> refuses the writes themselves.</summary>
    public bool CanWrite => Section.CanWrite(User);

    public ConsoleAlert? Shown => Alert ?? (Notice is { } notice ? new ConsoleAlert(notice, [], IsError: false) : null);

    /// <summary>Shows the Core's refusal on the form, with the status code its kind calls for.</summary>
    protected void Refused(RuleViolation violation, string prefix = "Input") =>
        Alert = ModelState.Show(violation, Response, HttpContext.RequestServices.GetRequiredService<ThemeMessages>(), prefix);

    /// <summary>The confirmation step a destructive action shows before it is posted (a GET with <c>?confirm=...</c>); null otherwise.</summary>
    public Confirmation? Confirm { get; protected set; }

    /// <summary>What the confirmation step asks for (<c>?confirm=delete</c>), or null.</summary>
    protected string? Confirming => Request.Query[Confirmation.Query] is { Count: 1 } value ? value.ToString() : null;

    protected ThemeMessages ThemeTexts => HttpContext.RequestServices.GetRequiredService<ThemeMessages>();

    /// <summary>After a destructive or irreversible write: the notice says what happened ("Department 'Sales East' deleted"), not "Saved".</summary>
    protected IActionResult Did(string location, string messageKey, params object[] arguments)
    {
        Notice = ThemeTexts[messageKey, arguments].Value;
        return LocalRedirect(location);
    }

    /// <summary>After a write: "Saved: what" on the next page (post/redirect/get).</summary>
    protected IActionResult Done(string? what, string location)
    {
        var saved = HttpContext.RequestServices.GetRequiredService<ThemeMessages>()["common.saved"].Value;
        Notice = what is null ? saved : $"{saved}: {what}";
        return LocalRedirect(location);
    }
}
