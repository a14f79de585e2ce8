using Microsoft.AspNetCore.Diagnostics.HealthChecks;

namespace IdentityHub.Server.Hosting;

/// <summary>Liveness says the process answers; readiness also checks the database.</summary>
public static class HealthEndpoints
{
    public const string ReadyTag = "ready";

    public static void MapIdentityHubHealth(this IEndpointRouteBuilder endpoints)
    {
        endpoints.MapHealthChecks("/health/live", new HealthCheckOptions { Predicate = _ => false });
        endpoints.MapHealthChecks("/health/ready", new HealthCheckOptions { Predicate = check => check.Tags.Contains(ReadyTag) });
    }
}
