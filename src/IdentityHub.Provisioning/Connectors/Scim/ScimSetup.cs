using Microsoft.Extensions.DependencyInjection;

namespace IdentityHub.Provisioning.Connectors.Scim;

public static class ScimSetup
{
    /// <summary>The SCIM connector client and what it needs; the dispatcher finds it as an <see cref="IConnectorClient"/>.</summary>
    public static IServiceCollection AddIdentityHubScim(this IServiceCollection services)
    {
        services.AddHttpClient(ScimSessions.HttpClientName, client => client.Timeout = Timeout.InfiniteTimeSpan);
        services.AddSingleton<ScimAccessTokens>();
        services.AddSingleton<ScimSessions>();
        services.AddSingleton<ScimConnectorClient>();
        services.AddSingleton<IConnectorClient>(s => s.GetRequiredService<ScimConnectorClient>());
        services.AddSingleton<ConnectorSecrets>();
        return services;
    }
}
