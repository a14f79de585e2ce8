using IdentityHub.Core.Access;
using IdentityHub.Data.Cluster;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace IdentityHub.Server.Hosting.Cluster;

/// <summary>
/// Makes this process one node among several on one database: its identity (<c>Cluster:NodeName</c>, else
/// <c>Provisioning:NodeName</c>, else machine:pid), the backplane its database provider chose, and the receiver that applies
/// the other nodes' changes here.
/// </summary>
public static class ClusterSetup
{
    public static void AddIdentityHubCluster(this WebApplicationBuilder builder)
    {
        var configuration = builder.Configuration;
        var services = builder.Services;
        var name = configuration["Cluster:NodeName"] is { Length: > 0 } clusterName ? clusterName : configuration["Provisioning:NodeName"];
        services.Replace(ServiceDescriptor.Singleton(ClusterNodeIdentity.ForThisProcess(name)));
        services.Configure<ClusterPolling>(options =>
            options.Interval = configuration.GetValue("Cluster:PollInterval", ClusterPolling.DefaultInterval));
        services.AddHostedService<ClusterReceiver>();
        // Changes are announced; the expiry only bounds a change no node announced (a row edited by hand).
        services.AddSingleton(new ClientCacheExpiry(configuration.GetValue("Oidc:ClientCacheExpiry", ClientCache.DefaultExpiry)));
    }
}
