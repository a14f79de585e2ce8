using System.Security.Cryptography;
using IdentityHub.Data.Sessions;
using Microsoft.Extensions.Options;
using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;
using OpenIddict.Server;

namespace IdentityHub.Server.Oidc.BackchannelLogout;

/// <summary>OpenID Connect Back-Channel Logout 1.0 §2.4: the logout token, signed with the server's current signing key.</summary>
public sealed class BackchannelLogoutToken(IOptionsMonitor<OpenIddictServerOptions> serverOptions, TimeProvider clock)
{
    public const string TokenType = "logout+jwt";
    public const string EventType = "http://schemas.openid.net/event/backchannel-logout";
    private static readonly JsonWebTokenHandler Handler = new();

    public string Create(BackchannelLogoutDelivery delivery)
    {
        ArgumentNullException.ThrowIfNull(delivery);
        var now = clock.GetUtcNow().UtcDateTime;
        return Handler.CreateToken(new SecurityTokenDescriptor
        {
            TokenType = TokenType,
            Issuer = delivery.Issuer,
            Audience = delivery.ClientId,
            IssuedAt = now,
            // §2.4 recommends a short lifetime: the token is used at once or not at all.
            Expires = now.AddMinutes(2),
            SigningCredentials = serverOptions.CurrentValue.SigningCredentials.First(),
            // §2.4: sub and sid identify what ended; events marks it a logout token; a nonce is forbidden.
            Claims = new Dictionary<string, object>
            {
                [JwtRegisteredClaimNames.Jti] = Base64UrlEncoder.Encode(RandomNumberGenerator.GetBytes(16)),
                [JwtRegisteredClaimNames.Sub] = delivery.UserId,
                ["sid"] = delivery.Sid,
                ["events"] = new Dictionary<string, object> { [EventType] = new Dictionary<string, object>() },
            },
        });
    }
}
