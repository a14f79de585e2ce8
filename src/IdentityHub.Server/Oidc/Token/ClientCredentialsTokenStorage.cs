using OpenIddict.Abstractions;
using OpenIddict.Server;
using static OpenIddict.Abstractions.OpenIddictConstants;
using static OpenIddict.Server.OpenIddictServerEvents;

namespace IdentityHub.Server.Oidc.Token;

/// <summary>
/// Skips the database entry OpenIddict writes for every access token when the token comes from the
/// client credentials grant: such a token is a short-lived self-contained JWT with no refresh token
/// and no user session to revoke, so the row (one write per request, SQLite's single-writer bottleneck)
/// buys nothing. Codes and refresh tokens keep their entries: replay and reuse detection need them.
/// OpenIddict sets <see cref="GenerateTokenContext.CreateTokenEntry"/> from its global DisableTokenStorage
/// option in GenerateAccessToken; this handler narrows it before Protection.CreateTokenEntry runs.
/// </summary>
public sealed class ClientCredentialsTokenStorage(IConfiguration configuration) : IOpenIddictServerHandler<GenerateTokenContext>
{
    /// <summary>Config key: true stores client credentials access tokens like OpenIddict does by default (for comparison).</summary>
    public const string StoreSettingKey = "Oidc:StoreClientCredentialsAccessTokens";

    public static OpenIddictServerHandlerDescriptor Descriptor { get; } =
        OpenIddictServerHandlerDescriptor.CreateBuilder<GenerateTokenContext>()
            .UseSingletonHandler<ClientCredentialsTokenStorage>()
            .SetOrder(OpenIddictServerHandlers.Protection.CreateTokenEntry.Descriptor.Order - 500)
            .SetType(OpenIddictServerHandlerType.Custom)
            .Build();

    // Read once: the handler is a singleton, and the setting is for a benchmark's whole run.
    private readonly bool _storeLikeOpenIddict = configuration.GetValue(StoreSettingKey, defaultValue: false);

    public ValueTask HandleAsync(GenerateTokenContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        if (!_storeLikeOpenIddict
            && context.CreateTokenEntry
            && context.TokenType is TokenTypeIdentifiers.AccessToken or TokenTypeHints.AccessToken
            && context.EndpointType == OpenIddictServerEndpointType.Token
            && context.Request?.IsClientCredentialsGrantType() == true)
        {
            context.CreateTokenEntry = false;
        }

        return ValueTask.CompletedTask;
    }
}
