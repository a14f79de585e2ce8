using System.Collections.Concurrent;
using System.Globalization;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;
using OpenIddict.Abstractions;
using OpenIddict.Server;
using static OpenIddict.Server.OpenIddictServerEvents;

namespace IdentityHub.Server.Oidc;

/// <summary>
/// OpenIddict's server dispatcher with the same semantics (handlers by their Order, every filter asked per event, a
/// handled, skipped or rejected context stops the chain) but without its per-event costs: OpenIddict walks all of the
/// server's handler descriptors (417 here) for every event and resolves every singleton filter and handler from the
/// request's scope again; a client-credentials token request dispatches about ten events. Here each event's handlers
/// are listed once and singletons are resolved once; scoped and transient ones still come from the request's scope.
/// </summary>
public sealed class IndexedServerDispatcher(
    ILogger<OpenIddictServerDispatcher> logger,
    IOptionsMonitor<OpenIddictServerOptions> options,
    IServiceProvider provider,
    ServerHandlerIndex index) : IOpenIddictServerDispatcher
{
    public async ValueTask DispatchAsync<TContext>(TContext context) where TContext : BaseContext
    {
        ArgumentNullException.ThrowIfNull(context);
        foreach (var entry in index.HandlersOf<TContext>(options.CurrentValue.Handlers))
        {
            if (!await IsActiveAsync(entry, context))
            {
                continue;
            }

            var handler = entry.Handler as IOpenIddictServerHandler<TContext>
                ?? provider.GetService(entry.ServiceType) as IOpenIddictServerHandler<TContext>
                ?? throw new InvalidOperationException(OpenIddictResources.FormatID0098(entry.ServiceType));
            try
            {
                await handler.HandleAsync(context);
            }
            catch (Exception exception) when (exception is not OutOfMemoryException && logger.IsEnabled(LogLevel.Debug))
            {
                // ID6132 names the handler first, the others the event first.
#pragma warning disable CA2254 // OpenIddict's own localized templates, one per event id, as OpenIddict logs them.
                logger.LogDebug(6132, exception, Message(6132), handler.GetType().FullName, typeof(TContext).FullName);
#pragma warning restore CA2254
                throw;
            }

            Log(6133, handler);
            switch (context)
            {
                case BaseRequestContext { IsRequestHandled: true }:
                    Log(6134, handler);
                    return;
                case BaseRequestContext { IsRequestSkipped: true }:
                    Log(6135, handler);
                    return;
                case BaseValidatingContext { IsRejected: true }:
                    Log(6136, handler);
                    return;
            }
        }

        // OpenIddict's own messages (its resource IDs), so a debug log reads the same with either dispatcher.
        void Log(int id, object handler)
        {
            if (logger.IsEnabled(LogLevel.Debug))
            {
#pragma warning disable CA2254 // As above.
                logger.LogDebug(id, Message(id), typeof(TContext).FullName, handler.GetType().FullName);
#pragma warning restore CA2254
            }
        }
    }

    private static string Message(int id) => OpenIddictResources.GetResourceString("ID" + id.ToString(CultureInfo.InvariantCulture));

    private async ValueTask<bool> IsActiveAsync<TContext>(ServerHandlerIndex.Entry entry, TContext context) where TContext : BaseContext
    {
        for (var i = 0; i < entry.FilterTypes.Length; i++)
        {
            var filter = entry.Filters[i] as IOpenIddictServerHandlerFilter<TContext>
                ?? provider.GetService(entry.FilterTypes[i]) as IOpenIddictServerHandlerFilter<TContext>
                ?? throw new InvalidOperationException(OpenIddictResources.FormatID0099(entry.FilterTypes[i]));
            if (!await filter.IsActiveAsync(context))
            {
                return false;
            }
        }

        return true;
    }
}

/// <summary>
/// Each event's handler descriptors in OpenIddict's order (the options sort them at start-up), with the singleton
/// handlers and filters resolved once. Lifetimes come from the service registrations (the last one of a type wins,
/// as in the container); a type registered otherwise is resolved per request. Rebuilt when the options hand over another
/// list or their list's length changes (OpenIddict builds it once, at start-up).
/// </summary>
public sealed class ServerHandlerIndex(IServiceProvider root, IServiceCollection services)
{
    private readonly Dictionary<Type, ServiceLifetime> _lifetimes = LastLifetimes(services);
    private Snapshot? _snapshot;

    public sealed record Entry(Type ServiceType, object? Handler, Type[] FilterTypes, object?[] Filters);

    private sealed record Snapshot(List<OpenIddictServerHandlerDescriptor> Source, int Count, ConcurrentDictionary<Type, Entry[]> ByContext);

    public Entry[] HandlersOf<TContext>(List<OpenIddictServerHandlerDescriptor> descriptors) where TContext : BaseContext
    {
        var snapshot = Volatile.Read(ref _snapshot);
        if (snapshot is null || !ReferenceEquals(snapshot.Source, descriptors) || snapshot.Count != descriptors.Count)
        {
            snapshot = new Snapshot(descriptors, descriptors.Count, new ConcurrentDictionary<Type, Entry[]>());
            Volatile.Write(ref _snapshot, snapshot);
        }

        return snapshot.ByContext.GetOrAdd(typeof(TContext), _ => Build(descriptors, typeof(TContext)));
    }

    private Entry[] Build(List<OpenIddictServerHandlerDescriptor> descriptors, Type contextType) =>
        [.. descriptors.Where(descriptor => descriptor.ContextType == contextType).Select(descriptor => new Entry(
            descriptor.ServiceDescriptor.ServiceType,
            descriptor.ServiceDescriptor.ImplementationInstance ?? Singleton(descriptor.ServiceDescriptor.ServiceType),
            [.. descriptor.FilterTypes],
            [.. descriptor.FilterTypes.Select(Singleton)]))];

    private object? Singleton(Type type) =>
        _lifetimes.TryGetValue(type, out var lifetime) && lifetime == ServiceLifetime.Singleton ? root.GetService(type) : null;

    private static Dictionary<Type, ServiceLifetime> LastLifetimes(IServiceCollection services)
    {
        var lifetimes = new Dictionary<Type, ServiceLifetime>();
        foreach (var descriptor in services.Where(descriptor => !descriptor.IsKeyedService))
        {
            lifetimes[descriptor.ServiceType] = descriptor.Lifetime;
        }

        return lifetimes;
    }
}

public static class IndexedServerDispatcherSetup
{
    /// <summary>Replaces OpenIddict's server dispatcher; call after <c>AddOpenIddict().AddServer()</c>.</summary>
    public static void UseIndexedServerDispatcher(this IServiceCollection services)
    {
        // The collection is read when the index is first resolved, after every registration has been made.
        services.AddSingleton(provider => new ServerHandlerIndex(provider, services));
        services.Replace(ServiceDescriptor.Scoped<IOpenIddictServerDispatcher, IndexedServerDispatcher>());
    }
}
