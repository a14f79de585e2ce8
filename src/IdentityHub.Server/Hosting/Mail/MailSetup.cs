using IdentityHub.Core.Mail;

namespace IdentityHub.Server.Hosting.Mail;

public static class MailSetup
{
    /// <summary>The <c>Mail</c> settings (checked now), the renderer (over the themes' files and texts) and this node's sender.</summary>
    public static void AddIdentityHubMail(this WebApplicationBuilder builder)
    {
        var configuration = builder.Configuration;
        var contentRoot = builder.Environment.ContentRootPath;
        var settings = MailSettings.Read(configuration, contentRoot, DataDirectory(configuration, contentRoot));
        builder.Services.AddSingleton(settings);
        builder.Services.AddSingleton<MailRenderer>();
        builder.Services.AddSingleton<MailSender>();
        builder.Services.AddHostedService(services => services.GetRequiredService<MailSender>());
        builder.Services.AddSingleton(new AccountMailSettings
        {
            DefaultLocale = configuration["Mail:DefaultLocale"] is { Length: > 0 } locale
                ? ThemeMessages.Cultures.Any(c => string.Equals(c.Name, locale, StringComparison.OrdinalIgnoreCase))
                    ? locale
                    : throw new StartupException($"Mail:DefaultLocale '{locale}' is not one of {string.Join(", ", ThemeMessages.Cultures.Select(c => c.Name))}.")
                : ThemeMessages.English,
            InvitationLifetime = MailSettings.Span(configuration.GetSection("Account"), "InvitationLifetime", TimeSpan.FromDays(7), "Account"),
            ResetLifetime = MailSettings.Span(configuration.GetSection("Account"), "ResetLifetime", TimeSpan.FromHours(1), "Account"),
        });
    }

    /// <summary>
    /// The data directory: <c>Data:Path</c> when set, else the folder of the SQLite file (<c>data/</c> under the content root
    /// by default), else <c>data/</c> under the content root.
    /// </summary>
    public static string DataDirectory(IConfiguration configuration, string contentRoot)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        if (configuration["Data:Path"] is { Length: > 0 } configured)
        {
            return Path.GetFullPath(configured, contentRoot);
        }

        var database = DatabaseSettings.Read(configuration, contentRoot);
        if (database.Provider == DatabaseProvider.Sqlite
            && new Microsoft.Data.Sqlite.SqliteConnectionStringBuilder(database.ConnectionString).DataSource is { Length: > 0 } file
            && Path.IsPathRooted(file))
        {
            return Path.GetDirectoryName(file)!;
        }

        return Path.Combine(contentRoot, "data");
    }
}
