using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using IdentityHub.Core.Access;
using IdentityHub.Data;
using IdentityHub.Data.Directory;
using IdentityHub.Server.IntegrationTests.AdminApi;
using IdentityHub.Testing;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using OpenIddict.EntityFrameworkCore.Models;
using Errors = OpenIddict.Abstractions.OpenIddictConstants.Errors;
using Statuses = OpenIddict.Abstractions.OpenIddictConstants.Statuses;

namespace IdentityHub.Server.IntegrationTests.Oidc;

/// <summary>
/// Issue 7 point 6 through the real OIDC flow: losing a role revokes the refresh tokens and authorizations of the
/// applications it gave rights in (configurable per application), and leaves every other application's alone.
/// </summary>
public abstract class AccessLossRevocationTests<TFactory>(TFactory factory) : IClassFixture<TFactory>
    where TFactory : IdentityHubFactory
{
    private readonly OidcDriver _rp = new(factory);

    [PrerequisiteFact]
    public async Task EndAssignment_ThroughTheAdminApi_RevokesThatApplicationsRefreshTokenAndAuthorizationOnly()
    {
        var (expense, attendance) = (await _rp.RegisterClientAsync(), await _rp.RegisterClientAsync());
        var user = await _rp.CreateUserAsync();
        var approver = await _rp.GrantApplicationRoleAsync(user, expense, "approver");
        await _rp.GrantApplicationRoleAsync(user, attendance, "clerk");
        var expenseRefresh = await RefreshTokenAsync(expense, user);
        var attendanceRefresh = await RefreshTokenAsync(attendance, user);

        using var admin = await AdminApiClient.CreateAdminAsync(factory);
        using var ended = await admin.PostAsJsonAsync($"/api/admin/v1/assignments/{approver}/end", new { reason = "moved to sales" });
        Assert.True(ended.IsSuccessStatusCode, await ended.Content.ReadAsStringAsync());

        await AssertInvalidGrantAsync(expense, expenseRefresh);
        Assert.Equal([Statuses.Revoked], await AuthorizationStatusesAsync(user, expense));
        Assert.Equal(HttpStatusCode.OK, (await _rp.RefreshAsync(attendance, attendanceRefresh)).StatusCode);
        Assert.Equal([Statuses.Valid], await AuthorizationStatusesAsync(user, attendance));
    }

    [PrerequisiteFact]
    public async Task RecordExpired_AssignmentRunsOut_RevokesThatApplicationsRefreshToken()
    {
        var (expense, attendance) = (await _rp.RegisterClientAsync(), await _rp.RegisterClientAsync());
        var user = await _rp.CreateUserAsync();
        // Long enough for both sign-ins on a loaded machine: the first token must still carry the role.
        var until = DateTimeOffset.UtcNow.AddSeconds(20);
        await _rp.GrantApplicationRoleAsync(user, expense, "approver", validUntil: until);
        await _rp.GrantApplicationRoleAsync(user, attendance, "clerk");
        var expenseRefresh = await RefreshTokenAsync(expense, user);
        var attendanceRefresh = await RefreshTokenAsync(attendance, user);
        await Task.Delay(TimeSpan.FromTicks(Math.Max(0, (until - DateTimeOffset.UtcNow + TimeSpan.FromMilliseconds(200)).Ticks)));

        await using (var scope = factory.Services.CreateAsyncScope())
        {
            // The background job may have recorded it already; either way the expiry is recorded once.
            await scope.ServiceProvider.GetRequiredService<AssignmentExpiry>().RecordExpiredAsync(CancellationToken.None);
        }

        await AssertInvalidGrantAsync(expense, expenseRefresh);
        Assert.Equal([Statuses.Revoked], await AuthorizationStatusesAsync(user, expense));
        Assert.Equal(HttpStatusCode.OK, (await _rp.RefreshAsync(attendance, attendanceRefresh)).StatusCode);
    }

    [PrerequisiteFact]
    public async Task EndAssignment_ApplicationSwitchedOffThroughTheApi_KeepsTheRefreshTokenWorking()
    {
        var expense = await _rp.RegisterClientAsync();
        var user = await _rp.CreateUserAsync();
        var approver = await _rp.GrantApplicationRoleAsync(user, expense, "approver");
        var applicationId = await _rp.ApplicationOfAsync(expense);
        using var admin = await AdminApiClient.CreateAdminAsync(factory);
        using var switchedOff = await admin.PutAsJsonAsync($"{AdminApiClient.Applications}/{applicationId}", new { name = expense, revokeTokensOnAccessLoss = false });
        Assert.True(switchedOff.IsSuccessStatusCode, await switchedOff.Content.ReadAsStringAsync());
        var refreshToken = await RefreshTokenAsync(expense, user);

        await using (var scope = factory.Services.CreateAsyncScope())
        {
            await scope.ServiceProvider.GetRequiredService<RoleAssignments>().EndAsync(approver, "moved to sales", CancellationToken.None);
        }

        var refreshed = await _rp.RefreshAsync(expense, refreshToken);
        Assert.Equal(HttpStatusCode.OK, refreshed.StatusCode);
        using var body = await OidcDriver.JsonAsync(refreshed);
        Assert.Empty(AccessTokenRoles(body));
        Assert.Equal([Statuses.Valid], await AuthorizationStatusesAsync(user, expense));
    }

    [PrerequisiteFact]
    public async Task EndAssignment_GlobalRole_RevokesTheApplicationsItsPermissionsBelongTo()
    {
        var (expense, attendance) = (await _rp.RegisterClientAsync(), await _rp.RegisterClientAsync());
        var user = await _rp.CreateUserAsync();
        await _rp.GrantApplicationRoleAsync(user, attendance, "clerk");
        var expenseApplication = await _rp.ApplicationOfAsync(expense);
        Guid global;
        await using (var scope = factory.Services.CreateAsyncScope())
        {
            var services = scope.ServiceProvider;
            var permission = await services.GetRequiredService<Permissions>().CreateAsync(expenseApplication, new("expense.audit", null, null), CancellationToken.None);
            var role = await services.GetRequiredService<Roles>().CreateAsync(new(null, OidcDriver.NewId("auditor"), null, false, [new(permission.Id)]), CancellationToken.None);
            global = (await services.GetRequiredService<RoleAssignments>().GrantAsync(new(user.Id, role.Id, null, null, null, "audits expenses"), CancellationToken.None)).Id;
        }

        var expenseRefresh = await RefreshTokenAsync(expense, user);
        var attendanceRefresh = await RefreshTokenAsync(attendance, user);

        await using (var scope = factory.Services.CreateAsyncScope())
        {
            await scope.ServiceProvider.GetRequiredService<RoleAssignments>().EndAsync(global, "audit finished", CancellationToken.None);
        }

        await AssertInvalidGrantAsync(expense, expenseRefresh);
        Assert.Equal(HttpStatusCode.OK, (await _rp.RefreshAsync(attendance, attendanceRefresh)).StatusCode);
    }

    /// <summary>Signs the user in to the client through the real login page and redeems the code; returns the refresh token.</summary>
    private async Task<string> RefreshTokenAsync(string clientId, UserAccount user)
    {
        var (code, verifier, _, _) = await _rp.ObtainCodeAsync(clientId, "openid offline_access", user: user);
        var response = await _rp.RedeemCodeAsync(clientId, code, verifier);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        using var body = await OidcDriver.JsonAsync(response);
        Assert.NotEmpty(AccessTokenRoles(body));
        return body.RootElement.GetProperty("refresh_token").GetString()!;
    }

    private async Task AssertInvalidGrantAsync(string clientId, string refreshToken)
    {
        var refused = await _rp.RefreshAsync(clientId, refreshToken);
        Assert.Equal(HttpStatusCode.BadRequest, refused.StatusCode);
        await OidcDriver.AssertErrorAsync(refused, Errors.InvalidGrant);
    }

    private async Task<List<string?>> AuthorizationStatusesAsync(UserAccount user, string clientId)
    {
        await using var scope = factory.Services.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<IdentityHubDbContext>();
        return await db.Set<OpenIddictEntityFrameworkCoreAuthorization>().AsNoTracking()
            .Where(a => a.Subject == user.Id && a.Application!.ClientId == clientId).Select(a => a.Status).ToListAsync();
    }

    private static List<string> AccessTokenRoles(JsonDocument tokenResponse)
    {
        var token = new Microsoft.IdentityModel.JsonWebTokens.JsonWebToken(tokenResponse.RootElement.GetProperty("access_token").GetString());
        return token.TryGetPayloadValue<string[]>("roles", out var roles) ? [.. roles] : [];
    }
}

public sealed class SqliteAccessLossRevocationTests(SqliteFactory factory) : AccessLossRevocationTests<SqliteFactory>(factory);

[Requires(Prerequisite.PostgreSql)]
public sealed class PostgreSqlAccessLossRevocationTests(PostgreSqlFactory factory) : AccessLossRevocationTests<PostgreSqlFactory>(factory);
