using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text.Json;
using IdentityHub.Testing;
using Microsoft.Playwright;

namespace IdentityHub.Interop.Tests;

/// <summary>
/// samlify (npm) as the SAML service provider (issue 5, point 5b): registered from its own metadata,
/// SP-initiated login over HTTP-Redirect through IdentityHub's real sign-in page in Chromium, the Response
/// validated by samlify (signatures, schema via xmllint-wasm, audience, times), then single logout.
/// </summary>
[Requires(Prerequisite.Node)]
[Requires(Prerequisite.Browser)]
public sealed class SamlifyServiceProviderTests(InteropServer idp) : IClassFixture<InteropServer>
{
    [PrerequisiteFact]
    public async Task SpInitiatedLoginAndSingleLogout_Samlify_ValidatesTheResponseAndTheLogoutResponse()
    {
        // The SP's endpoints: nothing listens there; the browser's requests to them are intercepted.
        var spBase = $"http://127.0.0.1:{ServerProcess.FreePort()}";
        var environment = SpEnvironment(spBase);
        var metadata = await StepAsync(environment, "metadata");
        await idp.RegisterSamlServiceProviderAsync("samlify sp", metadata.GetProperty("metadata").GetString()!);
        await using var chromium = await HeadlessChromium.LaunchAsync();
        var page = await chromium.NewPageAsync();
        var acsPost = new TaskCompletionSource<Dictionary<string, string>>(TaskCreationOptions.RunContinuationsAsynchronously);
        var sloQuery = new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously);
        await page.RouteAsync(url => url.StartsWith($"{spBase}/acs", StringComparison.Ordinal), async route =>
        {
            acsPost.TrySetResult(Form(route.Request.PostData ?? ""));
            await route.FulfillAsync(new() { Status = 200, Body = "acs" });
        });
        // Playwright does not intercept the targets of redirects: fetch the IdP's answer here, keep its
        // cookies (the session ends) and take the SP-bound Location instead of following it.
        await page.RouteAsync(url => url.Contains("/saml/slo?SAMLRequest=", StringComparison.Ordinal), async route =>
        {
            var answer = await route.FetchAsync(new() { MaxRedirects = 0 });
            var location = answer.Headers.TryGetValue("location", out var l) ? l : "";
            sloQuery.TrySetResult(location.StartsWith($"{spBase}/slo?", StringComparison.Ordinal) ? new Uri(location).Query : "not redirected to the SP: " + location);
            var headers = answer.Headers.Where(h => h.Key != "location").ToDictionary(h => h.Key, h => h.Value);
            await route.FulfillAsync(new() { Status = 200, Headers = headers, Body = "slo" });
        });

        // Login: samlify's signed AuthnRequest, the real sign-in page, the auto-posted Response.
        var login = await StepAsync(environment, "login-request");
        await page.GotoAsync(login.GetProperty("url").GetString()!);
        await page.WaitForURLAsync("**/account/login**");
        await page.GetByLabel("User name").FillAsync("admin");
        await page.GetByLabel("Password").FillAsync(InteropServer.AdminPassword);
        await page.GetByRole(AriaRole.Button, new() { Name = "Sign in" }).ClickAsync();
        var posted = await acsPost.Task.WaitAsync(TimeSpan.FromSeconds(30));
        Assert.Equal("samlify-relay", posted["RelayState"]);
        var response = await StepAsync(environment, "parse-login-response",
            ("SAML_RESPONSE", posted["SAMLResponse"]), ("RELAY_STATE", posted["RelayState"]));

        Assert.Equal(login.GetProperty("id").GetString(), response.GetProperty("inResponseTo").GetString());
        Assert.Equal(idp.LoopbackIssuer + "saml/metadata", response.GetProperty("issuer").GetString());
        var attributes = response.GetProperty("attributes");
        Assert.Equal([InteropServer.ApplicationRole], Values(attributes.GetProperty("roles")));
        Assert.Equal(["expense.approve"], Values(attributes.GetProperty("permissions")));
        Assert.False(string.IsNullOrEmpty(response.GetProperty("nameID").GetString()));
        var sessionIndex = response.GetProperty("sessionIndex").GetString()!;

        // Single logout: samlify's signed LogoutRequest ends the IdP session; samlify verifies the LogoutResponse.
        var logout = await StepAsync(environment, "logout-request",
            ("NAME_ID", response.GetProperty("nameID").GetString()!), ("SESSION_INDEX", sessionIndex));
        await page.GotoAsync(logout.GetProperty("url").GetString()!);
        var query = await sloQuery.Task.WaitAsync(TimeSpan.FromSeconds(30));
        var logoutResponse = await StepAsync(environment, "parse-logout-response", ("RAW_QUERY", query));

        Assert.Equal(logout.GetProperty("id").GetString(), logoutResponse.GetProperty("inResponseTo").GetString());
        Assert.Equal("samlify-logout", logoutResponse.GetProperty("relayState").GetString());
        var again = await StepAsync(environment, "login-request");
        await page.GotoAsync(again.GetProperty("url").GetString()!);
        await page.WaitForURLAsync("**/account/login**");
        await page.ScreenshotAsync(new() { Path = Path.Combine(TestEnvironment.ArtifactsDirectory, "samlify-after-logout.png") });
    }

    private Dictionary<string, string> SpEnvironment(string spBase)
    {
        using var rsa = RSA.Create(2048);
        var request = new CertificateRequest("CN=samlify sp", rsa, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        using var certificate = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddYears(1));
        return new Dictionary<string, string>
        {
            ["IDP_METADATA_URL"] = idp.LoopbackIssuer + "saml/metadata",
            ["SP_ENTITY_ID"] = $"{spBase}/metadata",
            ["SP_ACS"] = $"{spBase}/acs",
            ["SP_SLO"] = $"{spBase}/slo",
            ["SP_KEY_PEM"] = rsa.ExportPkcs8PrivateKeyPem(),
            ["SP_CERT_PEM"] = certificate.ExportCertificatePem(),
        };
    }

    private static Task<JsonElement> StepAsync(Dictionary<string, string> environment, string step, params (string Name, string Value)[] extra)
    {
        var values = new Dictionary<string, string>(environment) { ["SAML_STEP"] = step };
        foreach (var (name, value) in extra)
        {
            values[name] = value;
        }

        return NodeScript.RunAsync("saml-sp.mjs", values);
    }

    private static Dictionary<string, string> Form(string body) =>
        body.Split('&', StringSplitOptions.RemoveEmptyEntries)
            .Select(p => p.Split('=', 2))
            .ToDictionary(p => Uri.UnescapeDataString(p[0].Replace('+', ' ')), p => Uri.UnescapeDataString(p.Length > 1 ? p[1].Replace('+', ' ') : ""));

    private static IEnumerable<string?> Values(JsonElement attribute) =>
        attribute.ValueKind == JsonValueKind.Array ? attribute.EnumerateArray().Select(v => v.GetString()) : [attribute.GetString()];
}
