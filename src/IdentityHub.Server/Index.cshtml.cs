using System.Security.Claims;
using IdentityHub.Core.Access;
using IdentityHub.Server.Account;
using IdentityHub.Server.Hosting;
using IdentityHub.Server.Saml;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Identity;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;
using IdentityHub.Data.Directory;

namespace IdentityHub.Server;

/// <summary>One portal tile: where it goes and how it looks (the icon, else initials on a colour of the name).</summary>
public sealed record PortalTile(Guid Id, string Name, string? Description, string Href, string? IconUrl, string Initials, int Colour);

/// <summary>
/// The portal: administrators go to the console; everyone else is greeted by name and sees a tile for each application
/// they hold rights in that can be started from a link (<see cref="PortalApplications"/>), and links to their account.
/// </summary>
[Authorize]
public sealed class IndexModel(IAuthorizationService authorization, UserManager<UserAccount> users, PortalApplications portal, PortalTemplate template) : PageModel
{
    /// <summary>How many colours the stylesheet has for initials (<c>.tile-icon.c0</c> …).</summary>
    public const int Colours = 12;

    public string DisplayName { get; private set; } = "";

    public string UserName { get; private set; } = "";

    public IReadOnlyList<PortalTile> Tiles { get; private set; } = [];

    public async Task<IActionResult> OnGetAsync()
    {
        if ((await authorization.AuthorizeAsync(User, ConsolePolicy.Name)).Succeeded)
        {
            return RedirectToPage("/Admin/Index");
        }

        var userId = User.FindFirstValue(ClaimTypes.NameIdentifier);
        var user = userId is null ? null : await users.FindByIdAsync(userId);
        if (user is null)
        {
            return Challenge();
        }

        UserName = user.UserName ?? "";
        DisplayName = string.IsNullOrWhiteSpace(user.DisplayName) ? UserName : user.DisplayName;
        var applications = await portal.ForUserAsync(user.Id, HttpContext.RequestAborted);
        Tiles = [.. applications.Select(Tile)];
        // The global theme's account/portal.liquid when it has a usable one, else this Razor page.
        return await template.RenderAsync(this) is { } themed ? themed : Page();
    }

    private PortalTile Tile(PortalApplication application)
    {
        var href = application.Launch == LaunchKind.SamlIdpInitiated
            ? $"{SamlIdpEndpoints.IdpInitiatedPath}?sp={application.Id}"
            : application.Address!;
        // An icon at an https address is shown from there: this page's policy names that origin, no other.
        if (application.IconUrl is { } icon && !icon.StartsWith("data:", StringComparison.OrdinalIgnoreCase) && Uri.TryCreate(icon, UriKind.Absolute, out var iconUri))
        {
            PageAllowances.AllowImage(HttpContext, iconUri);
        }

        return new PortalTile(application.Id, application.Name, application.Description, href, application.IconUrl, Initials(application.Name), ColourOf(application.Name));
    }

    /// <summary>The first letters of the first two words ("Expense Claims" → "EC"); one character for a name in CJK ("报销" → "报").</summary>
    public static string Initials(string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        var words = name.Split([' ', '-', '_', '.'], StringSplitOptions.RemoveEmptyEntries);
        if (words.Length == 0)
        {
            return "?";
        }

        var first = char.ConvertFromUtf32(char.ConvertToUtf32(words[0], 0));
        if (first.Length == 1 && !char.IsAsciiLetterOrDigit(first[0]) && char.IsLetter(first[0]))
        {
            return first;
        }

        var second = words.Length > 1 ? char.ConvertFromUtf32(char.ConvertToUtf32(words[1], 0)) : "";
        return (first + second).ToUpperInvariant();
    }

    /// <summary>A colour index that depends on the name only, so a tile keeps its colour across visits and nodes.</summary>
    public static int ColourOf(string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        var hash = 0u;
        foreach (var c in name)
        {
            hash = unchecked((hash * 31) + c);
        }

        return (int)(hash % Colours);
    }
}
