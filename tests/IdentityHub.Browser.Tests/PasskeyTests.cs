using System.Text.Json;
using IdentityHub.Testing;
using Microsoft.Playwright;
using static IdentityHub.Browser.Tests.ConsoleSteps;

namespace IdentityHub.Browser.Tests;

/// <summary>
/// Issue 16 §1 and §10: passkeys through the real pages in Debian's Chromium, its WebAuthn virtual authenticators (CDP)
/// standing in for a phone and a laptop. A person registers two passkeys, renames and removes one, signs out, and
/// signs in to a real relying party with the other and no password, whose ID token then says "hwk"; the removed
/// passkey, still held by an authenticator, is refused.
/// </summary>
[Requires(Prerequisite.Browser)]
public sealed class PasskeyTests(ServerAndBrowser fixture) : IClassFixture<ServerAndBrowser>
{
    private static readonly string[] Scopes = ["openid", "profile"];

    [PrerequisiteFact]
    public async Task Passkeys_RegisteredRenamedAndRemoved_TheRemainingOneSignsInWithoutAPasswordAndTheRemovedOneIsRefused()
    {
        var t = ThemeTexts.Of("en");
        var login = ThemeTexts.Of("en", "login");
        var port = ServerProcess.FreePort();
        await using var admin = await fixture.SignInAsync();
        var page = admin.Page;
        await CreateApplicationAsync(page, t, $"Passkey app {Guid.NewGuid().ToString("N")[..6]}");
        var (clientId, secret) = await RegisterRelyingPartyClientAsync(page, t, port);

        // The laptop's passkey, then the phone's: two authenticators, since one already holding a passkey of this
        // account is excluded from registering another (WebAuthn §5.4 excludeCredentials).
        var cdp = await page.Context.NewCDPSessionAsync(page);
        await cdp.SendAsync("WebAuthn.enable");
        var laptop = await AddAuthenticatorAsync(cdp);
        await page.GotoAsync("/account/passkeys");
        await Assertions.Expect(page.GetByTestId("no-passkeys")).ToHaveTextAsync(login["passkeys.none"]);
        var laptopKey = await RegisterAsync(page, cdp, laptop, login, "Laptop");
        await cdp.SendAsync("WebAuthn.removeVirtualAuthenticator", new Dictionary<string, object> { ["authenticatorId"] = laptop });
        var phone = await AddAuthenticatorAsync(cdp);
        var phoneKey = await RegisterAsync(page, cdp, phone, login, "Phone");
        await Assertions.Expect(page.GetByTestId("passkey")).ToHaveCountAsync(2);
        await ShotAsync(page, "passkeys-1-two-registered");

        await page.GetByLabel(Say(login["passkeys.nameOf"], "Phone"), new() { Exact = true }).FillAsync("Old phone");
        await page.GetByRole(AriaRole.Button, new() { Name = Say(login["passkeys.renameOf"], "Phone"), Exact = true }).ClickAsync();
        await Assertions.Expect(page.GetByTestId("form-notice")).ToHaveTextAsync(Say(login["passkeys.renamed"], "Old phone"));
        await page.GetByRole(AriaRole.Button, new() { Name = Say(login["passkeys.removeOf"], "Old phone"), Exact = true }).ClickAsync();
        await Assertions.Expect(page.GetByTestId("form-notice")).ToHaveTextAsync(login["passkeys.removed"]);
        await Assertions.Expect(page.GetByTestId("passkey")).ToHaveCountAsync(1);
        await Assertions.Expect(page.GetByTestId("passkey-name")).ToHaveValueAsync("Laptop");
        await Assertions.Expect(page.GetByTestId("passkey-last-used")).ToHaveTextAsync(login["passkeys.never"]);
        await ShotAsync(page, "passkeys-2-one-renamed-and-removed");

        await page.GetByRole(AriaRole.Button, new() { Name = "Sign out" }).ClickAsync();
        await page.WaitForURLAsync("**/account/login**");
        await cdp.SendAsync("WebAuthn.removeVirtualAuthenticator", new Dictionary<string, object> { ["authenticatorId"] = phone });

        // The laptop again, holding only its passkey: the relying party's sign-in needs no password.
        var laptopAgain = await AddAuthenticatorAsync(cdp);
        await ImportAsync(cdp, laptopAgain, laptopKey);
        await using var relyingParty = await RelyingParty.StartAsync(port, fixture.BaseAddress, clientId, secret, Scopes);
        await page.GotoAsync(relyingParty.Address.ToString());
        await page.WaitForURLAsync("**/account/login**");
        await ShotAsync(page, "passkeys-3-login-page");
        await page.GetByRole(AriaRole.Button, new() { Name = login["login.passkey"], Exact = true }).ClickAsync();
        await page.WaitForURLAsync(relyingParty.Address.ToString());
        using (var seen = JsonDocument.Parse(await page.Locator("body").InnerTextAsync()))
        {
            Assert.Equal("admin", seen.RootElement.GetProperty("preferredUserName").GetString());
            var amr = seen.RootElement.GetProperty("amr").EnumerateArray().Select(m => m.GetString()).ToList();
            Assert.Contains("hwk", amr);
            Assert.Contains("mfa", amr);
            Assert.DoesNotContain("pwd", amr);
        }

        await page.GotoAsync("/account/passkeys");
        await Assertions.Expect(page.GetByTestId("passkey-last-used")).Not.ToHaveTextAsync(login["passkeys.never"]);
        await ShotAsync(page, "passkeys-4-signed-in-last-used");

        // The phone still holds the removed passkey: IdentityHub no longer knows it.
        var phoneContext = await fixture.NewContextAsync(new BrowserNewContextOptions { BaseURL = fixture.BaseAddress.ToString(), Locale = "en-US" });
        try
        {
            var phonePage = await phoneContext.NewPageAsync();
            var phoneCdp = await phoneContext.NewCDPSessionAsync(phonePage);
            await phoneCdp.SendAsync("WebAuthn.enable");
            await ImportAsync(phoneCdp, await AddAuthenticatorAsync(phoneCdp), phoneKey);
            await phonePage.GotoAsync("/account/login");
            await phonePage.GetByRole(AriaRole.Button, new() { Name = login["login.passkey"], Exact = true }).ClickAsync();
            await Assertions.Expect(phonePage.GetByTestId("login-error")).ToHaveTextAsync(login["login.error.passkey"]);
            Assert.Contains("/account/login", phonePage.Url, StringComparison.Ordinal);
            await ShotAsync(phonePage, "passkeys-5-removed-passkey-refused");
        }
        finally
        {
            await phoneContext.CloseAsync();
        }
    }

    /// <summary>A platform authenticator that verifies the user (as a fingerprint would) and answers without a prompt.</summary>
    private static async Task<string> AddAuthenticatorAsync(ICDPSession cdp)
    {
        var added = await cdp.SendAsync("WebAuthn.addVirtualAuthenticator", new Dictionary<string, object>
        {
            ["options"] = new Dictionary<string, object>
            {
                ["protocol"] = "ctap2",
                ["transport"] = "internal",
                ["hasResidentKey"] = true,
                ["hasUserVerification"] = true,
                ["isUserVerified"] = true,
                ["automaticPresenceSimulation"] = true,
            },
        });
        return added!.Value.GetProperty("authenticatorId").GetString()!;
    }

    /// <summary>Registers a passkey named <paramref name="name"/> through the page; returns the credential the authenticator made (with its private key).</summary>
    private static async Task<JsonElement> RegisterAsync(IPage page, ICDPSession cdp, string authenticator, ThemeTexts login, string name)
    {
        var form = page.GetByTestId("passkey-add");
        await form.GetByLabel(login["passkeys.newName"], new() { Exact = true }).FillAsync(name);
        await form.GetByRole(AriaRole.Button, new() { Name = login["passkeys.register"], Exact = true }).ClickAsync();
        await Assertions.Expect(page.GetByTestId("form-notice")).ToHaveTextAsync(Say(login["passkeys.added"], name));
        var held = await cdp.SendAsync("WebAuthn.getCredentials", new Dictionary<string, object> { ["authenticatorId"] = authenticator });
        var credential = Assert.Single(held!.Value.GetProperty("credentials").EnumerateArray().ToList());
        // The page names each passkey by its credential id (base64url); CDP writes base64.
        var id = credential.GetProperty("credentialId").GetString()!.TrimEnd('=').Replace('+', '-').Replace('/', '_');
        await Assertions.Expect(page.Locator($"[data-passkey-id='{id}']")).ToHaveCountAsync(1);
        return credential.Clone();
    }

    private static async Task ImportAsync(ICDPSession cdp, string authenticator, JsonElement credential) =>
        await cdp.SendAsync("WebAuthn.addCredential", new Dictionary<string, object> { ["authenticatorId"] = authenticator, ["credential"] = credential });

    /// <summary>A theme text with its one value filled in.</summary>
    private static string Say(string text, string value) => string.Format(System.Globalization.CultureInfo.InvariantCulture, text, value);
}
