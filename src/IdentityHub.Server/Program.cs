using IdentityHub.Provisioning;
using IdentityHub.Server.Account;
using IdentityHub.Server.Admin;
using IdentityHub.Server.AdminApi;
using IdentityHub.Server.Hosting;
using IdentityHub.Server.Hosting.Cluster;
using IdentityHub.Server.Oidc;
using IdentityHub.Server.Saml;
using Serilog;

Log.Logger = IdentityHubLogging.CreateBootstrapLogger();
try
{
    var builder = WebApplication.CreateBuilder(args);
    builder.AddIdentityHubLogging();
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
