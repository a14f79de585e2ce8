using Microsoft.IdentityModel.JsonWebTokens;
using Microsoft.IdentityModel.Tokens;
using OpenIddict.Server;
using OpenIddict.Validation;
using static OpenIddict.Abstractions.OpenIddictConstants;

namespace IdentityHub.Server.Oidc.Keys;

/// <summary>
/// A token of this issuer that names a key this node does not know may come from another node that has just started
/// signing with it: reload the key ring before refusing, in both places tokens are validated here — the server
/// (introspection, userinfo, token redemption) and the validation handler in front of the admin API. The reload is
/// rate-limited in <see cref="KeyRotationService.TryLearnKeyAsync"/>, so made-up kids cannot hammer the database.
/// </summary>
public static class UnknownKeyHandlers
{
    /// <summary>Runs right before OpenIddict checks the token's signature against the keys it was built with.</summary>
    public sealed class ReloadForServer(KeyRotationService keys, KeyRing ring) : IOpenIddictServerHandler<OpenIddictServerEvents.ValidateTokenContext>
    {
        public static OpenIddictServerHandlerDescriptor Descriptor { get; } =
            OpenIddictServerHandlerDescriptor.CreateBuilder<OpenIddictServerEvents.ValidateTokenContext>()
                .UseSingletonHandler<ReloadForServer>()
                .SetOrder(OpenIddictServerHandlers.Protection.ValidateIdentityModelToken.Descriptor.Order - 500)
                .SetType(OpenIddictServerHandlerType.Custom)
                .Build();

        public async ValueTask HandleAsync(OpenIddictServerEvents.ValidateTokenContext context)
        {
            ArgumentNullException.ThrowIfNull(context);
            // Client assertions are signed with the client's own keys, never with this server's.
            if (context.Principal is not null || context.ValidTokenTypes.Contains(TokenTypeIdentifiers.Private.ClientAssertion))
            {
                return;
            }

            await LearnUnknownKeyAsync(keys, ring, context.Token, context.TokenValidationParameters, context.CancellationToken);
        }
    }

    /// <summary>The same, for the admin API's bearer tokens.</summary>
    public sealed class ReloadForValidation(KeyRotationService keys, KeyRing ring) : IOpenIddictValidationHandler<OpenIddictValidationEvents.ValidateTokenContext>
    {
        public static OpenIddictValidationHandlerDescriptor Descriptor { get; } =
            OpenIddictValidationHandlerDescriptor.CreateBuilder<OpenIddictValidationEvents.ValidateTokenContext>()
                .UseSingletonHandler<ReloadForValidation>()
                .SetOrder(OpenIddictValidationHandlers.Protection.ValidateIdentityModelToken.Descriptor.Order - 500)
                .SetType(OpenIddictValidationHandlerType.Custom)
                .Build();

        public async ValueTask HandleAsync(OpenIddictValidationEvents.ValidateTokenContext context)
        {
            ArgumentNullException.ThrowIfNull(context);
            if (context.Principal is not null)
            {
                return;
            }

            await LearnUnknownKeyAsync(keys, ring, context.Token, context.TokenValidationParameters, context.CancellationToken);
        }
    }

    /// <summary>
    /// When the token's kid is not among the keys OpenIddict was built with, reloads the ring and, if the key is known now,
    /// adds the ring's keys to this validation (OpenIddict rebuilds its own options from the new ring for later requests).
    /// </summary>
    private static async Task LearnUnknownKeyAsync(
        KeyRotationService keys, KeyRing ring, string? token, TokenValidationParameters? parameters, CancellationToken cancellationToken)
    {
        if (parameters is null || KeyIdOfOwnToken(token, parameters) is not { } kid || IsKnown(parameters, kid))
        {
            return;
        }

        if (!await keys.TryLearnKeyAsync(kid, cancellationToken))
        {
            return;
        }

        var snapshot = ring.Current;
        parameters.IssuerSigningKeys = [.. parameters.IssuerSigningKeys ?? [], .. snapshot.Signing.Select(k => k.Key)];
        parameters.TokenDecryptionKeys = [.. parameters.TokenDecryptionKeys ?? [], .. snapshot.Encryption.Select(k => k.Key)];
    }

    /// <summary>
    /// The kid of a compact JWT (JWS or JWE) that claims to come from this issuer, or null. A JWE's claims are sealed, but
    /// only this server makes the encrypted tokens it reads, so its kid counts.
    /// </summary>
    public static string? KeyIdOfOwnToken(string? token, TokenValidationParameters parameters)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        if (string.IsNullOrEmpty(token) || token.Length > TokenValidationParameters.DefaultMaximumTokenSizeInBytes)
        {
            return null;
        }

        JsonWebToken jwt;
        try
        {
            jwt = new JsonWebToken(token);
        }
        catch (ArgumentException)
        {
            // Not a JWT (SecurityTokenMalformedException is an ArgumentException): OpenIddict refuses it on its own.
            return null;
        }

        if (string.IsNullOrEmpty(jwt.Kid))
        {
            return null;
        }

        if (!jwt.IsEncrypted && parameters.ValidIssuers is { } issuers && !issuers.Contains(jwt.Issuer, StringComparer.Ordinal))
        {
            return null;
        }

        return jwt.Kid;
    }

    private static bool IsKnown(TokenValidationParameters parameters, string kid) =>
        (parameters.IssuerSigningKeys ?? []).Concat(parameters.TokenDecryptionKeys ?? []).Any(k => k.KeyId == kid)
        || parameters.IssuerSigningKey?.KeyId == kid
        || parameters.TokenDecryptionKey?.KeyId == kid;
}
