using System.Collections.Concurrent;
using System.Text.Encodings.Web;
using Fluid;
using Fluid.Values;

namespace IdentityHub.Server.Hosting;

/// <summary>
/// Page templates a theme may hold, in Liquid (Fluid): <c>login/login.liquid</c> replaces the sign-in page's Razor markup,
/// <c>account/portal.liquid</c> the portal's (see <see cref="ThemePages"/>).
/// Looked up in the request's theme, then in <c>default</c> (which ships none, so the Razor page is the default). A
/// parsed template is kept until its file changes; one that does not parse is logged once per version and not used.
/// </summary>
public sealed partial class ThemeTemplates(ThemeFiles files, HtmlEncoder encoder, ILogger<ThemeTemplates> logger)
{
    /// <summary>The sign-in page's template.</summary>
    public const string Login = "login/login.liquid";

    /// <summary>The portal's template (<c>/</c>).</summary>
    public const string Portal = "account/portal.liquid";

    private static readonly FluidParser Parser = new();

    // A theme is trusted configuration, but a loop in it must not hold a request thread forever.
    private static readonly TemplateOptions Options = new TemplateOptionsBuilder().WithMaxSteps(100_000).WithMaxOutputSize(1024 * 1024).Build();
    private readonly ConcurrentDictionary<string, Parsed> _parsed = new(StringComparer.Ordinal);

    /// <summary>The template at <paramref name="path"/> of <paramref name="theme"/> (else default), or null: none, or it does not parse.</summary>
    public IFluidTemplate? Find(string theme, string path)
    {
        if (files.Find(theme, path) is not { PhysicalPath: { } file } info)
        {
            return null;
        }

        var stamp = $"{info.LastModified.UtcTicks:x}-{info.Length:x}";
        if (_parsed.TryGetValue(file, out var known) && known.Stamp == stamp)
        {
            return known.Template;
        }

        var parsed = new Parsed(stamp, Parse(file));
        _parsed[file] = parsed;
        return parsed.Template;
    }

    /// <summary>
    /// Renders <paramref name="template"/> with <paramref name="model"/> as its top-level values, every output HTML-encoded
    /// unless the template says <c>| raw</c> (with the encoder Razor pages use: markup characters encoded, Chinese kept as
    /// text); null (logged) when rendering fails, so the caller shows its built-in page.
    /// </summary>
    public async Task<string?> RenderAsync(IFluidTemplate template, IReadOnlyDictionary<string, object?> model, string name)
    {
        ArgumentNullException.ThrowIfNull(template);
        ArgumentNullException.ThrowIfNull(model);
        var context = new TemplateContext(Options);
        foreach (var (key, value) in model)
        {
            // Dictionaries become Liquid objects (messages["login.title"], form.action), lists arrays.
            context.SetValue(key, FluidValue.Create(value, Options));
        }

        try
        {
            return await template.RenderAsync(context, encoder);
        }
        catch (Exception e) when (e is InvalidOperationException or ParseException or ArgumentException or FormatException)
        {
            LogRenderFailed(logger, name, e.Message);
            return null;
        }
    }

    private IFluidTemplate? Parse(string file)
    {
        string source;
        try
        {
            source = File.ReadAllText(file);
        }
        catch (IOException e)
        {
            LogParseFailed(logger, file, e.Message);
            return null;
        }

        if (Parser.TryParse(source, out var template, out var error))
        {
            return template;
        }

        LogParseFailed(logger, file, error);
        return null;
    }

    [LoggerMessage(Level = LogLevel.Error, Message = "Theme template {File} cannot be used, the built-in page is shown instead: {Error}")]
    private static partial void LogParseFailed(ILogger logger, string file, string error);

    [LoggerMessage(Level = LogLevel.Error, Message = "Theme template {Template} failed to render, the built-in page is shown instead: {Error}")]
    private static partial void LogRenderFailed(ILogger logger, string template, string error);

    private sealed record Parsed(string Stamp, IFluidTemplate? Template);
}
