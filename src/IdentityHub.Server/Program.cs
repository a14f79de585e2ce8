using IdentityHub.Provisioning;
using IdentityHub.Server.Account;
using IdentityHub.Server.Admin;
using IdentityHub.Server.AdminApi;
using IdentityHub.Server.Hosting;
using IdentityHub.Server.Hosting.Cluster;
using IdentityHub.Server.Hosting.Telemetry;
using IdentityHub.Server.Oidc;
using IdentityHub.Server.Saml;
using Serilog;

Log.Logger = IdentityHubLogging.CreateBootstrapLogger();
try
{
    var migrateOnly = MigrateCommand.IsRequested(args);
    var builder = WebApplication.CreateBuilder(MigrateCommand.HostArguments(args));
    builder.AddIdentityHubLogging();
    builder.AddIdentityHubTelemetry();
    builder.AddIdentityHubDatabase();
    builder.AddIdentityHubCluster();
    builder.AddIdentityHubAccounts();
    builder.AddIdentityHubDomain();
    builder.AddIdentityHubProvisioning();
    builder.AddIdentityHubOidc();
    builder.AddIdentityHubWeb();
    builder.AddIdentityHubAdminApi();
    builder.AddIdentityHubConsole();
    builder.AddIdentityHubSaml();

    var app = builder.Build();
    if (migrateOnly)
    {
        return await app.RunMigrateCommandAsync();
    }

    await app.PrepareDatabaseAsync();
    app.UseIdentityHubPipeline();
    app.MapIdentityHubSaml();
    await app.RunAsync();
    return 0;
}
catch (StartupException ex)
{
    // One line that says what to fix; a configuration mistake deserves no stack trace.
    Log.ForContext("SourceContext", "IdentityHub.Server").Fatal("IdentityHub cannot start: {Reason}", ex.Message);
    return 1;
}
finally
{
    await Log.CloseAndFlushAsync();
}

/// <summary>Entry point type, visible to WebApplicationFactory in the integration tests.</summary>
public partial class Program;
