using Microsoft.Extensions.FileProviders;

namespace IdentityHub.Server.Hosting;

/// <summary>
/// Serves the active theme's static files under <c>/theme</c>. Themes are folders
/// (<c>themes/&lt;name&gt;/login|admin|email</c>); <c>Themes:Path</c> and <c>Themes:Name</c> choose one.
/// </summary>
public static class Themes
{
    public const string RequestPath = "/theme";

    public static void UseIdentityHubTheme(this WebApplication app)
    {
        var folder = FolderOf(app.Configuration, app.Environment.ContentRootPath);
        if (!Directory.Exists(folder))
        {
            throw new StartupException($"Theme folder '{folder}' does not exist: check Themes:Path and Themes:Name.");
        }

        app.UseStaticFiles(new StaticFileOptions
        {
            FileProvider = new PhysicalFileProvider(folder),
            RequestPath = RequestPath,
        });
    }

    /// <summary>The active theme's folder, from <c>Themes:Path</c> and <c>Themes:Name</c>.</summary>
    public static string FolderOf(IConfiguration configuration, string contentRoot)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        var root = configuration["Themes:Path"] is { Length: > 0 } configured
            ? Path.GetFullPath(configured, contentRoot)
            : Path.Combine(AppContext.BaseDirectory, "themes");
        return Path.Combine(root, configuration["Themes:Name"] ?? "default");
    }
}
