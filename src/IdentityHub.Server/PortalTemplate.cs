using IdentityHub.Server.Hosting;
using Microsoft.AspNetCore.Mvc;

namespace IdentityHub.Server;

/// <summary>
/// The portal as the global theme's <c>account/portal.liquid</c> when it (or default) has one: the whole document, rendered
/// from the model documented in the README ("Themes", overriding the portal) with the tiles the Razor page would show.
/// Null when there is no usable template, and the Razor page is shown.
/// </summary>
public sealed class PortalTemplate(ThemePages pages)
{
    public Task<ContentResult?> RenderAsync(IndexModel page)
    {
        ArgumentNullException.ThrowIfNull(page);
        return pages.RenderAsync(page.HttpContext, ThemeTemplates.Portal, () => Model(page));
    }

    private static Dictionary<string, object?> Model(IndexModel page)
    {
        var url = page.Url;
        return new(StringComparer.Ordinal)
        {
            ["user"] = new Dictionary<string, object?>(StringComparer.Ordinal)
            {
                ["display_name"] = page.DisplayName,
                ["user_name"] = page.UserName,
            },
            ["applications"] = page.Tiles.Select(tile => (object?)new Dictionary<string, object?>(StringComparer.Ordinal)
            {
                ["name"] = tile.Name,
                ["launch_url"] = tile.Href,
                ["icon_url"] = tile.IconUrl,
                ["initials"] = tile.Initials,
            }).ToList(),
            ["links"] = new Dictionary<string, object?>(StringComparer.Ordinal)
            {
                ["profile"] = url.Page("/Account/Profile"),
                ["password"] = url.Page("/Account/Password"),
                ["sessions"] = url.Page("/Account/Sessions"),
                ["activity"] = url.Page("/Account/Activity"),
                // A POST with the antiforgery field, as the layout's sign-out button: a link cannot sign anyone out.
                ["sign_out"] = url.Page("/Account/Logout"),
            },
        };
    }
}
