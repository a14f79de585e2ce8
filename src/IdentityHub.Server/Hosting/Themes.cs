using System.Collections.Concurrent;
using IdentityHub.Core.Themes;
using IdentityHub.Data;
using IdentityHub.Server.Saml;
using Microsoft.AspNetCore.StaticFiles;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.FileProviders;
using Microsoft.Net.Http.Headers;

namespace IdentityHub.Server.Hosting;

/// <summary>
/// Themes as Keycloak's: folders <c>themes/&lt;name&gt;/{login,account,email,admin}</c> under <c>Themes:Path</c>; the global
/// one is <c>Themes:Name</c>, an application may choose its own for the pages of its sign-in flow. A theme holds only
/// what it changes: files and message keys it lacks come from <c>default</c>. Served under <c>/theme</c>.
/// </summary>
public static class Themes
{
    public const string RequestPath = "/theme";

    /// <summary>The query parameter of a <c>/theme</c> address naming a theme other than the global one.</summary>
    public const string QueryParameter = "theme";

    /// <summary>The first path segment <c>~&lt;name&gt;</c> of a <c>/theme</c> address naming its theme (see <see cref="ThemeFiles.BaseUrl"/>).</summary>
    public const char PathPrefix = '~';

    public static void AddIdentityHubThemes(this WebApplicationBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        var services = builder.Services;
        var root = RootOf(builder.Configuration, builder.Environment.ContentRootPath);
        var global = builder.Configuration["Themes:Name"] is { Length: > 0 } name ? name : ThemeFolders.Default;
        services.AddHttpContextAccessor();
        services.AddSingleton(sp => new ThemeFolders(root, sp.GetRequiredService<TimeProvider>()));
        services.AddSingleton(sp => new ThemeSelection(sp.GetRequiredService<ThemeFolders>(), global));
        services.AddSingleton<ThemeFiles>();
        services.AddSingleton<ThemeTemplates>();
        services.AddSingleton<ThemePages>();
        services.AddSingleton(sp => new ThemeMessages(
            sp.GetRequiredService<ThemeFolders>(), global, sp.GetRequiredService<IHttpContextAccessor>(), sp.GetRequiredService<TimeProvider>()));
    }

    /// <summary>Chooses each request's theme (before the pages and the language), then serves <c>/theme/...</c> with fallback.</summary>
    public static void UseIdentityHubTheme(this WebApplication app)
    {
        ArgumentNullException.ThrowIfNull(app);
        var selection = app.Services.GetRequiredService<ThemeSelection>();
        var folders = app.Services.GetRequiredService<ThemeFolders>();
        foreach (var required in new[] { ThemeFolders.Default, selection.Global }.Distinct())
        {
            if (!Directory.Exists(Path.Combine(folders.Root, required)))
            {
                throw new StartupException($"Theme folder '{Path.Combine(folders.Root, required)}' does not exist: check Themes:Path and Themes:Name.");
            }
        }

        app.Use(async (context, next) =>
        {
            await selection.ChooseAsync(context);
            await next(context);
        });
        var files = app.Services.GetRequiredService<ThemeFiles>();
        app.Use(async (context, next) =>
        {
            if (!context.Request.Path.StartsWithSegments(RequestPath, out var rest) || !(HttpMethods.IsGet(context.Request.Method) || HttpMethods.IsHead(context.Request.Method)))
            {
                await next(context);
                return;
            }

            var path = rest.Value ?? "";
            var theme = context.Request.Query[QueryParameter].ToString() is { Length: > 0 } asked && folders.Exists(asked) ? asked : selection.Global;
            if (path.StartsWith("/" + PathPrefix, StringComparison.Ordinal) && path.IndexOf('/', 1) is > 2 and var end)
            {
                // /theme/~acme/login/site.css: the theme named in the path, so a template can append file names to a base address.
                var named = path[2..end];
                theme = folders.Exists(named) ? named : selection.Global;
                path = path[end..];
            }

            await files.ServeAsync(context, theme, path);
        });
    }

    /// <summary>The folder holding the themes: <c>Themes:Path</c>, else <c>themes</c> next to the binaries.</summary>
    public static string RootOf(IConfiguration configuration, string contentRoot)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        return configuration["Themes:Path"] is { Length: > 0 } configured
            ? Path.GetFullPath(configured, contentRoot)
            : Path.Combine(AppContext.BaseDirectory, "themes");
    }
}

/// <summary>The theme of each request: its sign-in flow's application's, when that has one that exists, else the global one.</summary>
public sealed class ThemeSelection(ThemeFolders folders, string global)
{
    private const string ItemKey = "identityhub.theme";
    private const string ApplicationKey = "identityhub.theme.application";

    public string Global { get; } = global;

    /// <summary>The theme chosen for <paramref name="context"/> (the global one outside a request).</summary>
    public string Of(HttpContext? context) => context?.Items[ItemKey] as string ?? Global;

    /// <summary>Whether the request's pages use another theme than the global one (their theme addresses then name it).</summary>
    public bool IsApplicationTheme(HttpContext? context) => Of(context) != Global;

    public async Task ChooseAsync(HttpContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        if (context.Items.ContainsKey(ItemKey))
        {
            return;
        }

        var application = await SignInFlow.OfAsync(context) is { } flow ? await ApplicationOfAsync(context, flow) : null;
        context.Items[ApplicationKey] = application?.Name;
        context.Items[ItemKey] = application?.Theme is { } theme && folders.Exists(theme) ? theme : Global;
    }

    /// <summary>The name of the application the request's sign-in flow is for, if it has one.</summary>
    public static string? ApplicationOf(HttpContext? context) => context?.Items[ApplicationKey] as string;

    private static async Task<FlowApplication?> ApplicationOfAsync(HttpContext context, SignInFlow flow)
    {
        var db = context.RequestServices.GetRequiredService<IdentityHubDbContext>();
        if (flow.ClientId is { } clientId)
        {
            return await db.Applications.AsNoTracking().Where(a => a.OidcClientId == clientId)
                .Select(a => new FlowApplication(a.Name, a.Theme)).FirstOrDefaultAsync(context.RequestAborted);
        }

        if (flow.SamlResume is { } resume && SamlLoginResume.ServiceProviderOf(context, resume) is { } providerId)
        {
            return await db.SamlServiceProviders.AsNoTracking().Where(s => s.Id == providerId)
                .Join(db.Applications, s => s.ApplicationId, a => a.Id, (s, a) => new FlowApplication(a.Name, a.Theme)).FirstOrDefaultAsync(context.RequestAborted);
        }

        return null;
    }

    private sealed record FlowApplication(string Name, string? Theme);
}

/// <summary>A theme's files with fallback to <c>default</c> file by file, and their addresses under <c>/theme</c>.</summary>
public sealed class ThemeFiles(ThemeFolders folders, ThemeSelection selection, IHttpContextAccessor http) : IDisposable
{
    private static readonly FileExtensionContentTypeProvider ContentTypes = new();
    private readonly ConcurrentDictionary<string, PhysicalFileProvider> _providers = new(StringComparer.Ordinal);

    /// <summary><paramref name="path"/> (<c>login/logo.svg</c>) in <paramref name="theme"/>, else in default; null when neither has it.</summary>
    public IFileInfo? Find(string theme, string path)
    {
        foreach (var name in new[] { theme, ThemeFolders.Default }.Distinct())
        {
            if (Provider(name)?.GetFileInfo(path) is { Exists: true, IsDirectory: false } file)
            {
                return file;
            }
        }

        return null;
    }

    /// <summary>Whether the current request's theme (or default) has <paramref name="path"/>.</summary>
    public bool Has(string path) => Find(selection.Of(http.HttpContext), path) is not null;

    /// <summary>Whether the current request's own theme (not default) has <paramref name="path"/>: an extra a theme may add.</summary>
    public bool ThemeHas(string path) =>
        selection.Of(http.HttpContext) is var theme && theme != ThemeFolders.Default && Provider(theme)?.GetFileInfo(path) is { Exists: true, IsDirectory: false };

    /// <summary>The address of <paramref name="path"/> in the current request's theme.</summary>
    public string Url(string path) =>
        $"{Themes.RequestPath}/{path}" + (selection.IsApplicationTheme(http.HttpContext)
            ? $"?{Themes.QueryParameter}={Uri.EscapeDataString(selection.Of(http.HttpContext))}" : "");

    /// <summary>
    /// The base address of the current request's theme files, ending in '/': <c>/theme/</c>, or <c>/theme/~acme/</c> for an
    /// application's own theme; a file's address is this followed by <c>login/site.css</c>.
    /// </summary>
    public string BaseUrl() =>
        selection.IsApplicationTheme(http.HttpContext) ? $"{Themes.RequestPath}/{Themes.PathPrefix}{selection.Of(http.HttpContext)}/" : $"{Themes.RequestPath}/";

    public async Task ServeAsync(HttpContext context, string theme, string path)
    {
        if (Find(theme, path) is not { } file || !ContentTypes.TryGetContentType(file.Name, out var contentType))
        {
            context.Response.StatusCode = StatusCodes.Status404NotFound;
            return;
        }

        var etag = new EntityTagHeaderValue($"\"{file.LastModified.UtcTicks:x}-{file.Length:x}\"");
        var headers = context.Response.GetTypedHeaders();
        headers.ETag = etag;
        headers.LastModified = file.LastModified;
        // A theme can change while the server runs: browsers ask again (a 304 when unchanged).
        headers.CacheControl = new CacheControlHeaderValue { NoCache = true };
        if (context.Request.GetTypedHeaders().IfNoneMatch.Any(e => e.Compare(etag, useStrongComparison: false)))
        {
            context.Response.StatusCode = StatusCodes.Status304NotModified;
            return;
        }

        context.Response.ContentType = contentType;
        context.Response.ContentLength = file.Length;
        if (HttpMethods.IsGet(context.Request.Method))
        {
            await context.Response.SendFileAsync(file, context.RequestAborted);
        }
    }

    public void Dispose()
    {
        foreach (var provider in _providers.Values)
        {
            provider.Dispose();
        }
    }

    private PhysicalFileProvider? Provider(string theme)
    {
        if (!folders.Exists(theme))
        {
            return null;
        }

        return _providers.GetOrAdd(theme, name => new PhysicalFileProvider(folders.FolderOf(name)));
    }
}
