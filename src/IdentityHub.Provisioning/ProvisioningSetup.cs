using IdentityHub.Provisioning.Connectors;
using IdentityHub.Provisioning.Connectors.Rest;
using IdentityHub.Provisioning.Connectors.Scim;
using IdentityHub.Provisioning.Reconciliation;
using IdentityHub.Provisioning.Connectors.Webhooks;
using IdentityHub.Provisioning.Dispatch;
using IdentityHub.Provisioning.Monitoring;
using IdentityHub.Provisioning.State;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;
using OpenTelemetry.Metrics;
using OpenTelemetry.Resources;
using Polly;

namespace IdentityHub.Provisioning;

public static class ProvisioningSetup
{
    /// <summary>The dispatcher, the connectors and their HTTP client, the state builder and the provisioning metrics.</summary>
    public static IHostApplicationBuilder AddIdentityHubProvisioning(this IHostApplicationBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        var services = builder.Services;
        services.AddOptions<ProvisioningOptions>()
            .Bind(builder.Configuration.GetSection(ProvisioningOptions.Section))
            .Validate(o => !o.Problems().Any(), "Provisioning settings are invalid: " + ProvisioningOptions.Section)
            .ValidateOnStart();
        services.TryAddSingleton(TimeProvider.System);
        services.AddMetrics();
        services.TryAddSingleton<ProvisioningMetrics>();
        services.TryAddSingleton<ConnectorSecrets>();
        services.TryAddScoped<UserStates>();
        services.TryAddScoped<OutboxClaims>();
        services.TryAddScoped<PairDelivery>();
        services.TryAddScoped<ConnectorOperations>();
        services.TryAddScoped<DeliveryHistory>();
        services.TryAddEnumerable(ServiceDescriptor.Scoped<IConnectorClient, WebhookConnector>());
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IConnectorSettingsValidator, WebhookSettingsValidator>());
        services.AddIdentityHubScim();
        services.AddIdentityHubRestConnector();
        services.AddIdentityHubReconciliation();

        services.AddHttpClient(ProvisioningHttp.ClientName)
            .ConfigureHttpClient(client => client.Timeout = Timeout.InfiniteTimeSpan)
            // A redirect could carry identities somewhere nobody configured; the connector reports it instead.
            .ConfigurePrimaryHttpMessageHandler(() => new SocketsHttpHandler { AllowAutoRedirect = false, PooledConnectionLifetime = TimeSpan.FromMinutes(2) })
            // Polly only bounds one attempt: retries are outbox rows with backoff, which survive a restart.
            .AddResilienceHandler("attempt-timeout", (pipeline, context) =>
                pipeline.AddTimeout(context.ServiceProvider.GetRequiredService<IOptions<ProvisioningOptions>>().Value.AttemptTimeout));

        services.AddHostedService<OutboxDispatcher>();
        AddMetricsExport(builder);
        return builder;
    }

    /// <summary>
    /// The meter is always there (dotnet-counters, any listener); exporting it over OTLP is opt-in:
    /// Telemetry:OtlpEndpoint (for example http://otel-collector:4317).
    /// </summary>
    private static void AddMetricsExport(IHostApplicationBuilder builder)
    {
        var endpoint = builder.Configuration["Telemetry:OtlpEndpoint"];
        if (string.IsNullOrWhiteSpace(endpoint))
        {
            return;
        }

        if (!Uri.TryCreate(endpoint, UriKind.Absolute, out var uri))
        {
            throw new InvalidOperationException($"Telemetry:OtlpEndpoint '{endpoint}' is not an absolute URL.");
        }

        builder.Services.AddOpenTelemetry()
            .ConfigureResource(resource => resource.AddService("IdentityHub"))
            .WithMetrics(metrics => metrics.AddMeter(ProvisioningMetrics.MeterName).AddOtlpExporter(otlp => otlp.Endpoint = uri));
    }
}
