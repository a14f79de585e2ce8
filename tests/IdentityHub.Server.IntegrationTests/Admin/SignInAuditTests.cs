using System.Net;
using IdentityHub.Data;
using IdentityHub.Data.Audit;
using IdentityHub.Server.IntegrationTests.Oidc;
using IdentityHub.Testing;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace IdentityHub.Server.IntegrationTests.Admin;

/// <summary>
/// Issue 6: sign-in successes, failures and lockouts are security events in the audit trail, with the actor, the
/// target, the caller's IP address and user agent and the request's correlation id. The server listens on a real
/// socket (Kestrel) so the address is a real one.
/// </summary>
public abstract class SignInAuditTests<TFactory>(TFactory factory) : IClassFixture<TFactory>
    where TFactory : IdentityHubFactory
{
    private const string Agent = "SignInAuditTests/1.0";

    private readonly OidcDriver _driver = new(factory);

    [PrerequisiteFact]
    public async Task SignIn_Success_IsAuditedWithActorTargetAddressAgentAndCorrelationId()
    {
        var user = await _driver.CreateUserAsync();

        var response = await BrowserSession.SignInAsync(Browser(), user.UserName!, OidcDriver.Password);

        // Over a real socket the client follows the redirect home; it does not come back to the form.
        Assert.NotEqual("/account/login", response.RequestMessage?.RequestUri?.AbsolutePath);
        var entry = await SingleAsync("signin.succeeded", user.Id);
        Assert.Equal(user.Id, entry.ActorId);
        Assert.Equal(user.UserName, entry.ActorName);
        Assert.Equal("user", entry.TargetType);
        AssertRequestFacts(entry);
    }

    [PrerequisiteFact]
    public async Task SignIn_WrongPasswordAndUnknownName_AreAuditedAsFailuresWithWhatWasTyped()
    {
        var user = await _driver.CreateUserAsync();
        var unknown = OidcDriver.NewId("nobody");

        await BrowserSession.SignInAsync(Browser(), user.UserName!, "wrong-password");
        await BrowserSession.SignInAsync(Browser(), unknown, "wrong-password");

        var known = await SingleAsync("signin.failed", user.Id);
        Assert.Equal(user.Id, known.ActorId);
        Assert.Contains("bad credentials", known.After, StringComparison.Ordinal);
        AssertRequestFacts(known);
        var stranger = await InDatabaseAsync(db => db.AuditEvents.AsNoTracking().SingleAsync(e => e.Type == "signin.failed" && e.ActorName == unknown));
        Assert.Equal("anonymous", stranger.ActorId);
        Assert.Null(stranger.TargetId);
        AssertRequestFacts(stranger);
    }

    [PrerequisiteFact]
    public async Task SignIn_RepeatedFailures_AuditTheLockout()
    {
        var user = await _driver.CreateUserAsync();
        var browser = Browser();
        for (var attempt = 0; attempt < 5; attempt++)
        {
            await BrowserSession.SignInAsync(browser, user.UserName!, "wrong-password");
        }

        var locked = await SingleAsync("account.locked", user.Id);
        Assert.Equal(user.Id, locked.ActorId);
        Assert.Contains("locked out", locked.After, StringComparison.Ordinal);
        AssertRequestFacts(locked);
        Assert.Equal(4, await InDatabaseAsync(db => db.AuditEvents.CountAsync(e => e.Type == "signin.failed" && e.TargetId == user.Id)));
    }

    private static void AssertRequestFacts(AuditEvent entry)
    {
        Assert.True(IPAddress.TryParse(entry.IpAddress, out var address), $"No IP address in event {entry.Sequence}: '{entry.IpAddress}'.");
        Assert.True(IPAddress.IsLoopback(address.IsIPv4MappedToIPv6 ? address.MapToIPv4() : address), entry.IpAddress);
        Assert.Equal(Agent, entry.UserAgent);
        Assert.False(string.IsNullOrWhiteSpace(entry.CorrelationId), $"No correlation id in event {entry.Sequence}.");
    }

    private HttpClient Browser()
    {
        factory.StartServer();
        var address = factory.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        var client = factory.CreateClient(new WebApplicationFactoryClientOptions { AllowAutoRedirect = false, HandleCookies = true, BaseAddress = new Uri(address) });
        client.DefaultRequestHeaders.UserAgent.ParseAdd(Agent);
        return client;
    }

    private Task<AuditEvent> SingleAsync(string type, string target) =>
        InDatabaseAsync(db => db.AuditEvents.AsNoTracking().SingleAsync(e => e.Type == type && e.TargetId == target));

    private Task<T> InDatabaseAsync<T>(Func<IdentityHubDbContext, Task<T>> query) => AdminApi.AdminCallers.InDatabaseAsync(factory, query);
}

/// <summary>A server on a SQLite file, listening on a real loopback port.</summary>
public sealed class KestrelSqliteFactory : SqliteFactory
{
    public KestrelSqliteFactory() => UseKestrel(0);
}

/// <summary>A server on a PostgreSQL database, listening on a real loopback port.</summary>
public sealed class KestrelPostgreSqlFactory : PostgreSqlFactory
{
    public KestrelPostgreSqlFactory() => UseKestrel(0);
}

public sealed class SqliteSignInAuditTests(KestrelSqliteFactory factory) : SignInAuditTests<KestrelSqliteFactory>(factory);

[Requires(Prerequisite.PostgreSql)]
public sealed class PostgreSqlSignInAuditTests(KestrelPostgreSqlFactory factory) : SignInAuditTests<KestrelPostgreSqlFactory>(factory);
