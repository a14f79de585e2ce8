using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using IdentityHub.Data;
using IdentityHub.Server.Hosting;
using IdentityHub.Server.IntegrationTests.AdminApi;
using IdentityHub.Server.IntegrationTests.Themes;
using IdentityHub.Testing;
using Microsoft.AspNetCore.Hosting;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace IdentityHub.Server.IntegrationTests.Account;

/// <summary>
/// A mail server (<see cref="MailServer"/>) whose global theme (<c>Themes:Name</c>) is <c>mailco</c>: a theme holding only
/// <c>email/invitation.liquid</c> and an English <c>invite.heading</c>; every other mail file and text comes from default.
/// </summary>
public sealed class ThemedMailServer : MailServer
{
    public const string Theme = "mailco";
    public const string Marker = "mailco-invitation-template";
    public const string Heading = "Welcome aboard Mailco";

    public string Root { get; } = Directory.CreateTempSubdirectory("identityhub-mailthemes-").FullName;

    public ThemedMailServer()
    {
        ThemesFactory.CopyFolder(ThemesFactory.DefaultFolder, Path.Combine(Root, "default"));
        var email = Directory.CreateDirectory(Path.Combine(Root, Theme, "email")).FullName;
        File.WriteAllText(Path.Combine(email, "invitation.liquid"),
            $"<html><body><p id=\"marker\">{Marker}</p><h1>{{{{ t[\"invite.heading\"] }}}}</h1><p>{{{{ t[\"invite.body\"] }}}}</p>"
            + "<a href=\"{{ link }}\">{{ t[\"invite.action\"] }}</a></body></html>");
        File.WriteAllText(Path.Combine(email, "messages.en.json"), JsonSerializer.Serialize(new Dictionary<string, string> { ["invite.heading"] = Heading }));
    }

    public override async Task DisposeAsync()
    {
        await base.DisposeAsync();
        Directory.Delete(Root, recursive: true);
    }

    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        base.ConfigureWebHost(builder);
        builder.UseSetting("Themes:Path", Root);
        builder.UseSetting("Themes:Name", Theme);
    }
}

/// <summary>Mails take the global theme's files and texts, falling back to default file by file and key by key.</summary>
public sealed class MailThemeTests(ThemedMailServer factory) : IClassFixture<ThemedMailServer>
{
    private static readonly IReadOnlyDictionary<string, string> DefaultEnglish = ThemeMessages.Load(ThemesFactory.DefaultFolder, ThemeMessages.English);
    private static readonly IReadOnlyDictionary<string, string> DefaultChinese = ThemeMessages.Load(ThemesFactory.DefaultFolder, ThemeMessages.Chinese);

    [PrerequisiteFact]
    public async Task Invitation_GlobalThemeHasItsTemplate_UsesItWithTheMissingTextsFromDefault()
    {
        var (name, email) = await InviteAsync(locale: null);

        var mail = await factory.Sink.WaitForAsync(email);
        var html = WebUtility.HtmlDecode(mail.HtmlBody);

        Assert.Contains(ThemedMailServer.Marker, html, StringComparison.Ordinal);
        Assert.Contains($"<h1>{ThemedMailServer.Heading}</h1>", html, StringComparison.Ordinal);
        // invite.body is not in the theme: default's text, rendered over the mail's values.
        Assert.Contains(DefaultEnglish["invite.body"].Replace("{{ userName }}", name, StringComparison.Ordinal), html, StringComparison.Ordinal);
        Assert.Equal(DefaultEnglish["invite.subject"], mail.Subject);
        // The theme has no plain-text template: default's.
        Assert.DoesNotContain(ThemedMailServer.Marker, mail.TextBody, StringComparison.Ordinal);
        Assert.Contains("/account/invitation", mail.TextBody, StringComparison.Ordinal);
    }

    [PrerequisiteFact]
    public async Task Invitation_InChinese_TakesDefaultsChineseTextOverTheThemesEnglishOne()
    {
        var (_, email) = await InviteAsync(locale: ThemeMessages.Chinese);

        var mail = await factory.Sink.WaitForAsync(email);
        var html = WebUtility.HtmlDecode(mail.HtmlBody);

        Assert.Contains(ThemedMailServer.Marker, html, StringComparison.Ordinal);
        Assert.Contains($"<h1>{DefaultChinese["invite.heading"]}</h1>", html, StringComparison.Ordinal);
        Assert.DoesNotContain(ThemedMailServer.Heading, html, StringComparison.Ordinal);
        Assert.Equal(DefaultChinese["invite.subject"], mail.Subject);
    }

    private async Task<(string Name, string Email)> InviteAsync(string? locale)
    {
        using var admin = await AdminApiClient.CreateAdminAsync(factory);
        var name = "mailco-" + Guid.NewGuid().ToString("N")[..8];
        var email = $"{name}@example.test";
        var created = await admin.PostAsJsonAsync("/api/admin/v1/users", new { userName = name, displayName = "Mailco " + name, email });
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        var id = (await created.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetString()!;
        if (locale is not null)
        {
            await using var scope = factory.Services.CreateAsyncScope();
            var db = scope.ServiceProvider.GetRequiredService<IdentityHubDbContext>();
            var user = await db.Users.SingleAsync(u => u.Id == id);
            user.PreferredLocale = locale;
            await db.SaveChangesAsync();
        }

        var invited = await admin.PostAsync($"/api/admin/v1/users/{id}/invitation", null);
        Assert.True(invited.IsSuccessStatusCode, $"invitation: {(int)invited.StatusCode}");
        return (name, email);
    }
}
