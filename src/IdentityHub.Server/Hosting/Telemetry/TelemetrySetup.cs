using IdentityHub.Provisioning.Monitoring;
using OpenTelemetry.Metrics;
using OpenTelemetry.Resources;

namespace IdentityHub.Server.Hosting.Telemetry;

/// <summary>
/// Metrics for a platform team: IdentityHub's own meters (token requests, sign-ins, provisioning, inbound runs) and the
/// platform's (ASP.NET Core HTTP server, Kestrel, rate limiting, Identity, EF Core, Npgsql, HttpClient, runtime), pushed
/// over OTLP when <c>Telemetry:OtlpEndpoint</c> is set and scraped at <c>/metrics</c> in Prometheus format when
/// <c>Telemetry:Prometheus:Enabled</c> is true — only from <c>Telemetry:Prometheus:AllowedNetworks</c> (loopback by
/// default); anyone else gets the same 404 as for any unknown path.
/// </summary>
public static class TelemetrySetup
{
    public const string ScrapePath = "/metrics";

    private static readonly string[] PlatformMeters =
    [
        "Microsoft.AspNetCore.Hosting", "Microsoft.AspNetCore.Server.Kestrel", "Microsoft.AspNetCore.RateLimiting",
        "Microsoft.AspNetCore.Identity", "Microsoft.EntityFrameworkCore", "Npgsql", "System.Net.Http", "System.Runtime",
    ];

    public static void AddIdentityHubTelemetry(this WebApplicationBuilder builder)
    {
        builder.Services.AddSingleton<ServerMetrics>();
        var otlp = OtlpEndpoint(builder.Configuration);
        var prometheus = PrometheusNetworks(builder.Configuration);
        if (otlp is null && prometheus is null)
        {
            return;
        }

        builder.Services.AddOpenTelemetry()
            .ConfigureResource(resource => resource.AddService("IdentityHub"))
            .WithMetrics(metrics =>
            {
                metrics.AddMeter(ServerMetrics.MeterName, ProvisioningMetrics.MeterName).AddMeter(PlatformMeters);
                if (otlp is not null)
                {
                    metrics.AddOtlpExporter(options => options.Endpoint = otlp);
                }

                if (prometheus is not null)
                {
                    metrics.AddPrometheusExporter();
                }
            });
        if (prometheus is not null)
        {
            builder.Services.AddSingleton(new ScrapeNetworks(prometheus));
        }
    }

    /// <summary>Early in the pipeline (after forwarded headers, so a trusted proxy's client address counts), before pages and their 404.</summary>
    public static void UseIdentityHubMetricsEndpoint(this WebApplication app)
    {
        if (app.Services.GetService<ScrapeNetworks>() is not { } allowed)
        {
            return;
        }

        app.UseOpenTelemetryPrometheusScrapingEndpoint(context =>
            context.Request.Path == ScrapePath && context.Connection.RemoteIpAddress is { } address && allowed.Contains(address));
    }

    private static Uri? OtlpEndpoint(ConfigurationManager configuration)
    {
        var endpoint = configuration["Telemetry:OtlpEndpoint"];
        if (string.IsNullOrWhiteSpace(endpoint))
        {
            return null;
        }

        return Uri.TryCreate(endpoint, UriKind.Absolute, out var uri) && uri.Scheme is "http" or "https"
            ? uri
            : throw new StartupException($"Telemetry:OtlpEndpoint '{endpoint}' is not an absolute http(s) URL.");
    }

    private static List<System.Net.IPNetwork>? PrometheusNetworks(ConfigurationManager configuration)
    {
        if (!configuration.GetValue("Telemetry:Prometheus:Enabled", false))
        {
            return null;
        }

        var networks = configuration.GetSection("Telemetry:Prometheus:AllowedNetworks").Get<string[]>() ?? ["127.0.0.0/8", "::1/128"];
        return networks.Select(text => System.Net.IPNetwork.TryParse(text, out var network)
            ? network
            : throw new StartupException($"Telemetry:Prometheus:AllowedNetworks '{text}' is not a network in CIDR notation, for example 10.0.0.0/8.")).ToList();
    }

    private sealed class ScrapeNetworks(List<System.Net.IPNetwork> networks)
    {
        public bool Contains(System.Net.IPAddress address)
        {
            var plain = address.IsIPv4MappedToIPv6 ? address.MapToIPv4() : address;
            return networks.Exists(network => network.Contains(plain));
        }
    }
}
