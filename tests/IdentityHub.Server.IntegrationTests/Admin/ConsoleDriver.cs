using System.Net;
using System.Text.RegularExpressions;
using IdentityHub.Core.Directory;
using IdentityHub.Server.IntegrationTests.Oidc;

namespace IdentityHub.Server.IntegrationTests.Admin;

/// <summary>
/// Drives console pages over HTTP the way a browser without JavaScript does: sign in, read a page, post one of its forms
/// with the page's antiforgery token, follow the redirect and read the notice or the confirmation dialog.
/// </summary>
internal sealed partial class ConsoleDriver(IdentityHubFactory factory)
{
    private readonly OidcDriver _driver = new(factory);

    /// <summary>The bootstrap super administrator's console, in English or (with <paramref name="language"/> "zh-CN") Chinese.</summary>
    public async Task<HttpClient> AdminAsync(string? language = null)
    {
        var client = factory.CreateBrowserLikeClient();
        if (language is not null)
        {
            client.DefaultRequestHeaders.AcceptLanguage.ParseAdd(language);
        }

        await BrowserSession.SignInAsync(client, FirstAdministrator.UserName, IdentityHubFactory.AdminPassword);
        return client;
    }

    /// <summary>The console of a new person holding <paramref name="role"/> (none when null).</summary>
    public async Task<HttpClient> SignedInAsync(string? role)
    {
        var user = await _driver.CreateUserAsync();
        if (role is not null)
        {
            await _driver.AddRoleAsync(user, role);
        }

        var client = factory.CreateBrowserLikeClient();
        await BrowserSession.SignInAsync(client, user.UserName!, OidcDriver.Password);
        return client;
    }

    /// <summary>Posts <paramref name="fields"/> to <paramref name="action"/> with the antiforgery token of <paramref name="page"/>.</summary>
    public static async Task<HttpResponseMessage> PostAsync(HttpClient client, string page, string action, Dictionary<string, string> fields)
    {
        fields["__RequestVerificationToken"] = BrowserSession.AntiforgeryToken(await client.GetStringAsync(page));
        return await client.PostAsync(action, new FormUrlEncodedContent(fields));
    }

    /// <summary>Posts the confirmation dialog <paramref name="key"/> shown at <paramref name="page"/> as it is (its hidden fields), plus <paramref name="extra"/>.</summary>
    public static async Task<HttpResponseMessage> ConfirmAsync(HttpClient client, string page, string key, Dictionary<string, string>? extra = null) =>
        await PostDialogAsync(client, await client.GetStringAsync(page), key, extra);

    /// <summary>Posts the confirmation dialog <paramref name="key"/> of a page read earlier (<paramref name="html"/>).</summary>
    public static async Task<HttpResponseMessage> PostDialogAsync(HttpClient client, string html, string key, Dictionary<string, string>? extra = null)
    {
        var dialog = Dialog(html, key) ?? throw new InvalidOperationException($"The page shows no confirmation '{key}'.");
        var action = WebUtility.HtmlDecode(FormAction().Match(dialog).Groups[1].Value);
        var fields = HiddenField().Matches(dialog).ToDictionary(m => WebUtility.HtmlDecode(m.Groups[1].Value), m => WebUtility.HtmlDecode(m.Groups[2].Value));
        fields["__RequestVerificationToken"] = BrowserSession.AntiforgeryToken(dialog);
        foreach (var (name, value) in extra ?? [])
        {
            fields[name] = value;
        }

        return await client.PostAsync(action, new FormUrlEncodedContent(fields));
    }

    /// <summary>The confirmation dialog <paramref name="key"/> in the page, or null when it shows none.</summary>
    public static string? Dialog(string html, string key)
    {
        var match = Regex.Match(html, $"<dialog[^>]*data-testid=\"confirm-{Regex.Escape(key)}\"[^>]*>(.*?)</dialog>", RegexOptions.Singleline);
        return match.Success ? match.Groups[1].Value : null;
    }

    /// <summary>The texts of the dialog's consequences list, decoded.</summary>
    public static IReadOnlyList<string> Consequences(string dialog) =>
        [.. Regex.Match(dialog, "data-testid=\"confirm-consequences\">(.*?)</ul>", RegexOptions.Singleline).Groups[1].Value
            .Split("</li>").Select(Text).Where(t => t.Length > 0)];

    /// <summary>Follows a post/redirect/get and returns the notice the next page shows.</summary>
    public static async Task<string> NoticeAfterAsync(HttpClient client, HttpResponseMessage response)
    {
        if (response.StatusCode != HttpStatusCode.Redirect)
        {
            var body = Text(await response.Content.ReadAsStringAsync());
            Assert.Fail($"Expected a redirect, got {(int)response.StatusCode}: {body[..Math.Min(2000, body.Length)]}");
        }

        var next = await client.GetStringAsync(response.Headers.Location);
        var match = Regex.Match(next, "data-testid=\"form-notice\">\\s*<strong>(.*?)</strong>", RegexOptions.Singleline);
        Assert.True(match.Success, "The page after the write shows no notice.");
        return WebUtility.HtmlDecode(match.Groups[1].Value);
    }

    /// <summary>The text the page shows next to the field named <paramref name="field"/>.</summary>
    public static string FieldError(string html, string field)
    {
        var match = Regex.Match(html, $"data-valmsg-for=\"{Regex.Escape(field)}\"[^>]*>([^<]*)</span>");
        Assert.True(match.Success, $"No field error for {field}");
        return WebUtility.HtmlDecode(match.Groups[1].Value);
    }

    /// <summary>Markup stripped, entities decoded, white space collapsed.</summary>
    public static string Text(string html) =>
        Regex.Replace(WebUtility.HtmlDecode(Regex.Replace(html, "<[^>]+>", " ")), "\\s+", " ").Trim();

    [GeneratedRegex("<form[^>]*action=\"([^\"]+)\"")]
    private static partial Regex FormAction();

    [GeneratedRegex("<input type=\"hidden\" name=\"([^\"]+)\" value=\"([^\"]*)\"")]
    private static partial Regex HiddenField();
}
