using System.Text.Json;
using IdentityHub.Core.Audit;
using IdentityHub.Data;
using IdentityHub.Data.Access;
using Microsoft.EntityFrameworkCore;
using OpenIddict.Abstractions;
using static OpenIddict.Abstractions.OpenIddictConstants;
using OidcPermissions = OpenIddict.Abstractions.OpenIddictConstants.Permissions;

namespace IdentityHub.Core.Access;

/// <summary>A secret the server just drew for a client: shown once, stored only as a digest.</summary>
public sealed record ClientSecretIssued(string ClientId, string ClientSecret);

/// <summary>
/// An application's OIDC client (an OpenIddict application). The server draws the client id and the secret; the
/// secret is returned once and stored only as a digest, and the audit trail keeps the registration, never a secret.
/// Every write goes through here: the process-wide <see cref="ClientCache"/> is invalidated after the commit.
/// The client has no revision of its own: every write moves its application's, and <c>expectedRevision</c> (the
/// caller's If-Match, null for no check) is compared with the application's.
/// </summary>
public sealed class OidcClients(
    IdentityHubDbContext db, IOpenIddictApplicationManager clients, ClientCache cache, AuditTrail audit, CurrentActor actor, TimeProvider clock)
{
    private const string What = "application or its OIDC client";

    /// <summary>Creates or replaces the client; the client id stays, a secret is kept unless the method no longer uses one.</summary>
    public async Task<ClientRegistrationResponse> RegisterAsync(
        Guid applicationId, ClientRegistrationRequest request, long? expectedRevision, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        var application = await FindApplicationAsync(applicationId, cancellationToken);
        Revision.Check(What, application.UpdatedAt, expectedRevision);
        ClientRegistration.Validate(request);
        var clientId = application.OidcClientId ?? ClientRegistration.NewClientId(application.Name);
        string? newSecret = null;
        var client = await db.InTransactionAsync(async () =>
        {
            var existing = application.OidcClientId is { } current ? await clients.FindByClientIdAsync(current, cancellationToken) : null;
            var previous = existing is null ? null : (await ClientRegistration.ReadAsync(clients, existing, cancellationToken)) with { ClientSecret = null };
            EnsureMayManage([.. previous?.AdminRoles ?? [], .. request.AdminRoles ?? []]);

            var descriptor = ClientRegistration.ToDescriptor(request, clientId, application.Name, application.Id);
            object client;
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
            var registered = (await ClientRegistration.ReadAsync(clients, client, cancellationToken)) with { ClientSecret = null };
            await audit.RecordAsync(existing is null ? "client.registered" : "client.updated", "application", application.Id.ToString(), previous, registered, cancellationToken);
            await db.SaveChangesAsync(cancellationToken);
            return client;
        }, cancellationToken);

        cache.Invalidate(clientId);
        return (await ClientRegistration.ReadAsync(clients, client, cancellationToken)) with { ClientSecret = newSecret };
    }

    /// <summary>Switches the client off (no code, no token) or on again, keeping the rest of its registration.</summary>
    public async Task<ClientRegistrationResponse> SetEnabledAsync(Guid applicationId, bool enabled, long? expectedRevision, CancellationToken cancellationToken)
    {
        var (_, registration) = await FindClientAsync(applicationId, cancellationToken);
        return await RegisterAsync(applicationId, ClientRegistration.RequestOf(registration) with { Enabled = enabled }, expectedRevision, cancellationToken);
    }

    /// <summary>Deletes the client (OpenIddict removes its tokens and authorizations) and unlinks the application.</summary>
    public async Task DeleteAsync(Guid applicationId, long? expectedRevision, CancellationToken cancellationToken)
    {
        var application = await FindApplicationAsync(applicationId, cancellationToken);
        Revision.Check(What, application.UpdatedAt, expectedRevision);
        if (application.OidcClientId is not { } clientId)
        {
            throw NoClient(applicationId);
        }

        await db.InTransactionAsync(async () =>
        {
            ClientRegistrationResponse? previous = null;
            if (await clients.FindByClientIdAsync(clientId, cancellationToken) is { } client)
            {
                previous = (await ClientRegistration.ReadAsync(clients, client, cancellationToken)) with { ClientSecret = null };
                EnsureMayManage(previous.AdminRoles);
                await clients.DeleteAsync(client, cancellationToken);
            }

            application.OidcClientId = null;
            application.UpdatedAt = Revision.After(application.UpdatedAt, clock);
            await audit.RecordAsync("client.deleted", "application", application.Id.ToString(), previous, after: null, cancellationToken);
            await db.SaveChangesAsync(cancellationToken);
        }, cancellationToken);

        cache.Invalidate(clientId);
    }

    /// <summary>Replaces the secret at once: the old one stops working (on other nodes within the client cache expiry).</summary>
    public async Task<ClientSecretIssued> RotateSecretAsync(Guid applicationId, long? expectedRevision, CancellationToken cancellationToken)
    {
        var application = await FindApplicationAsync(applicationId, cancellationToken);
        Revision.Check(What, application.UpdatedAt, expectedRevision);
        var (client, registration) = await FindClientAsync(applicationId, cancellationToken);
        EnsureMayManage(registration.AdminRoles);
        if (registration.TokenEndpointAuthMethod is not (ClientRegistration.SecretBasic or ClientRegistration.SecretPost))
        {
            throw RuleViolation.Field("tokenEndpointAuthMethod", $"This client authenticates with {registration.TokenEndpointAuthMethod}; it has no secret to rotate.",
                ViolationKind.Invalid, "client.noSecret", registration.TokenEndpointAuthMethod);
        }

        var secret = ClientSecrets.Generate();
        await db.InTransactionAsync(async () =>
        {
            await clients.UpdateAsync(client, secret, cancellationToken);
            // A page still showing the old secret's revision cannot rotate it a second time by a resubmitted form.
            application.UpdatedAt = Revision.After(application.UpdatedAt, clock);
            await audit.RecordAsync("client.secret-rotated", "application", applicationId.ToString(), before: null, after: new { registration.ClientId }, cancellationToken);
            await db.SaveChangesAsync(cancellationToken);
        }, cancellationToken);

        cache.Invalidate(registration.ClientId);
        return new ClientSecretIssued(registration.ClientId, secret);
    }

    /// <summary>
    /// Automation needs a way in before any application is registered: a confidential client with the client
    /// credentials grant, the admin API scope and the super-admin role, with a configured secret. Created once;
    /// false when it exists already.
    /// </summary>
    public async Task<bool> EnsureBootstrapClientAsync(string clientId, string secret, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrEmpty(clientId);
        ArgumentException.ThrowIfNullOrEmpty(secret);
        if (await clients.FindByClientIdAsync(clientId, cancellationToken) is not null)
        {
            return false;
        }

        var descriptor = new OpenIddictApplicationDescriptor
        {
            ClientId = clientId,
            ClientSecret = secret,
            ClientType = ClientTypes.Confidential,
            DisplayName = "IdentityHub administration (bootstrap)",
            Permissions =
            {
                OidcPermissions.Endpoints.Token,
                OidcPermissions.GrantTypes.ClientCredentials,
                OidcPermissions.Prefixes.Scope + IdentityHubScopes.AdminApi,
            },
        };
        descriptor.Properties[ClientProperties.AdminRoles] = JsonSerializer.SerializeToElement(new[] { Directory.AdminRoles.SuperAdmin });
        await db.InTransactionAsync(async () =>
        {
            var client = await clients.CreateAsync(descriptor, cancellationToken);
            var registered = (await ClientRegistration.ReadAsync(clients, client, cancellationToken)) with { ClientSecret = null };
            await audit.RecordAsync("client.registered", "client", clientId, before: null, registered, cancellationToken);
            await db.SaveChangesAsync(cancellationToken);
        }, cancellationToken);

        cache.Invalidate(clientId);
        return true;
    }

    /// <summary>
    /// Deletes the application's client inside the caller's transaction (the application's own delete), returning its
    /// client id so the caller can invalidate the cache after the commit.
    /// </summary>
    internal async Task<string?> RemoveWithApplicationAsync(Application application, CancellationToken cancellationToken)
    {
        if (application.OidcClientId is not { } clientId || await clients.FindByClientIdAsync(clientId, cancellationToken) is not { } client)
        {
            return application.OidcClientId;
        }

        EnsureMayManage(ClientProperties.AdminRolesOf(await clients.GetPropertiesAsync(client, cancellationToken)));
        await clients.DeleteAsync(client, cancellationToken);
        return clientId;
    }

    internal void InvalidateCache(string? clientId) => cache.Invalidate(clientId);

    /// <summary>
    /// A client's admin roles become its tokens' rights, so an administrator may only register, re-key or delete a
    /// client whose admin roles they hold themselves (a super administrator holds them all).
    /// </summary>
    private void EnsureMayManage(IEnumerable<string> adminRoles)
    {
        var who = actor.Value;
        if (!who.IsSuperAdmin && !adminRoles.All(who.Holds))
        {
            throw RuleViolation.Coded(ViolationKind.Forbidden,
                "This client holds (or would hold) admin roles you do not have; ask an administrator who holds them.", "client.adminRolesBeyondYours");
        }
    }

    private async Task<Application> FindApplicationAsync(Guid applicationId, CancellationToken cancellationToken) =>
        await db.Applications.SingleOrDefaultAsync(a => a.Id == applicationId, cancellationToken)
            ?? throw RuleViolation.NotFound("application", applicationId);

    private async Task<(object Client, ClientRegistrationResponse Registration)> FindClientAsync(Guid applicationId, CancellationToken cancellationToken)
    {
        var application = await db.Applications.AsNoTracking().SingleOrDefaultAsync(a => a.Id == applicationId, cancellationToken)
            ?? throw RuleViolation.NotFound("application", applicationId);
        if (application.OidcClientId is not { } clientId || await clients.FindByClientIdAsync(clientId, cancellationToken) is not { } client)
        {
            throw NoClient(applicationId);
        }

        return (client, await ClientRegistration.ReadAsync(clients, client, cancellationToken));
    }

    private static RuleViolation NoClient(Guid applicationId) =>
        RuleViolation.Coded(ViolationKind.NotFound, $"Application '{applicationId}' has no OIDC client.", "client.none", $"{applicationId}");
}
