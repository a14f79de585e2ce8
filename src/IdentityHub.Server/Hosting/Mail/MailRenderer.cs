using System.Collections.Concurrent;
using System.Globalization;
using System.Text.Encodings.Web;
using System.Text.Json;
using Fluid;
using IdentityHub.Core.Themes;
using IdentityHub.Data.Mail;
using MimeKit;

namespace IdentityHub.Server.Hosting.Mail;

/// <summary>
/// Turns a queued mail into a MIME message: <c>email/&lt;template&gt;.liquid</c> (HTML) and <c>email/&lt;template&gt;.txt.liquid</c>
/// (plain text) of the global theme (<c>Themes:Name</c>: a mail has no application's sign-in flow), with the theme's texts
/// as <c>t["key"]</c> (themselves Liquid over the mail's values) and the subject from <c>t["&lt;prefix&gt;.subject"]</c>.
/// Files and texts fall back to <c>default</c> by the rules of <see cref="ThemeFiles"/> and <see cref="ThemeMessages"/>, and are
/// read when a mail is rendered, so a theme's change shows without a restart.
/// </summary>
public sealed class MailRenderer(ThemeFiles files, ThemeSelection selection, ThemeMessages messages, MailSettings settings)
{
    private static readonly FluidParser Parser = new();
    private static readonly TemplateOptions Options = new TemplateOptionsBuilder().WithMaxSteps(100_000).WithMaxOutputSize(512 * 1024).Build();
    private readonly ConcurrentDictionary<string, (DateTime Written, IFluidTemplate Template)> _parsed = new(StringComparer.Ordinal);

    public MimeMessage Render(MailMessage mail, Uri serverOrigin)
    {
        ArgumentNullException.ThrowIfNull(mail);
        ArgumentNullException.ThrowIfNull(serverOrigin);
        var culture = CultureOf(mail.Locale);
        var values = JsonSerializer.Deserialize<Dictionary<string, string>>(mail.Model) ?? [];
        var origin = settings.PublicOrigin ?? serverOrigin;
        if (values.TryGetValue("link", out var link) && link.StartsWith('/'))
        {
            values["link"] = new Uri(origin, link).AbsoluteUri;
        }

        if (values.TryGetValue("expiresAt", out var expires) && DateTimeOffset.TryParse(expires, CultureInfo.InvariantCulture, DateTimeStyles.None, out var at))
        {
            values["expiresAt"] = at.UtcDateTime.ToString("f", culture) + " UTC";
        }

        values["origin"] = origin.GetLeftPart(UriPartial.Authority);
        var texts = messages.Texts(selection.Global, culture).ToDictionary(m => m.Key, m => RenderText(m.Value, values, culture), StringComparer.Ordinal);
        var subject = texts.GetValueOrDefault($"{Core.Directory.MailTemplates.TextPrefix(mail.Template)}.subject") ?? mail.Template;
        var body = new BodyBuilder
        {
            HtmlBody = RenderFile($"{mail.Template}.liquid", values, texts, culture, HtmlEncoder.Default),
            TextBody = RenderFile($"{mail.Template}.txt.liquid", values, texts, culture, NullEncoder.Default),
        };
        var message = new MimeMessage { Subject = subject, Body = body.ToMessageBody() };
        message.From.Add(settings.From);
        message.To.Add(new MailboxAddress(mail.ToName ?? "", mail.ToAddress));
        message.Headers.Add("Content-Language", culture.Name);
        message.Headers.Add("X-IdentityHub-Mail", mail.Id.ToString(CultureInfo.InvariantCulture));
        return message;
    }

    /// <summary>en or zh-CN (the cultures the theme has messages for); anything else falls back to English.</summary>
    private static CultureInfo CultureOf(string locale) =>
        ThemeMessages.Cultures.FirstOrDefault(c => string.Equals(c.Name, locale, StringComparison.OrdinalIgnoreCase))
        ?? ThemeMessages.Cultures.FirstOrDefault(c => locale.StartsWith(c.TwoLetterISOLanguageName, StringComparison.OrdinalIgnoreCase))
        ?? ThemeMessages.Cultures[0];

    private string RenderFile(string fileName, Dictionary<string, string> values, Dictionary<string, string> texts, CultureInfo culture, TextEncoder encoder)
    {
        var file = files.Find(selection.Global, $"email/{fileName}")
            ?? throw new InvalidOperationException($"The mail template 'email/{fileName}' is neither in theme '{selection.Global}' nor in '{ThemeFolders.Default}'.");
        var path = file.PhysicalPath ?? file.Name;
        var written = file.LastModified.UtcDateTime;
        if (!_parsed.TryGetValue(path, out var cached) || cached.Written != written)
        {
            using var reader = new StreamReader(file.CreateReadStream());
            cached = (written, Parse(reader.ReadToEnd(), path));
            _parsed[path] = cached;
        }

        var context = Context(values, culture);
        context.SetValue("t", texts);
        return cached.Template.Render(context, encoder);
    }

    private static string RenderText(string text, Dictionary<string, string> values, CultureInfo culture) =>
        text.Contains("{{", StringComparison.Ordinal) ? Parse(text, "a message").Render(Context(values, culture), NullEncoder.Default) : text;

    private static TemplateContext Context(Dictionary<string, string> values, CultureInfo culture)
    {
        var context = new TemplateContext(Options) { CultureInfo = culture };
        foreach (var (key, value) in values)
        {
            context.SetValue(key, value);
        }

        return context;
    }

    private static IFluidTemplate Parse(string source, string what) =>
        Parser.TryParse(source, out var template, out var error)
            ? template
            : throw new InvalidOperationException($"The mail template {what} is not valid Liquid: {error}");
}
