using IdentityHub.Server.Oidc.Pruning;
using IdentityHub.Testing;
using Microsoft.Extensions.DependencyInjection;
using OpenIddict.Abstractions;
using static OpenIddict.Abstractions.OpenIddictConstants;

namespace IdentityHub.Server.IntegrationTests.Oidc;

/// <summary>Issue 4 point 6: expired tokens and authorizations are pruned by a background service.</summary>
public abstract class TokenPruningTests<TFactory>(TFactory factory) : IClassFixture<TFactory>
    where TFactory : IdentityHubFactory
{
    [PrerequisiteFact]
    public async Task RunOnce_OldExpiredToken_IsDeletedAndALiveOneKept()
    {
        var now = DateTimeOffset.UtcNow;
        // Older than the default age (14 days, the default refresh token lifetime).
        var expired = await CreateTokenAsync(created: now.AddDays(-20), expires: now.AddDays(-19));
        var live = await CreateTokenAsync(created: now.AddDays(-20), expires: now.AddDays(30));

        var outcome = await factory.Services.GetRequiredService<TokenPruningService>().RunOnceAsync(CancellationToken.None);

        Assert.True(outcome.Tokens >= 1, $"Pruned {outcome.Tokens} tokens.");
        await using var scope = factory.Services.CreateAsyncScope();
        var tokens = scope.ServiceProvider.GetRequiredService<IOpenIddictTokenManager>();
        Assert.Null(await tokens.FindByIdAsync(expired));
        Assert.NotNull(await tokens.FindByIdAsync(live));
    }

    [PrerequisiteFact]
    public async Task RunOnce_RecentlyExpiredToken_IsKeptForTheConfiguredAge()
    {
        var now = DateTimeOffset.UtcNow;
        var recent = await CreateTokenAsync(created: now.AddDays(-3), expires: now.AddDays(-2));

        await factory.Services.GetRequiredService<TokenPruningService>().RunOnceAsync(CancellationToken.None);

        await using var scope = factory.Services.CreateAsyncScope();
        Assert.NotNull(await scope.ServiceProvider.GetRequiredService<IOpenIddictTokenManager>().FindByIdAsync(recent));
    }

    [PrerequisiteFact]
    public async Task RunOnce_OldRevokedAuthorization_IsDeleted()
    {
        string id;
        await using (var scope = factory.Services.CreateAsyncScope())
        {
            var authorizations = scope.ServiceProvider.GetRequiredService<IOpenIddictAuthorizationManager>();
            var revoked = await authorizations.CreateAsync(new OpenIddictAuthorizationDescriptor
            {
                CreationDate = DateTimeOffset.UtcNow.AddDays(-20),
                Status = Statuses.Revoked,
                Subject = "pruning-test",
                Type = AuthorizationTypes.Permanent,
            });
            id = (await authorizations.GetIdAsync(revoked))!;
        }

        var outcome = await factory.Services.GetRequiredService<TokenPruningService>().RunOnceAsync(CancellationToken.None);

        Assert.True(outcome.Authorizations >= 1, $"Pruned {outcome.Authorizations} authorizations.");
        await using var lookup = factory.Services.CreateAsyncScope();
        Assert.Null(await lookup.ServiceProvider.GetRequiredService<IOpenIddictAuthorizationManager>().FindByIdAsync(id));
    }

    private async Task<string> CreateTokenAsync(DateTimeOffset created, DateTimeOffset expires)
    {
        await using var scope = factory.Services.CreateAsyncScope();
        var tokens = scope.ServiceProvider.GetRequiredService<IOpenIddictTokenManager>();
        var token = await tokens.CreateAsync(new OpenIddictTokenDescriptor
        {
            CreationDate = created,
            ExpirationDate = expires,
            Status = Statuses.Valid,
            Subject = "pruning-test",
            Type = TokenTypeHints.RefreshToken,
        });
        return (await tokens.GetIdAsync(token))!;
    }
}

public sealed class SqliteTokenPruningTests(SqliteFactory factory) : TokenPruningTests<SqliteFactory>(factory);

[Requires(Prerequisite.PostgreSql)]
public sealed class PostgreSqlTokenPruningTests(PostgreSqlFactory factory) : TokenPruningTests<PostgreSqlFactory>(factory);
