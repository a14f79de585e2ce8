using System.Net;
using System.Net.Http.Headers;
using IdentityHub.Core.Directory;
using IdentityHub.Testing;
using Microsoft.IdentityModel.JsonWebTokens;
using static OpenIddict.Abstractions.OpenIddictConstants;
using IdentityHubScopes = IdentityHub.Core.Access.IdentityHubScopes;
using ClientProperties = IdentityHub.Core.Access.ClientProperties;

namespace IdentityHub.Server.IntegrationTests.Oidc;

/// <summary>A user's own token for the admin API (code flow with its scope) carries the admin roles both the user and the client hold.</summary>
public abstract class DelegatedAdminApiTests<TFactory>(TFactory factory) : IClassFixture<TFactory>
    where TFactory : IdentityHubFactory
{
    private readonly OidcDriver _rp = new(factory);

    [PrerequisiteFact]
    public async Task AdminApi_UserTokenOfASecurityAdmin_IsAllowedWithTheUsersRole()
    {
        var user = await _rp.CreateUserAsync();
        await _rp.AddRoleAsync(user, AdminRoles.SecurityAdmin);

        var token = await UserTokenForTheAdminApiAsync(user, AdminRoles.SecurityAdmin);

        Assert.Equal(AdminRoles.SecurityAdmin, new JsonWebToken(token).GetClaim(Claims.Role).Value);
        Assert.Equal(HttpStatusCode.OK, (await GetKeysAsync(token)).StatusCode);
    }

    [PrerequisiteFact]
    public async Task AdminApi_UserTokenThroughAClientHoldingOtherRoles_CarriesNoneOfTheUsersRoles()
    {
        var user = await _rp.CreateUserAsync();
        await _rp.AddRoleAsync(user, AdminRoles.SecurityAdmin);

        var token = await UserTokenForTheAdminApiAsync(user, AdminRoles.Auditor);

        Assert.False(new JsonWebToken(token).TryGetClaim(Claims.Role, out _));
        Assert.Equal(HttpStatusCode.Forbidden, (await GetKeysAsync(token)).StatusCode);
    }

    [PrerequisiteFact]
    public async Task AdminApi_UserTokenOfANonAdministrator_IsForbidden()
    {
        var user = await _rp.CreateUserAsync();

        var token = await UserTokenForTheAdminApiAsync(user, AdminRoles.SecurityAdmin);

        Assert.False(new JsonWebToken(token).TryGetClaim(Claims.Role, out _));
        Assert.Equal(HttpStatusCode.Forbidden, (await GetKeysAsync(token)).StatusCode);
    }

    /// <summary>A token from the code flow through a client allowed the admin API scope and holding <paramref name="clientRole"/>.</summary>
    private async Task<string> UserTokenForTheAdminApiAsync(IdentityHub.Data.Directory.UserAccount user, string clientRole)
    {
        var clientId = await _rp.RegisterClientAsync(configure: d =>
        {
            d.Permissions.Add(Permissions.Prefixes.Scope + IdentityHubScopes.AdminApi);
            d.Properties[ClientProperties.AdminRoles] = System.Text.Json.JsonSerializer.SerializeToElement(new[] { clientRole });
        });
        var (code, verifier, _, _) = await _rp.ObtainCodeAsync(clientId, "openid " + IdentityHubScopes.AdminApi, user: user);
        var response = await _rp.RedeemCodeAsync(clientId, code, verifier);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        using var body = await OidcDriver.JsonAsync(response);
        return body.RootElement.GetProperty("access_token").GetString()!;
    }

    private Task<HttpResponseMessage> GetKeysAsync(string token)
    {
        var request = new HttpRequestMessage(HttpMethod.Get, "/api/admin/v1/keys");
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        return factory.CreateClient().SendAsync(request);
    }
}

public sealed class SqliteDelegatedAdminApiTests(SqliteFactory factory) : DelegatedAdminApiTests<SqliteFactory>(factory);

[Requires(Prerequisite.PostgreSql)]
public sealed class PostgreSqlDelegatedAdminApiTests(PostgreSqlFactory factory) : DelegatedAdminApiTests<PostgreSqlFactory>(factory);
