using System.Text.Json;
using IdentityHub.Data.Provisioning;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace IdentityHub.Provisioning.Connectors.Rest;

public static class RestSetup
{
    /// <summary>The REST connector client, its settings check, presets, and the test-connection and preview tools.</summary>
    public static IServiceCollection AddIdentityHubRestConnector(this IServiceCollection services)
    {
        services.TryAddSingleton(TimeProvider.System);
        services.AddHttpClient(ProvisioningHttp.ClientName);
        services.TryAddSingleton<RestCompiler>();
        services.TryAddSingleton<RestAccessTokens>();
        services.TryAddSingleton<RestTransport>();
        services.TryAddSingleton<RestDirectory>();
        services.TryAddSingleton<RestPresets>();
        services.TryAddSingleton<RestConnectorClient>();
        services.TryAddScoped<RestConnectorTools>();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IConnectorClient, RestConnectorClient>(s => s.GetRequiredService<RestConnectorClient>()));
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IConnectorSettingsValidator, RestSettingsValidator>());
        return services;
    }
}

/// <summary>
/// Checks REST connector settings for the admin API: parses them, parses every template and renders it against a
/// sample state, so a template, JSON path, URL or missing operation that would fail a delivery is a 400 now.
/// </summary>
public sealed class RestSettingsValidator(RestCompiler compiler) : IConnectorSettingsValidator
{
    public ConnectorKind Kind => ConnectorKind.Rest;

    public Dictionary<string, string[]> Validate(JsonElement settings, string? secret, bool hasStoredSecret)
    {
        var compiled = compiler.Compile(settings.ValueKind == JsonValueKind.Undefined ? "{}" : settings.GetRawText());
        var errors = compiled.Errors.ToDictionary(e => e.Key.Length == 0 ? "settings" : "settings." + e.Key, e => e.Value, StringComparer.Ordinal);
        if (compiled.Settings.Auth.Type != RestAuthType.None && string.IsNullOrEmpty(secret) && !hasStoredSecret)
        {
            errors["secret"] = [compiled.Settings.Auth.Type switch
            {
                RestAuthType.Hmac => "The vendor's App Secret is required to sign requests.",
                RestAuthType.Oauth2 => "The OAuth 2.0 client secret is required.",
                RestAuthType.Bearer => "The bearer token is required.",
                _ => "The API key is required.",
            }];
        }

        return errors;
    }

    public string? GenerateSecret() => null;
}
