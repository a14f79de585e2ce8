using System.Globalization;
using System.Net;
using System.Net.Http.Json;
using System.Text.RegularExpressions;
using IdentityHub.Server.Hosting;
using IdentityHub.Server.IntegrationTests.AdminApi;
using IdentityHub.Testing;
using Microsoft.AspNetCore.Mvc.RazorPages;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;

namespace IdentityHub.Server.IntegrationTests.Themes;

/// <summary>
/// Every Razor page an employee or administrator can open with a GET, signed in as the administrator, in English and in
/// Chinese: no English message (or English phrase outside the theme's Chinese texts) on a Chinese page, no text on an
/// English page that is not one of its messages, and the two message files with the same keys.
/// </summary>
public sealed partial class LanguageWalkTests(SqliteFactory factory) : IClassFixture<SqliteFactory>
{
    /// <summary>Pages no GET shows on its own: a POST-only form, protocol endpoints that need a client's request.</summary>
    private static readonly Dictionary<string, string> NotWalked = new(StringComparer.Ordinal)
    {
        ["/account/logout"] = "POST only",
        ["/language"] = "the switch posts; a GET goes to /",
        ["/account/login/mfa"] = "only after a password step (MfaTests and the browser tests)",
        ["/connect/authorize"] = "needs a client's authorize request (consent texts are messages: scope.*, consent.*)",
        ["/connect/endsession"] = "needs a client's logout request (texts are messages: endsession.*)",
    };

    private static string DefaultFolder => Path.Combine(TestEnvironment.SolutionRoot, "themes", "default");

    [Fact]
    public void MessageFiles_EverySection_HasTheSameKeysInEnglishAndChinese()
    {
        foreach (var section in ThemeMessages.Sections)
        {
            var english = Keys(section, ThemeMessages.English);
            var chinese = Keys(section, ThemeMessages.Chinese);
            Assert.True(english.SetEquals(chinese),
                $"{section}: only in English [{string.Join(", ", english.Except(chinese))}], only in Chinese [{string.Join(", ", chinese.Except(english))}]");
        }
    }

    [Theory]
    [InlineData(ThemeMessages.English)]
    [InlineData(ThemeMessages.Chinese)]
    public async Task EveryGetPage_InOneLanguage_ShowsOnlyThatLanguagesMessages(string culture)
    {
        var data = await CreateDataAsync();
        var anonymous = factory.CreateClient(new WebApplicationFactoryClientOptions { AllowAutoRedirect = true, HandleCookies = true });
        var admin = factory.CreateClient(new WebApplicationFactoryClientOptions { AllowAutoRedirect = true, HandleCookies = true });
        Assert.Equal(HttpStatusCode.OK, (await BrowserSession.SignInAsync(admin, "admin", IdentityHubFactory.AdminPassword)).StatusCode);
        var english = Templates(ThemeMessages.English);
        var chinese = Templates(ThemeMessages.Chinese);
        // A message that is only placeholders and punctuation ("{0} · {1}") says nothing about the language.
        var englishOnly = english.Where(e => e.HasWords && !chinese.Any(c => c.Text == e.Text)).ToList();
        var mine = (culture == ThemeMessages.English ? english : chinese).Where(m => m.HasWords).ToList();
        var problems = new List<string>();
        var walked = 0;

        foreach (var route in PageRoutes())
        {
            if (NotWalked.ContainsKey(route))
            {
                continue;
            }

            var address = Fill(route, data);
            Assert.False(address is null, $"The page {route} needs an id this test does not create: add it to CreateDataAsync.");
            var client = route == "/account/login" ? anonymous : admin;
            using var request = new HttpRequestMessage(HttpMethod.Get, address);
            request.Headers.AcceptLanguage.ParseAdd(culture);
            using var response = await client.SendAsync(request);
            var html = await response.Content.ReadAsStringAsync();
            Assert.True((int)response.StatusCode < 500, $"{address} answered {(int)response.StatusCode}");
            walked++;
            if (html.Contains("<html", StringComparison.Ordinal) && !html.Contains($"<html lang=\"{culture}\">", StringComparison.Ordinal))
            {
                problems.Add($"{address}: <html lang> is not {culture}");
            }

            foreach (var text in TextNodes(html).Where(t => !IsData(t, data.Values)))
            {
                if (culture == ThemeMessages.Chinese && englishOnly.Any(e => e.Matches(text) || e.IsPhraseIn(text)))
                {
                    problems.Add($"{address}: English message \"{text}\" on the Chinese page");
                }
                else if (!mine.Any(m => m.Matches(text)) && Residue(text, mine) is var residue
                    && (EnglishPhrase().IsMatch(residue) || (culture == ThemeMessages.English && Cjk().IsMatch(residue))))
                {
                    problems.Add($"{address}: \"{text}\" is not one of the {culture} messages");
                }
            }
        }

        Assert.True(walked >= 25, $"Only {walked} pages walked.");
        Assert.True(problems.Count == 0, string.Join("\n", problems.Distinct()));
    }

    /// <summary>The route templates of the Razor pages, from the endpoint data source (a new page is walked without editing this test).</summary>
    private IEnumerable<string> PageRoutes() =>
        factory.Services.GetRequiredService<EndpointDataSource>().Endpoints.OfType<RouteEndpoint>()
            .Where(e => e.Metadata.GetMetadata<PageActionDescriptor>() is not null)
            .Select(e => "/" + (e.RoutePattern.RawText ?? "").TrimStart('/'))
            .Distinct().OrderBy(r => r, StringComparer.Ordinal);

    private static string? Fill(string route, WalkData data)
    {
        var missing = false;
        var address = RouteParameter().Replace(route, match =>
        {
            var key = route[..match.Index].TrimEnd('/').Split('/')[^1] + "/" + match.Groups[1].Value;
            if (data.Ids.TryGetValue(key, out var id))
            {
                return id;
            }

            missing |= !match.Value.Contains('?', StringComparison.Ordinal);
            return "";
        });
        return missing ? null : address.TrimEnd('/') is { Length: > 0 } trimmed ? trimmed : "/";
    }

    /// <summary>One of everything a page with an id shows, created through the admin API; ids by "segment before/parameter".</summary>
    private async Task<WalkData> CreateDataAsync()
    {
        var admin = await AdminApiClient.CreateAdminAsync(factory);
        var n = Guid.NewGuid().ToString("N")[..6];
        var department = await AdminCallers.CreateDepartmentAsync(admin, name: $"walk-department-{n}");
        var user = await AdminCallers.CreateUserAsync(admin, department, displayName: $"walk-person-{n}");
        var application = await AdminApiClient.CreateApplicationAsync(admin, $"walk-application-{n}");
        var permission = (await AdminCallers.PostAsync(admin, $"{AdminApiClient.Applications}/{application}/permissions", new { name = $"walk.permission{n}", description = $"walk-permission-{n}" }))
            .GetProperty("id").GetGuid();
        var role = (await AdminCallers.PostAsync(admin, AdminCallers.Roles, new { applicationId = application, name = $"walk-role-{n}", permissions = new[] { new { permissionId = permission } } }))
            .GetProperty("id").GetGuid();
        var connector = (await AdminCallers.PostAsync(admin, $"{AdminApiClient.Applications}/{application}/connectors",
            new { kind = "webhook", name = $"walk-connector-{n}", settings = new { url = "https://hooks.example.com/walk" } })).GetProperty("id").GetGuid();
        var source = (await AdminCallers.PostAsync(admin, SourcesApiTests<SqliteFactory>.Sources, new { name = $"walk-source-{n}", kind = "scim", subtrees = new[] { department } }))
            .GetProperty("id").GetGuid();
        return new WalkData(
            new Dictionary<string, string>(StringComparer.Ordinal)
            {
                ["applications/id"] = application.ToString(),
                ["permissions/permissionId"] = permission.ToString(),
                ["departments/id"] = department.ToString(),
                ["users/id"] = user,
                ["edit/id"] = user,
                ["roles/id"] = role.ToString(),
                ["provisioning/id"] = connector.ToString(),
                ["sources/id"] = source.ToString(),
            },
            // The seeded admin API client's name, and the vendors' own names in the REST presets' titles.
            ["walk-", "walk.", "hooks.example.com", "IdentityHub administration (bootstrap)", "i人事", "合思"]);
    }

    /// <summary>Data, not text: names this test created, numbers, dates, ids, addresses, codes.</summary>
    private static bool IsData(string text, IReadOnlyList<string> values) =>
        !text.Any(char.IsLetter) || values.Any(v => text.Contains(v, StringComparison.Ordinal)) || Technical().IsMatch(text) || ActorNames.Contains(text);

    /// <summary>Actor names the audit trail records and the console shows as they are: the first administrator, the bootstrap API client, and the actor of a refused anonymous sign-in.</summary>
    private static readonly string[] ActorNames = ["admin", "identityhub-admin", "anonymous"];

    /// <summary>The visible text nodes of a page: outside scripts, styles and code, whitespace collapsed.</summary>
    private static IEnumerable<string> TextNodes(string html)
    {
        var visible = Hidden().Replace(html, " ");
        return Tag().Split(visible).Select(t => Whitespace().Replace(WebUtility.HtmlDecode(t), " ").Trim()).Where(t => t.Length > 0);
    }

    /// <summary>What is left of a text node made of several messages side by side once their fixed parts are taken out.</summary>
    private static string Residue(string text, IEnumerable<Template> messages) =>
        messages.SelectMany(m => m.Fragments).OrderByDescending(f => f.Length)
            .Aggregate(text, (rest, fragment) => rest.Replace(fragment, " ", StringComparison.Ordinal));

    private static List<Template> Templates(string culture) =>
        [.. ThemeMessages.Load(DefaultFolder, culture).Values.Distinct().Select(v => new Template(v))];

    private static HashSet<string> Keys(string section, string culture)
    {
        var file = Path.Combine(DefaultFolder, section, $"messages.{culture}.json");
        return File.Exists(file)
            ? [.. System.Text.Json.JsonSerializer.Deserialize<Dictionary<string, string>>(File.ReadAllText(file))!.Keys]
            : [];
    }

    private sealed record WalkData(Dictionary<string, string> Ids, IReadOnlyList<string> Values);

    /// <summary>A message as a pattern: its {0} placeholders match any value; punctuation at either end is ignored.</summary>
    private sealed class Template(string text)
    {
        private readonly Regex _pattern = new(
            "^" + Placeholder().Replace(Regex.Escape(Strip(text)), ".*") + "$", RegexOptions.Singleline | RegexOptions.CultureInvariant);

        public string Text { get; } = text;

        public bool HasWords { get; } = PlaceholderText().Replace(text, "").Count(char.IsLetter) >= 2;

        /// <summary>The message's fixed parts between its placeholders.</summary>
        public IReadOnlyList<string> Fragments { get; } = [.. PlaceholderText().Split(text).Select(f => f.Trim()).Where(f => f.Count(char.IsLetter) >= 2)];

        /// <summary>Whether a fixed part of two words or more appears inside <paramref name="node"/>.</summary>
        public bool IsPhraseIn(string node) => Fragments.Any(f => f.Contains(' ', StringComparison.Ordinal) && EnglishPhrase().IsMatch(f) && node.Contains(f, StringComparison.Ordinal));

        public bool Matches(string node) => _pattern.IsMatch(Strip(node));

        private static string Strip(string value) => Whitespace().Replace(value, " ").Trim().Trim(
            ['.', '。', ':', '：', '·', '←', '→', '…', '!', '！', '?', '？', '(', ')', '（', '）', ' ', '"', '“', '”', '-', '—', ',', '，']);
    }

    [GeneratedRegex(@"\{(\w+)(?::[^}]*)?\??\}")]
    private static partial Regex RouteParameter();

    [GeneratedRegex(@"\\\{\d+}")]
    private static partial Regex Placeholder();

    [GeneratedRegex(@"<(script|style|code|pre|textarea|title)\b.*?</\1>|<!--.*?-->", RegexOptions.Singleline | RegexOptions.IgnoreCase)]
    private static partial Regex Hidden();

    [GeneratedRegex(@"\{\d+\}")]
    private static partial Regex PlaceholderText();

    [GeneratedRegex("<[^>]*>")]
    private static partial Regex Tag();

    [GeneratedRegex(@"\s+")]
    private static partial Regex Whitespace();

    [GeneratedRegex(@"[A-Za-z]{2,}[\s,'’]+[A-Za-z]{2,}")]
    private static partial Regex EnglishPhrase();

    [GeneratedRegex(@"\p{IsCJKUnifiedIdeographs}")]
    private static partial Regex Cjk();

    [GeneratedRegex(@"^([\w.+-]+@[\w.-]+|https?://\S+|[0-9a-f-]{36}|[\w.-]+\.[a-z]{2,}(/\S*)?)$", RegexOptions.IgnoreCase)]
    private static partial Regex Technical();
}
