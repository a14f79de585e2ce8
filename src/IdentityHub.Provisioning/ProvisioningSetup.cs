using IdentityHub.Core.Changes;
using IdentityHub.Core.Outbound;
using IdentityHub.Provisioning.Connectors;
using IdentityHub.Provisioning.Connectors.Rest;
using IdentityHub.Provisioning.Connectors.Scim;
using IdentityHub.Provisioning.Reconciliation;
using IdentityHub.Provisioning.Connectors.Webhooks;
using IdentityHub.Provisioning.Dispatch;
using IdentityHub.Provisioning.Monitoring;
using IdentityHub.Provisioning.Queries;
using IdentityHub.Provisioning.State;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;
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
        services.AddMetrics();
        services.TryAddSingleton<ProvisioningMetrics>();
        services.AddIdentityHubConnectors();
        services.TryAddScoped<OutboxClaims>();
        services.TryAddScoped<PairDelivery>();
        services.TryAddScoped<DeliveryHistory>();
        services.AddIdentityHubReconciliation();

        services.AddHttpClient(ProvisioningHttp.ClientName)
            .ConfigureHttpClient(client => client.Timeout = Timeout.InfiniteTimeSpan)
            // Polly only bounds one attempt: retries are outbox rows with backoff, which survive a restart.
            .AddResilienceHandler("attempt-timeout", (pipeline, context) =>
                pipeline.AddTimeout(context.ServiceProvider.GetRequiredService<IOptions<ProvisioningOptions>>().Value.AttemptTimeout));

        services.AddHostedService<OutboxDispatcher>();
        services.AddSingleton<Inbound.SourceSchedule>();
        services.AddHostedService(provider => provider.GetRequiredService<Inbound.SourceSchedule>());
        return builder;
    }

    /// <summary>
    /// The connector kinds (SCIM, webhooks, vendor REST APIs), the connectors service and read model, the connector audience Core asks
    /// (<see cref="IConnectorAudience"/>), full syncs and drift checks: everything but the background services, so the
    /// domain services run without the dispatcher (tests, tools). Secrets need Data Protection from the host.
    /// </summary>
    public static IServiceCollection AddIdentityHubConnectors(this IServiceCollection services)
    {
        ArgumentNullException.ThrowIfNull(services);
        services.TryAddSingleton(TimeProvider.System);
        services.TryAddSingleton<ConnectorSecrets>();
        services.TryAddSingleton<ConnectorKinds>();
        // One policy for every call to a connector or source URL (test, delivery, read): they are administrators' input, so
        // no inward addresses unless the Outbound settings allow them (SSRF). A redirect could carry identities somewhere
        // nobody configured; the connector reports it instead.
        services.AddHttpClient(ProvisioningHttp.ClientName)
            .ConfigurePrimaryHttpMessageHandler(provider => provider.GetRequiredService<OutboundAddressGuard>()
                .Protect(new SocketsHttpHandler { AllowAutoRedirect = false, PooledConnectionLifetime = TimeSpan.FromMinutes(2) }));
        services.AddConnectorKind<WebhookKind, WebhookConnector>();
        services.AddIdentityHubScim();
        services.AddIdentityHubRestConnector();
        services.TryAddScoped<ConnectorAudience>();
        services.TryAddScoped<IConnectorAudience>(s => s.GetRequiredService<ConnectorAudience>());
        services.TryAddScoped<UserStates>();
        services.TryAddScoped<Connectors.Connectors>();
        services.TryAddScoped<Inbound.InboundSources>();
        services.TryAddScoped<Inbound.SourceRunner>();
        services.TryAddSingleton<Inbound.Rest.RestSourceCompilerCache>();
        services.TryAddSingleton<Inbound.Rest.RestSourceReader>();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<Inbound.IInboundSettingsCheck, Inbound.Rest.RestSourceSettingsCheck>());
        services.TryAddScoped<ConnectorQueries>();
        services.TryAddScoped<InboundSourceQueries>();
        services.TryAddScoped<ConnectorOperations>();
        services.TryAddScoped<FullSyncs>();
        services.TryAddScoped<Reconciler>();
        return services;
    }
}
