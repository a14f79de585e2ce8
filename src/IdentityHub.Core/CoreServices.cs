using IdentityHub.Core.Access;
using IdentityHub.Core.Audit;
using IdentityHub.Core.Changes;
using IdentityHub.Core.Cluster;
using IdentityHub.Core.Directory;
using IdentityHub.Core.Inbound;
using IdentityHub.Core.Outbound;
using IdentityHub.Core.Queries;
using IdentityHub.Core.Sessions;
using IdentityHub.Data;
using IdentityHub.Data.Cluster;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using OpenIddict.EntityFrameworkCore.Models;

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
        services.TryAddSingleton<ColumnLengths>();
        services.TryAddSingleton(_ => ClusterNodeIdentity.ForThisProcess(null));
        services.TryAddSingleton<IClusterBackplane, SingleNodeBackplane>();
        services.TryAddSingleton<ClusterChanges>();
        services.TryAddSingleton<ClusterChangeInterceptor>();
        services.TryAddSingleton<NodeShutdown>();
        services.AddScoped<Delegation>();
        services.AddScoped<Departments>();
        services.AddScoped<UserDirectory>();
        services.TryAddSingleton(SelfServiceSettings.Default);
        services.TryAddSingleton(new Mail.AccountMailSettings());
        services.TryAddSingleton<Mail.MailSignal>();
        services.AddScoped<Mail.MailOutbox>();
        services.AddScoped<AccountRecovery>();
        services.TryAddSingleton(new Factors.MfaSettings());
        services.AddScoped<Factors.MfaPolicy>();
        services.AddScoped<Factors.AccountFactors>();
        services.AddScoped<UserPasskeys>();
        services.AddScoped<AttributeOwnership>();
        services.AddScoped<OrganisationIntake>();
        services.AddScoped<InboundRuns>();
        services.AddScoped<Permissions>();
        services.AddScoped<Roles>();
        services.AddScoped<RoleAssignments>();
        services.AddScoped<SeparationOfDuty>();
        services.AddScoped<EffectiveEntitlements>();
        services.AddScoped<AssignmentExpiry>();
        services.AddScoped<AccessLossRevocation>();
        services.AddOptions<OutboundOptions>()
            .Validate(o => !o.Problems().Any(), "Outbound settings are invalid: " + OutboundOptions.Section)
            .ValidateOnStart();
        services.TryAddSingleton<OutboundAddressGuard>();
        services.AddScoped<SamlServiceProviders>();
        services.AddScoped<SamlServiceProviderQueries>();
        SamlServiceProviders.AddMetadataClient(services);
        services.TryAddSingleton(new WebAddressPolicy(AllowPlainHttp: false));
        // The host registers the configured themes folder; this default is the one shipped next to the binaries.
        services.TryAddSingleton(sp => new Themes.ThemeFolders(Path.Combine(AppContext.BaseDirectory, "themes"), sp.GetRequiredService<TimeProvider>()));
        services.AddScoped<Applications>();
        services.AddScoped<PortalApplications>();
        services.AddScoped<OidcClients>();
        services.TryAddSingleton<ClientCache>();
        services.AddScoped<ApplicationQueries>();
        services.AddScoped<OidcClientQueries>();
        services.AddScoped<PermissionQueries>();
        services.AddScoped<RoleQueries>();
        services.AddScoped<UserQueries>();
        services.AddScoped<DepartmentQueries>();
        services.AddScoped<AssignmentQueries>();
        services.AddScoped<AuditQueries>();
        services.AddScoped<AccountActivity>();
        services.AddScoped<SodRuleQueries>();
        services.AddScoped<DirectoryLookup>();
        services.AddScoped<Consequences>();
        services.AddScoped<SessionParticipants>();
        services.AddScoped<BackchannelLogoutNotices>();
        services.TryAddSingleton<BackchannelLogoutSignal>();
        services.AddScoped<BrowserSessions>();
        return services;
    }

    /// <summary>
    /// OpenIddict's stores in IdentityHub's DbContext, with the application manager that keeps SHA-256 client secrets and
    /// reads clients through the process-wide <see cref="ClientCache"/> (the token endpoint's hot path).
    /// </summary>
    public static OpenIddictCoreBuilder UseIdentityHubClients(this OpenIddictCoreBuilder core)
    {
        ArgumentNullException.ThrowIfNull(core);
        core.UseEntityFrameworkCore().UseDbContext<IdentityHubDbContext>();
        core.ReplaceApplicationManager<OpenIddictEntityFrameworkCoreApplication, ClientApplicationManager>();
        core.Services.TryAddSingleton<ClientCache>();
        return core;
    }
}
