using System.Text.Json;
using IdentityHub.Data.Provisioning;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace IdentityHub.Provisioning.Connectors.Scim;

public static class ScimSetup
{
    /// <summary>The SCIM connector client and its settings check; the dispatcher finds it as an <see cref="IConnectorClient"/>.</summary>
    public static IServiceCollection AddIdentityHubScim(this IServiceCollection services)
    {
        services.TryAddSingleton(TimeProvider.System);
        services.AddHttpClient(ProvisioningHttp.ClientName);
        services.TryAddSingleton<ScimAccessTokens>();
        services.TryAddSingleton<ScimSessions>();
        services.TryAddSingleton<ScimConnectorClient>();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IConnectorClient, ScimConnectorClient>(s => s.GetRequiredService<ScimConnectorClient>()));
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IConnectorSettingsValidator, ScimSettingsValidator>());
        return services;
    }
}

/// <summary>Checks SCIM connector settings for the admin API; the secret (bearer token or client secret) is the administrator's.</summary>
public sealed class ScimSettingsValidator : IConnectorSettingsValidator
{
    public ConnectorKind Kind => ConnectorKind.Scim;

    public Dictionary<string, string[]> Validate(JsonElement settings, string? secret, bool hasStoredSecret)
    {
        ScimSettings.Parse(settings.ValueKind == JsonValueKind.Undefined ? "{}" : settings.GetRawText(), out var found);
        var errors = found.ToDictionary(e => "settings." + e.Key, e => e.Value, StringComparer.Ordinal);
        if (string.IsNullOrEmpty(secret) && !hasStoredSecret)
        {
            errors["secret"] = ["The SCIM bearer token (or the OAuth client secret) is required."];
        }

        return errors;
    }

    public string? GenerateSecret() => null;
}
