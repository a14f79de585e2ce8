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

    /// <summary>After a write: "Saved: what" on the next page (post/redirect/get).</summary>
    protected IActionResult Done(string? what, string location)
    {
        var saved = HttpContext.RequestServices.GetRequiredService<ThemeMessages>()["common.saved"].Value;
        Notice = what is null ? saved : $"{saved}: {what}";
        return LocalRedirect(location);
    }
}
