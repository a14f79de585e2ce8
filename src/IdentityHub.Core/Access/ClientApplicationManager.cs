using IdentityHub.Data;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using OpenIddict.Abstractions;
using OpenIddict.Core;
using OpenIddict.EntityFrameworkCore.Models;

namespace IdentityHub.Core.Access;

/// <summary>
/// OpenIddict's application manager with two changes for the token endpoint's hot path: secrets are
/// stored as SHA-256 digests (see <see cref="ClientSecrets"/>) and clients are read through the
/// process-wide <see cref="ClientCache"/>.
/// </summary>
public sealed class ClientApplicationManager(
    IOpenIddictApplicationCache<OpenIddictEntityFrameworkCoreApplication> cache,
    ILogger<OpenIddictApplicationManager<OpenIddictEntityFrameworkCoreApplication>> logger,
    IOptionsMonitor<OpenIddictCoreOptions> options,
    IOpenIddictApplicationStore<OpenIddictEntityFrameworkCoreApplication> store,
    ClientCache clients,
    IdentityHubDbContext db)
    : OpenIddictApplicationManager<OpenIddictEntityFrameworkCoreApplication>(cache, logger, options, store)
{
    // One token request looks its client up about five times; one copy per request (this manager is scoped) is enough.
    private OpenIddictEntityFrameworkCoreApplication? _found;

    public override async ValueTask<OpenIddictEntityFrameworkCoreApplication?> FindByClientIdAsync(
        string identifier, CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(identifier);
        if (_found is not null && string.Equals(_found.ClientId, identifier, StringComparison.Ordinal))
        {
            return _found;
        }

        if (clients.Find(identifier) is { } cached)
        {
            return _found = cached;
        }

        var loadedAt = clients.Generation;
        var application = await base.FindByClientIdAsync(identifier, cancellationToken);
        if (application is not null)
        {
            clients.Add(application, loadedAt);
        }

        // The context now tracks this instance: later look-ups in the request get it too, not a copy that could not be attached.
        return _found = application;
    }

    public override async ValueTask UpdateAsync(OpenIddictEntityFrameworkCoreApplication application, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(application);
        _found = null;
        clients.Invalidate(application.ClientId);
        // A client from the cache is a detached copy: attach it first, so the store's own look-ups in
        // this context find this instance instead of loading a second one with the same key.
        if (db.Entry(application).State == EntityState.Detached)
        {
            db.Attach(application);
        }

        await base.UpdateAsync(application, cancellationToken);
        clients.Invalidate(application.ClientId);
    }

    public override async ValueTask DeleteAsync(OpenIddictEntityFrameworkCoreApplication application, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(application);
        _found = null;
        clients.Invalidate(application.ClientId);
        await base.DeleteAsync(application, cancellationToken);
        clients.Invalidate(application.ClientId);
    }

    protected override ValueTask<string> ObfuscateClientSecretAsync(string secret, CancellationToken cancellationToken = default) =>
        ValueTask.FromResult(ClientSecrets.Hash(secret));

    protected override ValueTask<bool> ValidateClientSecretAsync(string secret, string comparand, CancellationToken cancellationToken = default) =>
        ClientSecrets.IsSha256Hash(comparand)
            ? ValueTask.FromResult(ClientSecrets.Verify(secret, comparand))
            // Secrets stored before this manager existed keep OpenIddict's PBKDF2 format.
            : base.ValidateClientSecretAsync(secret, comparand, cancellationToken);
}
