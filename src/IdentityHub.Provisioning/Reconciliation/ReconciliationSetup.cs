using Microsoft.Extensions.DependencyInjection;

namespace IdentityHub.Provisioning.Reconciliation;

public static class ReconciliationSetup
{
    /// <summary>Drift checks, fixes and full syncs (on demand and on the <c>Provisioning:FullSyncInterval</c> schedule).</summary>
    public static IServiceCollection AddIdentityHubReconciliation(this IServiceCollection services)
    {
        services.AddScoped<DriftCheck>();
        services.AddScoped<Reconciler>();
        services.AddHostedService<FullSyncSchedule>();
        return services;
    }
}
