using IdentityHub.Core.Access;
using IdentityHub.Core.Audit;
using IdentityHub.Core.Changes;
using IdentityHub.Core.Directory;
using IdentityHub.Core.Queries;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace IdentityHub.Core;

public static class CoreServices
{
    /// <summary>The domain services the console, the admin API and the protocols share. The host registers <see cref="CurrentActor"/>.</summary>
    public static IServiceCollection AddIdentityHubCore(this IServiceCollection services)
    {
        services.TryAddSingleton(TimeProvider.System);
        services.TryAddScoped(_ => new CurrentActor());
        services.AddScoped<AuditTrail>();
        services.AddScoped<EntitlementChanges>();
        services.TryAddSingleton<OutboxSignal>();
        services.TryAddSingleton<OutboxCommitInterceptor>();
        services.AddScoped<Delegation>();
        services.AddScoped<Departments>();
        services.AddScoped<UserDirectory>();
        services.AddScoped<Permissions>();
        services.AddScoped<Roles>();
        services.AddScoped<RoleAssignments>();
        services.AddScoped<SeparationOfDuty>();
        services.AddScoped<EffectiveEntitlements>();
        services.AddScoped<AssignmentExpiry>();
        services.AddScoped<AccessLossRevocation>();
        services.AddScoped<SamlServiceProviders>();
        services.AddScoped<SamlServiceProviderQueries>();
        SamlServiceProviders.AddMetadataClient(services);
        return services;
    }
}
