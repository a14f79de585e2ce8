using System.Text.Json;
using IdentityHub.Data.Provisioning;

namespace IdentityHub.Provisioning.Connectors;

/// <summary>One setting of a connector as the console shows it (settings never hold a secret).</summary>
public sealed record ConnectorSetting(string Name, string Value);

/// <summary>
/// One kind of connector (SCIM, webhook, ...): what differs per kind for the admin surfaces and the engine. A kind is
/// added by registering its parts in DI (<see cref="ConnectorKindSetup"/>): this description, its
/// <see cref="IConnectorClient"/>, and optionally an <see cref="IConnectionTest"/>, an <see cref="IConnectorDrift"/>, an
/// <see cref="IConnectorPreview"/> and an <see cref="Reconciliation.IFullSyncStep"/>; nothing else names the kinds.
/// </summary>
public interface IConnectorKind
{
    ConnectorKind Kind { get; }

    /// <summary>The name on the wire and in the console: <c>scim</c>, <c>webhook</c>, <c>rest</c>.</summary>
    string Name { get; }

    /// <summary>The typed settings record (camelCase JSON) that <c>Connector.Settings</c> holds, for the API's schema.</summary>
    Type SettingsType { get; }

    /// <summary>
    /// Checks a connector's settings (a JSON object) and the secret policy: <paramref name="secret"/> is what the request
    /// sent (null when none), <paramref name="hasStoredSecret"/> whether the connector already has one. Field errors are
    /// keyed like the request (<c>settings.url</c>, <c>secret</c>); none when valid.
    /// </summary>
    IReadOnlyDictionary<string, string[]> Validate(JsonElement settings, string? secret, bool hasStoredSecret);

    /// <summary>Whether IdentityHub draws this kind's secret itself (<see cref="GenerateSecret"/>) rather than the administrator supplying it.</summary>
    bool GeneratesSecret { get; }

    /// <summary>A secret IdentityHub generates for a new connector (shown once), or null when the administrator supplies it.</summary>
    string? GenerateSecret();

    /// <summary>The stored settings, named for the console.</summary>
    IReadOnlyList<ConnectorSetting> Describe(string settings);

    /// <summary>
    /// Whether the connector provisions every user, not only those who hold access in its application (the connector's
    /// audience, see <see cref="ConnectorAudience"/>).
    /// </summary>
    bool ProvisionsEveryone(string settings);

    /// <summary>The settings this kind ships for known targets, which a new connector may start from (none for most kinds).</summary>
    IReadOnlyList<ConnectorPreset> Presets { get; }
}

/// <summary>The usual parts of a kind: its typed settings record, and the stored settings described property by property.</summary>
public abstract class ConnectorKindBase<TSettings> : IConnectorKind
    where TSettings : class
{
    public abstract ConnectorKind Kind { get; }

    public abstract string Name { get; }

    public Type SettingsType => typeof(TSettings);

    public abstract IReadOnlyDictionary<string, string[]> Validate(JsonElement settings, string? secret, bool hasStoredSecret);

    public virtual bool GeneratesSecret => false;

    public virtual string? GenerateSecret() => null;

    public virtual bool ProvisionsEveryone(string settings) => false;

    public virtual IReadOnlyList<ConnectorPreset> Presets => [];

    /// <summary>Every top-level setting as stored (camelCase name, JSON value; strings without quotes).</summary>
    public virtual IReadOnlyList<ConnectorSetting> Describe(string settings)
    {
        try
        {
            using var json = JsonDocument.Parse(string.IsNullOrWhiteSpace(settings) ? "{}" : settings);
            return json.RootElement.ValueKind != JsonValueKind.Object ? [] :
                [.. json.RootElement.EnumerateObject().Select(p => new ConnectorSetting(p.Name, p.Value.ValueKind == JsonValueKind.String ? p.Value.GetString()! : p.Value.GetRawText()))];
        }
        catch (JsonException)
        {
            return [];
        }
    }
}
