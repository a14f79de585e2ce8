using System.Globalization;
using MailKit.Security;
using MimeKit;

namespace IdentityHub.Server.Hosting.Mail;

public enum SmtpSecurity
{
    None,
    StartTls,
    SslOnConnect,
    Auto,
}

/// <summary>
/// The <c>Mail</c> section, read and checked once at start: a wrong value stops the start with one line naming the key.
/// Without <c>Mail:Smtp:Host</c> mails are written as .eml files to <see cref="PickupDirectory"/>.
/// </summary>
public sealed record MailSettings
{
    public const string Section = "Mail";

    public string? SmtpHost { get; init; }

    public int SmtpPort { get; init; }

    public SmtpSecurity Security { get; init; } = SmtpSecurity.Auto;

    public string? UserName { get; init; }

    /// <summary>Never logged, never shown.</summary>
    public string? Password { get; init; }

    public required MailboxAddress From { get; init; }

    /// <summary>Where mails go as .eml files when no SMTP host is set: <c>Mail:PickupDirectory</c>, default <c>&lt;data directory&gt;/mail</c>.</summary>
    public required string PickupDirectory { get; init; }

    /// <summary>The origin links in mails start with (<c>Mail:PublicOrigin</c>, else <c>Oidc:Issuer</c>); null: the server's own address.</summary>
    public Uri? PublicOrigin { get; init; }

    public TimeSpan PollInterval { get; init; } = TimeSpan.FromSeconds(5);

    public TimeSpan RetryDelay { get; init; } = TimeSpan.FromSeconds(30);

    public TimeSpan MaxRetryDelay { get; init; } = TimeSpan.FromHours(1);

    public int MaxAttempts { get; init; } = 12;

    public bool UsesSmtp => !string.IsNullOrWhiteSpace(SmtpHost);

    public SecureSocketOptions SocketOptions => Security switch
    {
        SmtpSecurity.None => SecureSocketOptions.None,
        SmtpSecurity.StartTls => SecureSocketOptions.StartTls,
        SmtpSecurity.SslOnConnect => SecureSocketOptions.SslOnConnect,
        _ => SecureSocketOptions.Auto,
    };

    public static MailSettings Read(IConfiguration configuration, string contentRoot, string dataDirectory)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        var section = configuration.GetSection(Section);
        var host = configuration["Mail:Smtp:Host"];
        var securityText = configuration["Mail:Smtp:Security"];
        var security = SmtpSecurity.Auto;
        if (!string.IsNullOrEmpty(securityText)
            && (!Enum.TryParse(securityText, ignoreCase: true, out security) || !Enum.IsDefined(security) || int.TryParse(securityText, out _)))
        {
            throw new StartupException($"Mail:Smtp:Security '{securityText}' is not one of None, StartTls, SslOnConnect, Auto.");
        }

        var portText = configuration["Mail:Smtp:Port"];
        var port = 0;
        if (!string.IsNullOrEmpty(portText)
            && (!int.TryParse(portText, NumberStyles.None, CultureInfo.InvariantCulture, out port) || port is < 1 or > 65535))
        {
            throw new StartupException($"Mail:Smtp:Port '{portText}' is not a port number between 1 and 65535.");
        }

        if (port == 0)
        {
            port = security switch { SmtpSecurity.None => 25, SmtpSecurity.SslOnConnect => 465, _ => 587 };
        }

        var userName = configuration["Mail:Smtp:UserName"];
        var password = configuration["Mail:Smtp:Password"];
        if (!string.IsNullOrEmpty(userName) && string.IsNullOrEmpty(password))
        {
            throw new StartupException("Mail:Smtp:Password is required when Mail:Smtp:UserName is set.");
        }

        var fromAddress = configuration["Mail:From:Address"];
        if (string.IsNullOrWhiteSpace(fromAddress))
        {
            fromAddress = !string.IsNullOrWhiteSpace(host)
                ? throw new StartupException("Mail:From:Address is required when Mail:Smtp:Host is set (the sender of every mail).")
                : "no-reply@localhost";
        }

        if (!MailboxAddress.TryParse(fromAddress, out var parsed) || parsed.Address.IndexOf('@', StringComparison.Ordinal) < 1)
        {
            throw new StartupException($"Mail:From:Address '{fromAddress}' is not an e-mail address.");
        }

        var from = new MailboxAddress(configuration["Mail:From:DisplayName"] is { Length: > 0 } name ? name : "IdentityHub", parsed.Address);
        var origin = section["PublicOrigin"] is { Length: > 0 } o ? o : configuration["Oidc:Issuer"];
        Uri? publicOrigin = null;
        if (!string.IsNullOrEmpty(origin) && (!Uri.TryCreate(origin, UriKind.Absolute, out publicOrigin) || publicOrigin.Scheme is not ("http" or "https")))
        {
            throw new StartupException($"Mail:PublicOrigin '{origin}' is not an absolute http(s) address.");
        }

        return new MailSettings
        {
            SmtpHost = string.IsNullOrWhiteSpace(host) ? null : host.Trim(),
            SmtpPort = port,
            Security = security,
            UserName = string.IsNullOrEmpty(userName) ? null : userName,
            Password = string.IsNullOrEmpty(password) ? null : password,
            From = from,
            PickupDirectory = section["PickupDirectory"] is { Length: > 0 } pickup
                ? Path.GetFullPath(pickup, contentRoot)
                : Path.Combine(dataDirectory, "mail"),
            PublicOrigin = publicOrigin,
            PollInterval = Span(section, "PollInterval", TimeSpan.FromSeconds(5)),
            RetryDelay = Span(section, "RetryDelay", TimeSpan.FromSeconds(30)),
            MaxRetryDelay = Span(section, "MaxRetryDelay", TimeSpan.FromHours(1)),
            MaxAttempts = section["MaxAttempts"] is { Length: > 0 } attempts
                ? int.TryParse(attempts, NumberStyles.None, CultureInfo.InvariantCulture, out var n) && n >= 1
                    ? n
                    : throw new StartupException($"Mail:MaxAttempts '{attempts}' is not a whole number of at least 1.")
                : 12,
        };
    }

    /// <summary>What the log may say about the settings: never the password.</summary>
    public string Describe() => UsesSmtp
        ? $"SMTP {SmtpHost}:{SmtpPort} ({Security}){(UserName is null ? "" : $" as {UserName}")}, from {From}"
        : $".eml files in {PickupDirectory} (no Mail:Smtp:Host set)";

    internal static TimeSpan Span(IConfiguration section, string key, TimeSpan fallback, string sectionName = Section)
    {
        var text = section[key];
        return string.IsNullOrEmpty(text) ? fallback
            : TimeSpan.TryParse(text, CultureInfo.InvariantCulture, out var span) && span > TimeSpan.Zero
                ? span
                : throw new StartupException($"{sectionName}:{key} '{text}' is not a positive time span such as 00:00:30.");
    }
}
