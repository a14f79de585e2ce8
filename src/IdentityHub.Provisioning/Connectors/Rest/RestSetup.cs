using System.Text.Json;
using IdentityHub.Data.Provisioning;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace IdentityHub.Provisioning.Connectors.Rest;

public static class RestSetup
{
    /// <summary>The REST connector kind: its settings and presets, client, connection test, drift check, preview and full-sync step.</summary>
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
        services.AddConnectorKind<RestKind, RestConnectorClient>();
        services.AddConnectionTest<RestConnectionTest>();
        services.AddConnectorDrift<RestDriftCheck>();
        services.AddConnectorPreview<RestPreview>();
        services.AddFullSyncStep<RestDepartmentPruning>();
        return services;
    }
}

/// <summary>
/// REST connectors: <see cref="RestConnectorSettings"/>, checked by parsing every template and rendering it against a
/// sample state, so a template, JSON path, URL or missing operation that would fail a delivery is refused now; the secret
/// (app secret, client secret, token or API key) is the administrator's; the presets ship as files (<see cref="RestPresets"/>).
/// </summary>
public sealed class RestKind(RestCompiler compiler, RestPresets presets) : ConnectorKindBase<RestConnectorSettings>
{
    public override ConnectorKind Kind => ConnectorKind.Rest;

    public override string Name => "rest";

    public override IReadOnlyList<ConnectorPreset> Presets => presets.All;

    public override IReadOnlyDictionary<string, string[]> Validate(JsonElement settings, string? secret, bool hasStoredSecret)
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

        foreach (var (field, message) in CredentialsInSettings(compiled.Settings))
        {
            errors[field] = errors.TryGetValue(field, out var existing) ? [.. existing, message] : [message];
        }

        return errors;
    }

    /// <summary>
    /// Settings are shown to every administrator, so a credential there would be too: a static credential header in an
    /// operation, or a user name and password in the base URL, is refused when the connector is registered or changed (only
    /// then: a connector stored before keeps delivering). The value belongs in the auth type that sends it and the secret.
    /// </summary>
    private static IEnumerable<(string Field, string Message)> CredentialsInSettings(RestConnectorSettings settings)
    {
        if (!string.IsNullOrEmpty(settings.BaseUrl?.UserInfo))
        {
            yield return ("settings.baseUrl", "The base URL must not carry a user name or password; authentication goes in auth and the connector's secret.");
        }

        var operations = settings.Operations;
        foreach (var (name, operation) in new (string, RestOperation?)[]
        {
            (RestOperationNames.UpsertUser, operations.UpsertUser), (RestOperationNames.CreateUser, operations.CreateUser),
            (RestOperationNames.DisableUser, operations.DisableUser), (RestOperationNames.DeleteUser, operations.DeleteUser),
            (RestOperationNames.UpsertDepartment, operations.UpsertDepartment), (RestOperationNames.DeleteDepartment, operations.DeleteDepartment),
            (RestOperationNames.GetUser, operations.GetUser), (RestOperationNames.ListUsers, operations.ListUsers),
        })
        {
            foreach (var header in operation?.Headers.Keys ?? [])
            {
                if (header.Equals("Authorization", StringComparison.OrdinalIgnoreCase) || header.Equals("Proxy-Authorization", StringComparison.OrdinalIgnoreCase)
                    || header.Equals("Cookie", StringComparison.OrdinalIgnoreCase)
                    || (settings.Auth.Type == RestAuthType.ApiKey && header.Equals(settings.Auth.HeaderName, StringComparison.OrdinalIgnoreCase)))
                {
                    yield return ($"settings.operations.{name}.headers.{header}",
                        $"{header} carries a credential, and settings are shown to every administrator: choose the auth type that sends it (bearer, apiKey) and put the value in the connector's secret.");
                }
            }
        }
    }
}
