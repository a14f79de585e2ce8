using System.Globalization;
using IdentityHub.Server.Hosting;
using Microsoft.AspNetCore.Antiforgery;
using Microsoft.AspNetCore.Mvc;

namespace IdentityHub.Server.Account;

/// <summary>
/// The sign-in page as its theme's <c>login/login.liquid</c> when the theme (or default) has one: the whole document,
/// rendered from the model documented in the README ("Themes", overriding the sign-in page). Null when there is no
/// usable template, and the Razor page is shown.
/// </summary>
public sealed class LoginTemplate(ThemeTemplates templates, ThemeSelection selection, ThemeMessages messages, ThemeFiles files, IAntiforgery antiforgery)
{
    public async Task<ContentResult?> RenderAsync(LoginModel page)
    {
        ArgumentNullException.ThrowIfNull(page);
        var context = page.HttpContext;
        var theme = selection.Of(context);
        if (templates.Find(theme, ThemeTemplates.Login) is not { } template)
        {
            return null;
        }

        var html = await templates.RenderAsync(template, Model(page, theme), $"{theme}:{ThemeTemplates.Login}");
        return html is null ? null : new ContentResult { Content = html, ContentType = "text/html; charset=utf-8" };
    }

    private Dictionary<string, object?> Model(LoginModel page, string theme)
    {
        var url = page.Url;
        // The cookie half goes out with this response; the form half must be posted back as antiforgery.field_name.
        var tokens = antiforgery.GetAndStoreTokens(page.HttpContext);
        var login = url.Page("/Account/Login") ?? "/account/login";
        return new(StringComparer.Ordinal)
        {
            ["messages"] = Texts(theme),
            ["lang"] = CultureInfo.CurrentUICulture.Name,
            ["form"] = new Dictionary<string, object?>(StringComparer.Ordinal)
            {
                ["action"] = login,
                ["return_url"] = page.ReturnUrl,
                ["username"] = page.Input.UserName,
                ["username_field"] = "Input.UserName",
                ["password_field"] = "Input.Password",
                ["return_url_field"] = "ReturnUrl",
            },
            ["antiforgery"] = new Dictionary<string, object?>(StringComparer.Ordinal)
            {
                ["field_name"] = tokens.FormFieldName,
                ["token"] = tokens.RequestToken,
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
            ["theme_url"] = files.BaseUrl(),
            ["application"] = ThemeSelection.ApplicationOf(page.HttpContext),
        };
    }

    /// <summary>The theme's texts in the reader's language, English for a key that language lacks (as the Razor page shows them).</summary>
    private Dictionary<string, object?> Texts(string theme)
    {
        var texts = new Dictionary<string, object?>(StringComparer.Ordinal);
        foreach (var (key, text) in messages.Messages(theme, ThemeMessages.English))
        {
            texts[key] = text;
        }

        if (ThemeMessages.Cultures.FirstOrDefault(c => c.Name == CultureInfo.CurrentUICulture.Name || c.Name == CultureInfo.CurrentUICulture.Parent.Name) is { Name: not ThemeMessages.English } culture)
        {
            foreach (var (key, text) in messages.Messages(theme, culture.Name))
            {
                texts[key] = text;
            }
        }

        return texts;
    }

    /// <summary>The page's error, then the fields' (in the reader's language already: see <c>LoginModel.CheckInput</c>).</summary>
    private static List<object?> Errors(LoginModel page) =>
        [.. new[] { page.ErrorMessage, page.LockoutPolicy }.Concat(page.ModelState.Values.SelectMany(v => v.Errors).Select(e => e.ErrorMessage))
            .Where(e => !string.IsNullOrEmpty(e)).Distinct(StringComparer.Ordinal)];
}
