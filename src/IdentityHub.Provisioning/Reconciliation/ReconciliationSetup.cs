using Microsoft.Extensions.DependencyInjection;

namespace IdentityHub.Provisioning.Reconciliation;

public static class ReconciliationSetup
{
    /// <summary>Drift checks, fixes and full syncs: on demand, and on the Provisioning:DriftCheckInterval and FullSyncInterval schedules.</summary>
    public static IServiceCollection AddIdentityHubReconciliation(this IServiceCollection services)
    {
        services.AddScoped<DriftCheck>();
        services.AddScoped<RestDriftSource>();
        services.AddScoped<Reconciler>();
        services.AddSingleton<ReconciliationSchedule>();
        services.AddHostedService(provider => provider.GetRequiredService<ReconciliationSchedule>());
        return services;
    }
}
