using System.Net;
using System.Text.RegularExpressions;
using IdentityHub.Testing;

namespace IdentityHub.Server.IntegrationTests.Account;

/// <summary>Drives the account security page and the MFA sign-in step over HTTP, as a browser would.</summary>
public static partial class MfaDriver
{
    public const string SecurityPage = "/account/security";
    public const string MfaPage = "/account/login/mfa";

    /// <summary>The authenticator key the page shows (grouped for typing), as an app would read it.</summary>
    public static TestAuthenticator AuthenticatorFrom(string html) =>
        KeyField().Match(html) is { Success: true } match
            ? new TestAuthenticator(match.Groups[1].Value.Replace(" ", "", StringComparison.Ordinal).ToUpperInvariant())
            : throw new InvalidOperationException("The page shows no authenticator key:\n" + html);

    public static IReadOnlyList<string> RecoveryCodesFrom(string html) =>
        RecoveryCodes().Match(html) is { Success: true } list
            ? [.. CodeItem().Matches(list.Groups[1].Value).Select(m => m.Groups[1].Value)]
            : throw new InvalidOperationException("The page shows no recovery codes:\n" + html);

    /// <summary>GETs <paramref name="page"/> for its antiforgery token, then posts <paramref name="fields"/> to its handler.</summary>
    public static async Task<HttpResponseMessage> PostAsync(HttpClient browser, string page, string handler, IDictionary<string, string> fields)
    {
        var form = await browser.GetStringAsync(page);
        var separator = page.Contains('?', StringComparison.Ordinal) ? '&' : '?';
        return await browser.PostAsync($"{page}{separator}handler={handler}", new FormUrlEncodedContent(
            new Dictionary<string, string>(fields) { ["__RequestVerificationToken"] = BrowserSession.AntiforgeryToken(form) }));
    }

    /// <summary>Turns the authenticator on from the security page of a signed-in browser; returns the app and the recovery codes.</summary>
    public static async Task<(TestAuthenticator App, IReadOnlyList<string> RecoveryCodes)> EnrolAsync(HttpClient browser)
    {
        var app = AuthenticatorFrom(await browser.GetStringAsync(SecurityPage));
        var enabled = await PostAsync(browser, SecurityPage, "Enable", new Dictionary<string, string> { ["Code"] = await app.NextCodeAsync() });
        var html = await enabled.Content.ReadAsStringAsync();
        Assert.Equal(HttpStatusCode.OK, enabled.StatusCode);
        return (app, RecoveryCodesFrom(html));
    }

    /// <summary>The password step; asserts it leads to the MFA page and returns that page's address.</summary>
    public static async Task<string> PasswordStepAsync(HttpClient browser, string userName, string password, string? returnUrl = null)
    {
        var signIn = await BrowserSession.SignInAsync(browser, userName, password, returnUrl);
        Assert.Equal(HttpStatusCode.Redirect, signIn.StatusCode);
        var location = signIn.Headers.Location!.OriginalString;
        Assert.StartsWith(MfaPage, location, StringComparison.Ordinal);
        return location;
    }

    /// <summary>Posts a code (handler Code, Recovery or Enrol) on the MFA page at <paramref name="mfaPage"/>.</summary>
    public static Task<HttpResponseMessage> SecondStepAsync(HttpClient browser, string mfaPage, string code, string handler = "Code") =>
        PostAsync(browser, mfaPage, handler, new Dictionary<string, string> { ["Code"] = code });

    [GeneratedRegex("data-testid=\"totp-key\">([a-z2-7 ]+)<")]
    private static partial Regex KeyField();

    [GeneratedRegex("data-testid=\"recovery-codes\">(.*?)</ul>", RegexOptions.Singleline)]
    private static partial Regex RecoveryCodes();

    [GeneratedRegex("<code>([^<]+)</code>")]
    private static partial Regex CodeItem();
}
