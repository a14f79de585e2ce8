using System.Net;
using System.Text.Json;
using IdentityHub.Core.Access;
using IdentityHub.Data;
using IdentityHub.Server.Oidc.BackchannelLogout;
using IdentityHub.Testing;
using Microsoft.AspNetCore.Hosting;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;
using static OpenIddict.Abstractions.OpenIddictConstants;

namespace IdentityHub.Server.IntegrationTests.Oidc;

/// <summary>
/// OpenID Connect Back-Channel Logout 1.0 against a real HTTP receiver on a local port: the logout token's
/// contents and signature, delivery after sign-out, and retries after failures.
/// </summary>
public abstract class BackchannelLogoutTests<TFactory>(TFactory factory) : IClassFixture<TFactory>
    where TFactory : IdentityHubFactory
{
    private readonly OidcDriver _rp = new(factory);

    private async Task<(string ClientId, string IdToken, HttpClient Browser, string UserId)> SignedInAsync(string? logoutUri)
    {
        var clientId = await _rp.RegisterClientAsync(configure: d =>
        {
            if (logoutUri is not null)
            {
                d.Properties[ClientProperties.BackchannelLogoutUri] = JsonSerializer.SerializeToElement(logoutUri);
            }
        });
        var (code, verifier, browser, user) = await _rp.ObtainCodeAsync(clientId);
        using var tokens = await OidcDriver.JsonAsync(await _rp.RedeemCodeAsync(clientId, code, verifier));
        return (clientId, tokens.RootElement.GetProperty("id_token").GetString()!, browser, user.Id);
    }

    [PrerequisiteFact]
    public async Task SignOut_ParticipatingClient_ReceivesASignedLogoutTokenForTheSession()
    {
        await using var receiver = await BackchannelLogoutReceiver.StartAsync();
        var (clientId, idToken, browser, userId) = await SignedInAsync(receiver.Url);
        var sid = new JsonWebToken(idToken).GetClaim("sid").Value;

        await BrowserSession.SignOutAsync(browser);
        var logoutToken = await receiver.NextTokenAsync();

        var jwks = new JsonWebKeySet(await factory.CreateClient().GetStringAsync("/.well-known/jwks"));
        var result = await new JsonWebTokenHandler().ValidateTokenAsync(logoutToken, new TokenValidationParameters
        {
            ValidIssuer = "http://localhost/",
            ValidAudience = clientId,
            IssuerSigningKeys = jwks.GetSigningKeys(),
            ValidTypes = ["logout+jwt"],
        });
        Assert.True(result.IsValid, result.Exception?.Message);
        var token = (JsonWebToken)result.SecurityToken;
        Assert.Equal(sid, token.GetClaim("sid").Value);
        Assert.Equal(userId, token.Subject);
        Assert.False(string.IsNullOrEmpty(token.Id));
        Assert.False(token.TryGetClaim("nonce", out _));
        Assert.True(token.TryGetPayloadValue<JsonElement>("events", out var events));
        Assert.Equal(JsonValueKind.Object, events.GetProperty(BackchannelLogoutToken.EventType).ValueKind);
    }

    [PrerequisiteFact]
    public async Task EndSession_WithIdTokenHint_AlsoNotifiesTheParticipatingClient()
    {
        await using var receiver = await BackchannelLogoutReceiver.StartAsync();
        var (clientId, idToken, browser, _) = await SignedInAsync(receiver.Url);

        var response = await browser.GetAsync($"/connect/endsession?id_token_hint={idToken}&client_id={clientId}");
        var logoutToken = await receiver.NextTokenAsync();

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(clientId, new JsonWebToken(logoutToken).Audiences.Single());
    }

    [PrerequisiteFact]
    public async Task SignOut_ReceiverFailsTwice_IsDeliveredOnTheThirdAttempt()
    {
        await using var receiver = await BackchannelLogoutReceiver.StartAsync(failures: 2);
        var (clientId, _, browser, _) = await SignedInAsync(receiver.Url);

        await BrowserSession.SignOutAsync(browser);
        await receiver.NextTokenAsync();

        Assert.Equal(3, receiver.Calls);
        var delivery = await DeliveryForAsync(clientId, d => d.DeliveredAt != null);
        Assert.Equal(3, delivery.Attempts);
    }

    [PrerequisiteFact]
    public async Task SignOut_ReceiverAlwaysFails_GivesUpAfterTheConfiguredAttempts()
    {
        await using var receiver = await BackchannelLogoutReceiver.StartAsync(failures: int.MaxValue);
        var (clientId, _, browser, _) = await SignedInAsync(receiver.Url);

        await BrowserSession.SignOutAsync(browser);
        var delivery = await DeliveryForAsync(clientId, d => d.AbandonedAt != null);

        Assert.Equal(BackchannelFactorySettings.MaxAttempts, delivery.Attempts);
        Assert.Null(delivery.DeliveredAt);
        Assert.Equal("HTTP 503", delivery.LastError);
    }

    [PrerequisiteFact]
    public async Task SignOut_ClientWithoutLogoutUri_QueuesNothing()
    {
        var (clientId, _, browser, _) = await SignedInAsync(logoutUri: null);

        await BrowserSession.SignOutAsync(browser);

        await using var scope = factory.Services.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<IdentityHubDbContext>();
        Assert.False(await db.BackchannelLogoutDeliveries.AnyAsync(d => d.ClientId == clientId));
        Assert.False(await db.SessionParticipants.AnyAsync(p => p.ClientId == clientId), "the ended session's participants are removed");
    }

    private async Task<IdentityHub.Data.Sessions.BackchannelLogoutDelivery> DeliveryForAsync(
        string clientId, Func<IdentityHub.Data.Sessions.BackchannelLogoutDelivery, bool> done)
    {
        IdentityHub.Data.Sessions.BackchannelLogoutDelivery? delivery = null;
        for (var wait = 0; wait < 150; wait++)
        {
            await using var scope = factory.Services.CreateAsyncScope();
            var db = scope.ServiceProvider.GetRequiredService<IdentityHubDbContext>();
            delivery = await db.BackchannelLogoutDeliveries.AsNoTracking().SingleOrDefaultAsync(d => d.ClientId == clientId);
            if (delivery is not null && done(delivery))
            {
                return delivery;
            }

            await Task.Delay(200);
        }

        throw new TimeoutException($"The back-channel logout delivery to {clientId} did not reach the expected state in 30 s; last seen: {System.Text.Json.JsonSerializer.Serialize(delivery)}");
    }
}

/// <summary>Retries in fractions of a second, so the tests can watch them.</summary>
public sealed class BackchannelFactorySettings : IServerSettings
{
    public const int MaxAttempts = 3;

    public static void Apply(IWebHostBuilder builder)
    {
        builder.UseSetting("Oidc:BackchannelLogout:PollInterval", "00:00:00.200");
        builder.UseSetting("Oidc:BackchannelLogout:FirstRetryDelay", "00:00:00.100");
        builder.UseSetting("Oidc:BackchannelLogout:MaxAttempts", MaxAttempts.ToString(System.Globalization.CultureInfo.InvariantCulture));
    }
}

public sealed class SqliteBackchannelLogoutTests(SqliteFactory<BackchannelFactorySettings> factory) : BackchannelLogoutTests<SqliteFactory<BackchannelFactorySettings>>(factory);

[Requires(Prerequisite.PostgreSql)]
public sealed class PostgreSqlBackchannelLogoutTests(PostgreSqlFactory<BackchannelFactorySettings> factory) : BackchannelLogoutTests<PostgreSqlFactory<BackchannelFactorySettings>>(factory);
