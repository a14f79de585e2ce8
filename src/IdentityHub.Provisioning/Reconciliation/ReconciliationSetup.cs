using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace IdentityHub.Provisioning.Reconciliation;

public static class ReconciliationSetup
{
    /// <summary>Drift checks, fixes and full syncs (the kinds register their drift checks): on demand, and on the Provisioning:DriftCheckInterval and FullSyncInterval schedules.</summary>
    public static IServiceCollection AddIdentityHubReconciliation(this IServiceCollection services)
    {
        services.TryAddScoped<Reconciler>();
        services.TryAddScoped<FullSyncs>();
        services.AddSingleton<ReconciliationSchedule>();
        services.AddHostedService(provider => provider.GetRequiredService<ReconciliationSchedule>());
        return services;
    }
}
