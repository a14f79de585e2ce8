using IdentityHub.Server.Hosting;
using Microsoft.AspNetCore.Mvc;

namespace IdentityHub.Server.Account;

/// <summary>
/// The sign-in page as its theme's <c>login/login.liquid</c> when the theme (or default) has one: the whole document,
/// rendered from the model documented in the README ("Themes", overriding the sign-in page). Null when there is no
/// usable template, and the Razor page is shown.
/// </summary>
public sealed class LoginTemplate(ThemePages pages, ThemeFiles files)
{
    public Task<ContentResult?> RenderAsync(LoginModel page)
    {
        ArgumentNullException.ThrowIfNull(page);
        return pages.RenderAsync(page.HttpContext, ThemeTemplates.Login, () => Model(page));
    }

    private Dictionary<string, object?> Model(LoginModel page)
    {
        var url = page.Url;
        var login = url.Page("/Account/Login") ?? "/account/login";
        return new(StringComparer.Ordinal)
        {
            ["form"] = new Dictionary<string, object?>(StringComparer.Ordinal)
            {
                ["action"] = login,
                ["return_url"] = page.ReturnUrl,
                ["username"] = page.Input.UserName,
                ["username_field"] = "Input.UserName",
                ["password_field"] = "Input.Password",
                ["return_url_field"] = "ReturnUrl",
            },
            ["errors"] = Errors(page),
            ["links"] = new Dictionary<string, object?>(StringComparer.Ordinal)
            {
                ["forgot_password"] = url.Page("/Account/Forgot"),
                ["passkey"] = new Dictionary<string, object?>(StringComparer.Ordinal)
                {
                    ["action"] = url.Page("/Account/Login", "Passkey"),
                    ["options_url"] = url.Page("/Account/Login", "PasskeyOptions"),
                    ["script"] = files.BaseUrl() + "login/passkeys.js",
                },
            },
            ["application"] = ThemeSelection.ApplicationOf(page.HttpContext),
        };
    }

    /// <summary>The page's error, then the fields' (in the reader's language already: see <c>LoginModel.CheckInput</c>).</summary>
    private static List<object?> Errors(LoginModel page) =>
        [.. new[] { page.ErrorMessage, page.LockoutPolicy }.Concat(page.ModelState.Values.SelectMany(v => v.Errors).Select(e => e.ErrorMessage))
            .Where(e => !string.IsNullOrEmpty(e)).Distinct(StringComparer.Ordinal)];
}
