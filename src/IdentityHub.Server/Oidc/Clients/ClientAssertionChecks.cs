using System.Security.Cryptography;
using System.Text;
using Microsoft.EntityFrameworkCore;
using Microsoft.IdentityModel.Tokens;
using OpenIddict.Abstractions;
using OpenIddict.Server;
using static OpenIddict.Abstractions.OpenIddictConstants;
using static OpenIddict.Server.OpenIddictServerEvents;

namespace IdentityHub.Server.Oidc.Clients;

/// <summary>
/// What IdentityHub adds to OpenIddict 7's private_key_jwt checks (OpenIddict verifies the signature
/// against the client's JSON Web Key Set, typ "client-authentication+jwt", iss = sub = client_id,
/// aud = the issuer, exp): refusals say invalid_client, and a jti is accepted once.
/// </summary>
public static class ClientAssertionChecks
{
    public static IEnumerable<OpenIddictServerHandlerDescriptor> Descriptors =>
        [RejectForeignAudience.Descriptor, RejectReplayedAssertion.Descriptor];

    /// <summary>
    /// RFC 6749 §5.2: a failed client authentication is invalid_client. OpenIddict's generic audience
    /// check answers invalid_token, so the same check runs first here, for client assertions only.
    /// </summary>
    public sealed class RejectForeignAudience : IOpenIddictServerHandler<ValidateTokenContext>
    {
        public static OpenIddictServerHandlerDescriptor Descriptor { get; } =
            OpenIddictServerHandlerDescriptor.CreateBuilder<ValidateTokenContext>()
                .UseSingletonHandler<RejectForeignAudience>()
                .SetOrder(OpenIddictServerHandlers.Protection.ValidateAudiences.Descriptor.Order - 100)
                .SetType(OpenIddictServerHandlerType.Custom)
                .Build();

        public ValueTask HandleAsync(ValidateTokenContext context)
        {
            ArgumentNullException.ThrowIfNull(context);
            if (context.Principal is null || context.DisableAudienceValidation || context.ValidAudiences.Count == 0
                || !context.ValidTokenTypes.Contains(TokenTypeIdentifiers.Private.ClientAssertion))
            {
                return ValueTask.CompletedTask;
            }

            // draft-ietf-oauth-rfc7523bis §4: the audience is this server's issuer identifier.
            if (!context.Principal.GetAudiences().Any(context.ValidAudiences.Contains))
            {
                context.Reject(
                    error: Errors.InvalidClient,
                    description: "The client assertion's audience must be this server's issuer identifier.");
            }

            return ValueTask.CompletedTask;
        }
    }

    /// <summary>
    /// RFC 7523 §3 (item 7): a jti may be used once. Each accepted assertion leaves a redeemed entry in
    /// OpenIddict's token table until it expires (pruned with the other tokens); the unique reference id
    /// also stops two nodes accepting the same assertion at once.
    /// </summary>
    public sealed class RejectReplayedAssertion(IOpenIddictTokenManager tokens, IOpenIddictApplicationManager applications)
        : IOpenIddictServerHandler<ProcessAuthenticationContext>
    {
        public static OpenIddictServerHandlerDescriptor Descriptor { get; } =
            OpenIddictServerHandlerDescriptor.CreateBuilder<ProcessAuthenticationContext>()
                // Only requests that authenticate with an assertion pay for resolving this handler.
                .AddFilter<OpenIddictServerHandlerFilters.RequireClientAssertionPrincipal>()
                .UseScopedHandler<RejectReplayedAssertion>()
                .SetOrder(OpenIddictServerHandlers.ValidateClientAssertionIssuer.Descriptor.Order + 500)
                .SetType(OpenIddictServerHandlerType.Custom)
                .Build();

        public async ValueTask HandleAsync(ProcessAuthenticationContext context)
        {
            ArgumentNullException.ThrowIfNull(context);
            if (context.IsRejected || context.ClientAssertionPrincipal is not { } assertion)
            {
                return;
            }

            var clientId = assertion.GetClaim(Claims.Subject);
            var jti = assertion.GetClaim(Claims.JwtId);
            var expires = assertion.GetExpirationDate();
            if (string.IsNullOrEmpty(clientId) || string.IsNullOrEmpty(jti) || expires is null)
            {
                context.Reject(Errors.InvalidClient, "The client assertion must carry sub, jti and exp (RFC 7523 §3).");
                return;
            }

            var referenceId = "ca:" + Base64UrlEncoder.Encode(SHA256.HashData(Encoding.UTF8.GetBytes(clientId + "\n" + jti)));
            if (await tokens.FindByReferenceIdAsync(referenceId, context.CancellationToken) is not null)
            {
                context.Reject(Errors.InvalidClient, "This client assertion was already used; sign a new one with a fresh jti.");
                return;
            }

            var application = await applications.FindByClientIdAsync(clientId, context.CancellationToken);
            try
            {
                await tokens.CreateAsync(new OpenIddictTokenDescriptor
                {
                    ApplicationId = application is null ? null : await applications.GetIdAsync(application, context.CancellationToken),
                    CreationDate = context.Options.TimeProvider.GetUtcNow(),
                    ExpirationDate = expires,
                    ReferenceId = referenceId,
                    Status = Statuses.Redeemed,
                    Subject = clientId,
                    Type = TokenTypeIdentifiers.Private.ClientAssertion,
                }, context.CancellationToken);
            }
            catch (DbUpdateException)
            {
                // Another request recorded the same jti between the look-up and the insert.
                context.Reject(Errors.InvalidClient, "This client assertion was already used; sign a new one with a fresh jti.");
            }
        }
    }
}
