using IdentityHub.Testing;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Mvc.Testing;

namespace IdentityHub.Server.IntegrationTests;

/// <summary>
/// The whole server in memory on a real database of its own. One instance per test class (a class
/// fixture), so the server starts once and the tests share it.
/// </summary>
public abstract class IdentityHubFactory : WebApplicationFactory<Program>, IAsyncLifetime
{
    public const string AdminPassword = "Integration-Admin-Password-1";
    public const string AdminClientSecret = "integration-admin-client-secret-0123456789abcdef";

    public abstract string Provider { get; }

    public abstract string ConnectionString { get; }

    public virtual Task InitializeAsync() => Task.CompletedTask;

    public new virtual Task DisposeAsync() => base.DisposeAsync().AsTask();

    /// <summary>A client that keeps cookies and does not follow redirects, so tests see every hop.</summary>
    public HttpClient CreateBrowserLikeClient() =>
        CreateClient(new WebApplicationFactoryClientOptions { AllowAutoRedirect = false, HandleCookies = true });

    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        builder.UseEnvironment("Testing");
        builder.UseSetting("Database:Provider", Provider);
        builder.UseSetting("ConnectionStrings:IdentityHub", ConnectionString);
        builder.UseSetting("Bootstrap:AdminPassword", AdminPassword);
        builder.UseSetting("Bootstrap:AdminClientSecret", AdminClientSecret);
        builder.UseSetting("Oidc:RequireHttps", "false");
        // Every request re-checks the session, so tests see suspensions at once.
        builder.UseSetting("Account:RevalidationInterval", "00:00:00");
        // No load balancer to drain from: disposing the factory stops the host at once.
        builder.UseSetting("Hosting:DrainDelay", "00:00:00");
        // Every stand-in target listens on 127.0.0.1; OutboundFetchTests turns this off to see the refusals.
        builder.UseSetting("Outbound:AllowPrivateNetworks", "true");
        // The bootstrap admin signs in with a password only; the MFA tests turn the requirement on.
        builder.UseSetting("Account:Mfa:RequireForAdministrators", "false");
        foreach (var (key, value) in TestRateLimits.Settings)
        {
            builder.UseSetting(key, value);
        }
    }
}

/// <summary>A server on a SQLite file of its own; derive to change settings for one test class.</summary>
public class SqliteFactory : IdentityHubFactory
{
    private readonly SqliteFile _file = new();

    public override string Provider => "Sqlite";

    public override string ConnectionString => _file.ConnectionString;

    public override async Task DisposeAsync()
    {
        await base.DisposeAsync();
        _file.Dispose();
    }
}

/// <summary>A server on a PostgreSQL database of its own; derive to change settings for one test class.</summary>
public class PostgreSqlFactory : IdentityHubFactory
{
    private PostgresDatabase? _database;

    public override string Provider => "PostgreSql";

    public override string ConnectionString => _database?.ConnectionString
        ?? throw new InvalidOperationException("The PostgreSQL database is not reserved yet.");

    public override Task InitializeAsync()
    {
        // Outside ./test.sh the tests of this fixture are skipped; under it a missing server fails them.
        if (TestEnvironment.MissingReason(Prerequisite.PostgreSql) is not null && !TestEnvironment.Strict)
        {
            return Task.CompletedTask;
        }

        _database = PostgresDatabase.Reserve();
        return Task.CompletedTask;
    }

    public override async Task DisposeAsync()
    {
        await base.DisposeAsync();
        if (_database is not null)
        {
            await _database.DisposeAsync();
        }
    }
}

/// <summary>Settings one test class gives its server (quick retries, a public origin, ...), applied after the defaults.</summary>
public interface IServerSettings
{
    static abstract void Apply(IWebHostBuilder builder);
}

/// <summary>A server on a SQLite file of its own with <typeparamref name="TSettings"/> applied.</summary>
public sealed class SqliteFactory<TSettings> : SqliteFactory
    where TSettings : IServerSettings
{
    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        base.ConfigureWebHost(builder);
        TSettings.Apply(builder);
    }
}

/// <summary>A server on a PostgreSQL database of its own with <typeparamref name="TSettings"/> applied.</summary>
public sealed class PostgreSqlFactory<TSettings> : PostgreSqlFactory
    where TSettings : IServerSettings
{
    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        base.ConfigureWebHost(builder);
        TSettings.Apply(builder);
    }
}
