using System.Security.Claims;
using IdentityHub.Core;
using IdentityHub.Core.Audit;
using IdentityHub.Core.Directory;
using IdentityHub.Data;
using IdentityHub.Server.Oidc;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.EntityFrameworkCore;
using OpenIddict.Abstractions;

namespace IdentityHub.Server.AdminApi;

public sealed record ClientSecretResponse(string ClientId, string ClientSecret);

/// <summary>
/// /applications/{id}/oidc: the application's OIDC client (an OpenIddict application). The server draws
/// the client id and the secret; the secret is returned once and stored only as a digest.
/// </summary>
public static class ApplicationOidcApi
{
    public static void MapApplicationOidcApi(this IEndpointRouteBuilder api)
    {
        var oidc = api.MapGroup("/applications/{id:guid}/oidc");
        oidc.MapGet("/", GetAsync);
        oidc.MapPut("/", PutAsync).RequireAuthorization(AdminApiPolicies.Security);
        oidc.MapDelete("/", DeleteAsync).RequireAuthorization(AdminApiPolicies.Security);
        oidc.MapPost("/secret", RotateSecretAsync).RequireAuthorization(AdminApiPolicies.Security);
    }

    private static async Task<Results<Ok<ClientRegistrationResponse>, NotFound>> GetAsync(
        Guid id, IdentityHubDbContext db, IOpenIddictApplicationManager clients, CancellationToken cancellationToken)
    {
        var application = await db.Applications.AsNoTracking().SingleOrDefaultAsync(a => a.Id == id, cancellationToken);
        if (application?.OidcClientId is not { } clientId || await clients.FindByClientIdAsync(clientId, cancellationToken) is not { } client)
        {
            return TypedResults.NotFound();
        }

        return TypedResults.Ok(await ClientRegistration.ReadAsync(clients, client, cancellationToken));
    }

    /// <summary>Creates or replaces the client; the client id stays, a secret is kept unless the method no longer uses one.</summary>
    private static async Task<Results<Ok<ClientRegistrationResponse>, NotFound, ValidationProblem, ProblemHttpResult>> PutAsync(
        Guid id, ClientRegistrationRequest request, ClaimsPrincipal caller, IdentityHubDbContext db, IOpenIddictApplicationManager clients,
        ClientCache cache, AuditTrail audit, TimeProvider clock, CancellationToken cancellationToken)
    {
        var application = await db.Applications.SingleOrDefaultAsync(a => a.Id == id, cancellationToken);
        if (application is null)
        {
            return TypedResults.NotFound();
        }

        var errors = ClientRegistration.Validate(request);
        if (errors.Count > 0)
        {
            return TypedResults.ValidationProblem(errors);
        }

        string? newSecret = null;
        object client;
        await using (var transaction = await db.Database.BeginTransactionAsync(cancellationToken))
        {
            var existing = application.OidcClientId is { } current ? await clients.FindByClientIdAsync(current, cancellationToken) : null;
            var previous = existing is null ? null : (await ClientRegistration.ReadAsync(clients, existing, cancellationToken)) with { ClientSecret = null };
            var heldRoles = previous?.AdminRoles ?? [];
            if (!MayManage(caller, [.. heldRoles, .. request.AdminRoles ?? []]))
            {
                return BeyondCallersRoles();
            }

            var clientId = application.OidcClientId ?? ClientRegistration.NewClientId(application.Name);
            var descriptor = ClientRegistration.ToDescriptor(request, clientId, application.Name, application.Id);
            if (existing is null)
            {
                newSecret = ClientRegistration.UsesSecret(request) ? ClientSecrets.Generate() : null;
                descriptor.ClientSecret = newSecret;
                client = await clients.CreateAsync(descriptor, cancellationToken);
            }
            else
            {
                var stored = new OpenIddictApplicationDescriptor();
                await clients.PopulateAsync(stored, existing, cancellationToken);
                if (ClientRegistration.UsesSecret(request))
                {
                    // The stored digest is handed back unchanged, so OpenIddict keeps it; a client that had none gets one.
                    newSecret = string.IsNullOrEmpty(stored.ClientSecret) ? ClientSecrets.Generate() : null;
                    descriptor.ClientSecret = newSecret ?? stored.ClientSecret;
                }

                await clients.UpdateAsync(existing, descriptor, cancellationToken);
                client = existing;
            }

            application.OidcClientId = clientId;
            application.UpdatedAt = Revision.After(application.UpdatedAt, clock);
            // The audit trail keeps the registration, never a secret.
            var registered = (await ClientRegistration.ReadAsync(clients, client, cancellationToken)) with { ClientSecret = null };
            await audit.RecordAsync(existing is null ? "client.registered" : "client.updated", "application", application.Id.ToString(), previous, registered, cancellationToken);
            await db.SaveChangesAsync(cancellationToken);
            await transaction.CommitAsync(cancellationToken);
            cache.Invalidate(clientId);
        }

        var response = await ClientRegistration.ReadAsync(clients, client, cancellationToken);
        return TypedResults.Ok(response with { ClientSecret = newSecret });
    }

    private static async Task<Results<NoContent, NotFound, ProblemHttpResult>> DeleteAsync(
        Guid id, ClaimsPrincipal caller, IdentityHubDbContext db, IOpenIddictApplicationManager clients, ClientCache cache, AuditTrail audit,
        TimeProvider clock, CancellationToken cancellationToken)
    {
        var application = await db.Applications.SingleOrDefaultAsync(a => a.Id == id, cancellationToken);
        if (application?.OidcClientId is not { } clientId)
        {
            return TypedResults.NotFound();
        }

        await using (var transaction = await db.Database.BeginTransactionAsync(cancellationToken))
        {
            ClientRegistrationResponse? previous = null;
            if (await clients.FindByClientIdAsync(clientId, cancellationToken) is { } client)
            {
                previous = (await ClientRegistration.ReadAsync(clients, client, cancellationToken)) with { ClientSecret = null };
                if (!MayManage(caller, previous.AdminRoles))
                {
                    return BeyondCallersRoles();
                }

                await clients.DeleteAsync(client, cancellationToken);
            }

            application.OidcClientId = null;
            application.UpdatedAt = Revision.After(application.UpdatedAt, clock);
            await audit.RecordAsync("client.deleted", "application", application.Id.ToString(), previous, after: null, cancellationToken);
            await db.SaveChangesAsync(cancellationToken);
            await transaction.CommitAsync(cancellationToken);
        }

        cache.Invalidate(clientId);
        return TypedResults.NoContent();
    }

    /// <summary>Replaces the secret at once: the old one stops working (on other nodes within the client cache expiry).</summary>
    private static async Task<Results<Ok<ClientSecretResponse>, NotFound, ValidationProblem, ProblemHttpResult>> RotateSecretAsync(
        Guid id, ClaimsPrincipal caller, IdentityHubDbContext db, IOpenIddictApplicationManager clients, ClientCache cache, AuditTrail audit,
        CancellationToken cancellationToken)
    {
        var application = await db.Applications.AsNoTracking().SingleOrDefaultAsync(a => a.Id == id, cancellationToken);
        if (application?.OidcClientId is not { } clientId || await clients.FindByClientIdAsync(clientId, cancellationToken) is not { } client)
        {
            return TypedResults.NotFound();
        }

        var registration = await ClientRegistration.ReadAsync(clients, client, cancellationToken);
        if (!MayManage(caller, registration.AdminRoles))
        {
            return BeyondCallersRoles();
        }

        if (registration.TokenEndpointAuthMethod is not (ClientRegistration.SecretBasic or ClientRegistration.SecretPost))
        {
            return TypedResults.ValidationProblem(new Dictionary<string, string[]>
            {
                ["tokenEndpointAuthMethod"] = [$"This client authenticates with {registration.TokenEndpointAuthMethod}; it has no secret to rotate."],
            });
        }

        var secret = ClientSecrets.Generate();
        await using (var transaction = await db.Database.BeginTransactionAsync(cancellationToken))
        {
            await clients.UpdateAsync(client, secret, cancellationToken);
            await audit.RecordAsync("client.secret-rotated", "application", application.Id.ToString(), before: null, after: new { clientId }, cancellationToken);
            await db.SaveChangesAsync(cancellationToken);
            await transaction.CommitAsync(cancellationToken);
        }

        cache.Invalidate(clientId);
        return TypedResults.Ok(new ClientSecretResponse(clientId, secret));
    }

    /// <summary>
    /// A client's admin roles become its tokens' rights, so a caller may only register, re-key or delete a
    /// client whose admin roles it holds itself (a super administrator holds them all).
    /// </summary>
    private static bool MayManage(ClaimsPrincipal caller, IEnumerable<string> adminRoles) =>
        caller.IsInRole(AdminRoles.SuperAdmin) || adminRoles.All(caller.IsInRole);

    private static ProblemHttpResult BeyondCallersRoles() => TypedResults.Problem(
        statusCode: StatusCodes.Status403Forbidden,
        title: "Admin roles beyond your own",
        detail: "This client holds (or would hold) admin roles you do not have; ask an administrator who holds them.");
}
