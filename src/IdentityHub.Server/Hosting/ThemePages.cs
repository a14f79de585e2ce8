using System.Globalization;
using Microsoft.AspNetCore.Antiforgery;
using Microsoft.AspNetCore.Mvc;

namespace IdentityHub.Server.Hosting;

/// <summary>
/// A page its theme may replace with a Liquid template (<see cref="ThemeTemplates"/>): finds the template in the request's
/// theme (else default), renders it as the whole document with the values every page template has — <c>messages</c>,
/// <c>lang</c>, <c>antiforgery</c>, <c>theme_url</c> — plus the page's own, and answers it as HTML. Null when there is no
/// usable template (none, or it does not parse or render: logged), and the caller shows its Razor page.
/// </summary>
public sealed class ThemePages(ThemeTemplates templates, ThemeSelection selection, ThemeMessages messages, ThemeFiles files, IAntiforgery antiforgery)
{
    /// <summary>Renders <paramref name="path"/> of the request's theme; <paramref name="model"/> (called only when there is a template) adds the page's values.</summary>
    public async Task<ContentResult?> RenderAsync(HttpContext context, string path, Func<Dictionary<string, object?>> model)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(model);
        var theme = selection.Of(context);
        if (templates.Find(theme, path) is not { } template)
        {
            return null;
        }

        // The cookie half goes out with this response; the form half must be posted back as antiforgery.field_name.
        var tokens = antiforgery.GetAndStoreTokens(context);
        var values = new Dictionary<string, object?>(StringComparer.Ordinal)
        {
            ["messages"] = Texts(theme),
            ["lang"] = CultureInfo.CurrentUICulture.Name,
            ["antiforgery"] = new Dictionary<string, object?>(StringComparer.Ordinal)
            {
                ["field_name"] = tokens.FormFieldName,
                ["token"] = tokens.RequestToken,
            },
            ["theme_url"] = files.BaseUrl(),
        };
        foreach (var (key, value) in model())
        {
            values[key] = value;
        }

        var html = await templates.RenderAsync(template, values, $"{theme}:{path}");
        return html is null ? null : new ContentResult { Content = html, ContentType = "text/html; charset=utf-8" };
    }

    /// <summary>The theme's texts in the reader's language, English for a key that language lacks (as the Razor pages show them).</summary>
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
}
