using IdentityHub.Server.Oidc;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using OpenIddict.Server;
using static OpenIddict.Server.OpenIddictServerEvents;

namespace IdentityHub.Server.IntegrationTests.Oidc;

/// <summary>
/// The dispatcher that replaces OpenIddict's keeps its contract: handlers of the event only, in the options' order,
/// filters asked each time, a handled request stops the chain, scoped handlers are new in every scope. (Every OIDC
/// test of the server runs through it as well.)
/// </summary>
public sealed class IndexedServerDispatcherTests
{
    [Fact]
    public async Task DispatchAsync_HandlersOfTheEvent_RunInTheOptionsOrderAndFiltersAreAskedEachTime()
    {
        using var host = new Host(
            Handler<First>(order: 1),
            Handler<Filtered>(order: 2, filter: true),
            OtherEventHandler(order: 3),
            Handler<Last>(order: 4));

        await host.DispatchAsync();
        host.Services.GetRequiredService<Switch>().On = true;
        await host.DispatchAsync();

        Assert.Equal(["First", "Last", "First", "Filtered", "Last"], host.Calls);
    }

    [Fact]
    public async Task DispatchAsync_RequestHandled_StopsTheChain()
    {
        using var host = new Host(Handler<First>(order: 1), Handler<Handles>(order: 2), Handler<Last>(order: 3));

        await host.DispatchAsync();

        Assert.Equal(["First", "Handles"], host.Calls);
    }

    [Fact]
    public async Task DispatchAsync_ScopedHandler_IsNewInEveryScopeAndSingletonIsShared()
    {
        using var host = new Host(Handler<First>(order: 1), Handler<Scoped>(order: 2, scoped: true));

        await host.DispatchAsync();
        await host.DispatchAsync();

        var scoped = host.Instances.Where(instance => instance is Scoped).ToList();
        var singletons = host.Instances.Where(instance => instance is First).ToList();
        Assert.Equal(2, scoped.Count);
        Assert.NotSame(scoped[0], scoped[1]);
        Assert.Equal(2, singletons.Count);
        Assert.Same(singletons[0], singletons[1]);
    }

    [Fact]
    public async Task DispatchAsync_HandlerAddedToTheOptionsLater_IsPickedUp()
    {
        var last = Handler<Last>(order: 2);
        using var host = new Host([Handler<First>(order: 1)], registeredOnly: [last]);
        await host.DispatchAsync();

        host.Services.GetRequiredService<IOptionsMonitor<OpenIddictServerOptions>>().CurrentValue.Handlers.Add(last);
        await host.DispatchAsync();

        Assert.Equal(["First", "First", "Last"], host.Calls);
    }

    private static OpenIddictServerHandlerDescriptor Handler<THandler>(int order, bool filter = false, bool scoped = false)
        where THandler : class, IOpenIddictServerHandler<ProcessRequestContext>
    {
        var builder = OpenIddictServerHandlerDescriptor.CreateBuilder<ProcessRequestContext>().SetOrder(order);
        if (filter)
        {
            builder.AddFilter<WhenSwitchedOn>();
        }

        return (scoped ? builder.UseScopedHandler<THandler>() : builder.UseSingletonHandler<THandler>()).Build();
    }

    private static OpenIddictServerHandlerDescriptor OtherEventHandler(int order) =>
        OpenIddictServerHandlerDescriptor.CreateBuilder<ProcessErrorContext>().UseSingletonHandler<OtherEvent>().SetOrder(order).Build();

    private sealed class Host : IDisposable
    {
        private readonly ServiceProvider _provider;

        public Host(params OpenIddictServerHandlerDescriptor[] descriptors)
            : this(descriptors, registeredOnly: [])
        {
        }

        public Host(OpenIddictServerHandlerDescriptor[] descriptors, OpenIddictServerHandlerDescriptor[] registeredOnly)
        {
            IServiceCollection services = new ServiceCollection();
            services.AddLogging();
            services.AddSingleton<Record>();
            services.AddSingleton<Switch>();
            services.AddSingleton<WhenSwitchedOn>();
            services.AddOptions<OpenIddictServerOptions>().Configure(options =>
            {
                // Only these handlers: the options start with OpenIddict's built-in ones.
                options.Handlers.Clear();
                options.Handlers.AddRange(descriptors);
            });
            foreach (var descriptor in descriptors.Concat(registeredOnly))
            {
                services.Add(descriptor.ServiceDescriptor);
            }

            services.UseIndexedServerDispatcher();
            _provider = services.BuildServiceProvider(new ServiceProviderOptions { ValidateScopes = true, ValidateOnBuild = true });
        }

        public IServiceProvider Services => _provider;

        public List<string> Calls => _provider.GetRequiredService<Record>().Calls;

        public List<object> Instances => _provider.GetRequiredService<Record>().Instances;

        public async Task DispatchAsync()
        {
            await using var scope = _provider.CreateAsyncScope();
            var transaction = new OpenIddictServerTransaction
            {
                Options = _provider.GetRequiredService<IOptionsMonitor<OpenIddictServerOptions>>().CurrentValue,
                Logger = NullLogger.Instance,
            };
            await scope.ServiceProvider.GetRequiredService<IOpenIddictServerDispatcher>().DispatchAsync(new ProcessRequestContext(transaction));
        }

        public void Dispose() => _provider.Dispose();
    }

    private sealed class Record
    {
        public List<string> Calls { get; } = [];

        public List<object> Instances { get; } = [];
    }

    private sealed class Switch
    {
        public bool On { get; set; }
    }

    private sealed class WhenSwitchedOn(Switch state) : IOpenIddictServerHandlerFilter<ProcessRequestContext>
    {
        public ValueTask<bool> IsActiveAsync(ProcessRequestContext context) => ValueTask.FromResult(state.On);
    }

    private abstract class Recorded(Record record) : IOpenIddictServerHandler<ProcessRequestContext>
    {
        public virtual ValueTask HandleAsync(ProcessRequestContext context)
        {
            record.Calls.Add(GetType().Name);
            record.Instances.Add(this);
            return ValueTask.CompletedTask;
        }
    }

    private sealed class First(Record record) : Recorded(record);

    private sealed class Filtered(Record record) : Recorded(record);

    private sealed class Last(Record record) : Recorded(record);

    private sealed class Scoped(Record record) : Recorded(record);

    private sealed class Handles(Record record) : Recorded(record)
    {
        public override async ValueTask HandleAsync(ProcessRequestContext context)
        {
            await base.HandleAsync(context);
            context.HandleRequest();
        }
    }

    private sealed class OtherEvent(Record record) : IOpenIddictServerHandler<ProcessErrorContext>
    {
        public ValueTask HandleAsync(ProcessErrorContext context)
        {
            record.Calls.Add(nameof(OtherEvent));
            return ValueTask.CompletedTask;
        }
    }
}
