using System.Globalization;
using Serilog;
using Serilog.Events;
using Serilog.Formatting.Compact;

namespace IdentityHub.Server.Hosting;

/// <summary>Serilog: console output as text or compact JSON (<c>Log:Format</c>), levels from the <c>Serilog</c> section.</summary>
public static class IdentityHubLogging
{
    private const string TextTemplate = "[{Timestamp:HH:mm:ss} {Level:u3}] {SourceContext}: {Message:lj}{NewLine}{Exception}";

    public static Serilog.Core.Logger CreateBootstrapLogger() => new LoggerConfiguration()
        .MinimumLevel.Information()
        .WriteTo.Console(outputTemplate: "[{Timestamp:HH:mm:ss} {Level:u3}] {Message:lj}{NewLine}{Exception}", formatProvider: CultureInfo.InvariantCulture)
        .CreateLogger();

    public static void AddIdentityHubLogging(this WebApplicationBuilder builder)
    {
        var json = ReadFormat(builder.Configuration);
        builder.Services.AddSerilog((services, logger) =>
        {
            logger
                .MinimumLevel.Information()
                .MinimumLevel.Override("Microsoft.AspNetCore", LogEventLevel.Warning)
                .MinimumLevel.Override("Microsoft.EntityFrameworkCore", LogEventLevel.Warning)
                // OpenIddict dumps every protocol message at Information; the request log says enough.
                .MinimumLevel.Override("OpenIddict", LogEventLevel.Warning)
                .ReadFrom.Configuration(builder.Configuration)
                .ReadFrom.Services(services)
                .Enrich.FromLogContext();
            if (json)
            {
                logger.WriteTo.Console(new RenderedCompactJsonFormatter());
            }
            else
            {
                logger.WriteTo.Console(outputTemplate: TextTemplate, formatProvider: CultureInfo.InvariantCulture);
            }
        });
    }

    public static void UseIdentityHubRequestLogging(this WebApplication app) =>
        app.UseSerilogRequestLogging(options =>
        {
            // Probes every few seconds would drown the requests people make.
            options.GetLevel = (context, _, exception) =>
                exception is not null || context.Response.StatusCode >= 500 ? LogEventLevel.Error
                : context.Request.Path.StartsWithSegments("/health") ? LogEventLevel.Verbose
                : LogEventLevel.Information;
        });

    private static bool ReadFormat(ConfigurationManager configuration)
    {
        var format = configuration["Log:Format"] ?? "text";
        return format.ToUpperInvariant() switch
        {
            "TEXT" => false,
            "JSON" => true,
            _ => throw new StartupException($"Log:Format '{format}' is not supported: use text or json."),
        };
    }
}
