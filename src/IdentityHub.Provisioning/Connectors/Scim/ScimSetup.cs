using System.Text.Json;
using IdentityHub.Data.Provisioning;
using IdentityHub.Provisioning.Reconciliation;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace IdentityHub.Provisioning.Connectors.Scim;

public static class ScimSetup
{
    /// <summary>The SCIM connector kind: its settings, client, connection test and drift check.</summary>
    public static IServiceCollection AddIdentityHubScim(this IServiceCollection services)
    {
        services.TryAddSingleton(TimeProvider.System);
        services.AddHttpClient(ProvisioningHttp.ClientName);
        services.TryAddSingleton<ScimAccessTokens>();
        services.TryAddSingleton<ScimSessions>();
        services.TryAddSingleton<ScimConnectorClient>();
        services.AddConnectorKind<ScimKind, ScimConnectorClient>();
        services.AddConnectionTest<ScimConnectionTest>();
        services.AddConnectorDrift<ScimDriftCheck>();
        return services;
    }
}

/// <summary>SCIM connectors: <see cref="ScimSettings"/>; the secret (bearer token or client secret) is the administrator's.</summary>
public sealed class ScimKind : ConnectorKindBase<ScimSettings>
{
    public override ConnectorKind Kind => ConnectorKind.Scim;

    public override string Name => "scim";

    public override IReadOnlyDictionary<string, string[]> Validate(JsonElement settings, string? secret, bool hasStoredSecret)
    {
        ScimSettings.Parse(settings.ValueKind == JsonValueKind.Undefined ? "{}" : settings.GetRawText(), out var found);
        var errors = found.ToDictionary(e => "settings." + e.Key, e => e.Value, StringComparer.Ordinal);
        if (string.IsNullOrEmpty(secret) && !hasStoredSecret)
        {
            errors["secret"] = ["The SCIM bearer token (or the OAuth client secret) is required."];
        }

        return errors;
    }

    /// <summary><c>allUsers</c>: every user, not only holders of a role in the application.</summary>
    public override bool ProvisionsEveryone(string settings) => ScimSettings.Parse(settings, out _).AllUsers;
}
