using IdentityHub.Data.Provisioning;
using Microsoft.Extensions.DependencyInjection;
using IdentityHub.Provisioning.Reconciliation;
using Microsoft.Extensions.DependencyInjection.Extensions;

namespace IdentityHub.Provisioning.Connectors;

/// <summary>The connector kinds installed on this node, found by their wire name or by <see cref="ConnectorKind"/>.</summary>
public sealed class ConnectorKinds(IEnumerable<IConnectorKind> kinds)
{
    private readonly IReadOnlyList<IConnectorKind> _kinds = [.. kinds.OrderBy(k => k.Name, StringComparer.Ordinal)];

    public IReadOnlyList<IConnectorKind> All => _kinds;

    /// <summary>The kind named <paramref name="name"/> (case-insensitive), or null.</summary>
    public IConnectorKind? Find(string? name) =>
        name is null ? null : _kinds.FirstOrDefault(k => string.Equals(k.Name, name.Trim(), StringComparison.OrdinalIgnoreCase));

    /// <summary>The installed kind of a stored connector, or null when this node lacks it.</summary>
    public IConnectorKind? Find(ConnectorKind kind) => _kinds.FirstOrDefault(k => k.Kind == kind);

    /// <summary>The wire name of a stored connector's kind (its enum name in lower case when this node lacks the kind).</summary>
    public string NameOf(ConnectorKind kind) => Find(kind)?.Name ?? kind.ToString().ToLowerInvariant();

    /// <summary>"rest", "scim" or "webhook", for messages that list the choices.</summary>
    public string Choices() => _kinds.Count <= 1
        ? string.Join("", _kinds.Select(k => $"\"{k.Name}\""))
        : string.Join(", ", _kinds.SkipLast(1).Select(k => $"\"{k.Name}\"")) + $" or \"{_kinds[^1].Name}\"";

    /// <summary>Every kind's presets, by kind and name.</summary>
    public IReadOnlyList<ConnectorPreset> Presets => [.. _kinds.SelectMany(k => k.Presets).OrderBy(p => p.Kind, StringComparer.Ordinal).ThenBy(p => p.Name, StringComparer.Ordinal)];
}

public static class ConnectorKindSetup
{
    /// <summary>
    /// Registers a connector kind: its description and client, and optionally its connection test and drift check. The
    /// admin API, the console, the dispatcher, the connector's audience and reconciliation find the kind through these.
    /// </summary>
    public static IServiceCollection AddConnectorKind<TKind, TClient>(this IServiceCollection services)
        where TKind : class, IConnectorKind
        where TClient : class, IConnectorClient
    {
        ArgumentNullException.ThrowIfNull(services);
        services.TryAddSingleton<ConnectorKinds>();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IConnectorKind, TKind>());
        Add<IConnectorClient, TClient>(services);
        return services;
    }

    /// <summary>The kind's "test connection" (authenticate and read something harmless).</summary>
    public static IServiceCollection AddConnectionTest<TTest>(this IServiceCollection services)
        where TTest : class, IConnectionTest
    {
        ArgumentNullException.ThrowIfNull(services);
        Add<IConnectionTest, TTest>(services);
        return services;
    }

    /// <summary>The kind's dry run: the exact requests a user's next delivery would send, sent nowhere.</summary>
    public static IServiceCollection AddConnectorPreview<TPreview>(this IServiceCollection services)
        where TPreview : class, IConnectorPreview
    {
        ArgumentNullException.ThrowIfNull(services);
        Add<IConnectorPreview, TPreview>(services);
        return services;
    }

    /// <summary>The kind's own step of a full sync, run before the users are queued.</summary>
    public static IServiceCollection AddFullSyncStep<TStep>(this IServiceCollection services)
        where TStep : class, IFullSyncStep
    {
        ArgumentNullException.ThrowIfNull(services);
        Add<IFullSyncStep, TStep>(services);
        return services;
    }

    /// <summary>The kind's drift check (list the target, compare with what IdentityHub would send).</summary>
    public static IServiceCollection AddConnectorDrift<TDrift>(this IServiceCollection services)
        where TDrift : class, IConnectorDrift
    {
        ArgumentNullException.ThrowIfNull(services);
        Add<IConnectorDrift, TDrift>(services);
        return services;
    }

    /// <summary>A part, scoped unless the kind registered the implementation itself with another lifetime (SCIM's singletons).</summary>
    private static void Add<TService, TImplementation>(IServiceCollection services)
        where TService : class
        where TImplementation : class, TService
    {
        services.TryAddScoped<TImplementation>();
        services.TryAddEnumerable(ServiceDescriptor.Scoped<TService, TImplementation>(s => s.GetRequiredService<TImplementation>()));
    }
}
