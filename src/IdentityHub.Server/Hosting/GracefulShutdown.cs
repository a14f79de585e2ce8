using System.Diagnostics;
using IdentityHub.Core.Cluster;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Options;

namespace IdentityHub.Server.Hosting;

/// <summary>
/// Rolling restarts behind a load balancer: on SIGTERM readiness turns 503 at once and the node keeps serving for
/// Hosting:DrainDelay, its responses closing their connections so a proxy reuses none of them; only then does Kestrel stop
/// accepting (a proxy retries a refused connect elsewhere), and requests and deliveries in flight get the rest of
/// Hosting:ShutdownTimeout.
/// </summary>
public static class GracefulShutdown
{
    public static void AddIdentityHubGracefulShutdown(this WebApplicationBuilder builder)
    {
        var section = builder.Configuration.GetSection(ShutdownOptions.Section);
        builder.Services.Configure<ShutdownOptions>(section);
        var settings = section.Get<ShutdownOptions>() ?? new ShutdownOptions();
        // The host's own timeout covers the drain (IHostedLifecycleService.StoppingAsync), Kestrel's stop and the background services'.
        builder.Services.Configure<HostOptions>(host => host.ShutdownTimeout = settings.ShutdownTimeout);
        builder.Services.AddHostedService<DrainOnStop>();
        builder.Services.AddHealthChecks().AddCheck<DrainingHealthCheck>("draining", tags: [HealthEndpoints.ReadyTag]);
    }

    /// <summary>First in the pipeline: while draining, every response says <c>Connection: close</c>.</summary>
    public static void UseIdentityHubDrain(this WebApplication app)
    {
        var shutdown = app.Services.GetRequiredService<NodeShutdown>();
        app.Use((context, next) =>
        {
            if (shutdown.IsDraining)
            {
                // RFC 9112 §9.6: the connection closes after this response, so the proxy never sends to it again; a request
                // it sends meanwhile goes on a fresh connection, which is refused cleanly once Kestrel stops listening.
                context.Response.OnStarting(static state =>
                {
                    ((HttpResponse)state).Headers.Connection = "close";
                    return Task.CompletedTask;
                }, context.Response);
            }

            return next(context);
        });
    }
}

/// <summary>
/// Runs before Kestrel stops accepting: the host calls every <see cref="IHostedLifecycleService.StoppingAsync"/> first,
/// then stops the hosted services (the web server among them).
/// </summary>
internal sealed class DrainOnStop(NodeShutdown shutdown, IOptions<ShutdownOptions> options, ILogger<DrainOnStop> logger) : IHostedLifecycleService
{
    public Task StartingAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StartAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StartedAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public async Task StoppingAsync(CancellationToken cancellationToken)
    {
        var settings = options.Value;
        shutdown.BeginDrain();
        logger.LogInformation(
            "Draining: /health/ready answers 503 for {DrainDelay} s (Hosting:DrainDelay) while this node still serves; requests and deliveries in flight then have until {ShutdownTimeout} s after the stop signal (Hosting:ShutdownTimeout).",
            settings.DrainDelay.TotalSeconds, settings.ShutdownTimeout.TotalSeconds);
        var started = Stopwatch.GetTimestamp();
        try
        {
            await Task.Delay(settings.DrainDelay, cancellationToken);
        }
        catch (OperationCanceledException)
        {
            // The shutdown timeout is shorter than the drain delay: stop now.
        }

        logger.LogInformation("Drained after {Elapsed:0.0} s: no longer accepting connections; finishing requests and deliveries in flight.", Stopwatch.GetElapsedTime(started).TotalSeconds);
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;

    public Task StoppedAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}

/// <summary>Readiness fails while the node drains, so the balancer sends its traffic elsewhere.</summary>
internal sealed class DrainingHealthCheck(NodeShutdown shutdown) : IHealthCheck
{
    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default) =>
        Task.FromResult(shutdown.IsDraining ? HealthCheckResult.Unhealthy("draining") : HealthCheckResult.Healthy());
}
