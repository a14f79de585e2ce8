using IdentityHub.Core.Cluster;
using IdentityHub.Data.Cluster;

namespace IdentityHub.Server.Hosting.Cluster;

/// <summary>Hears the other nodes' changes through the backplane and applies them here for as long as the node runs.</summary>
public sealed class ClusterReceiver(IClusterBackplane backplane, ClusterChanges changes, ILogger<ClusterReceiver> logger) : BackgroundService
{
    private static readonly TimeSpan Restart = TimeSpan.FromSeconds(5);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                await backplane.ReceiveAsync(changes.Node, Apply, Gap, stoppingToken);
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception ex)
            {
                // A backplane that gives up must not leave this node deaf for good; what it missed is dropped on return.
                logger.LogError(ex, "Receiving the other nodes' changes failed; starting again in {Delay}", Restart);
                await Task.Delay(Restart, stoppingToken);
            }
        }
    }

    private Task Apply(IReadOnlyCollection<ClusterChange> received)
    {
        changes.Apply(received);
        return Task.CompletedTask;
    }

    private Task Gap()
    {
        changes.ApplyGap();
        return Task.CompletedTask;
    }
}
