using IdentityHub.Data;
using IdentityHub.Data.Provisioning;
using IdentityHub.Provisioning.Connectors;
using Microsoft.EntityFrameworkCore;

namespace IdentityHub.Provisioning.Queries;

/// <summary>
/// A connector as the admin API and the console read it, with its application's name and its kind's wire name.
/// <see cref="Settings"/> is the stored JSON (never a secret); <see cref="HasSecret"/> tells whether one is set.
/// </summary>
public sealed record ConnectorView(
    Guid Id, Guid ApplicationId, string ApplicationName, string Name, ConnectorKind Kind, string KindName, bool Paused, string Settings, bool HasSecret,
    DateTimeOffset CreatedAt, DateTimeOffset UpdatedAt);

/// <summary>The connectors read model shared by the admin API and the console pages under Admin/Provisioning.</summary>
public sealed class ConnectorQueries(IdentityHubDbContext db, ConnectorKinds kinds)
{
    public async Task<ConnectorView?> GetAsync(Guid id, CancellationToken cancellationToken) =>
        (await Views(db.Connectors.Where(c => c.Id == id)).ToListAsync(cancellationToken)).Select(Named).SingleOrDefault();

    /// <summary>The application's connectors by name, or null when there is no such application.</summary>
    public async Task<IReadOnlyList<ConnectorView>?> OfApplicationAsync(Guid applicationId, CancellationToken cancellationToken)
    {
        if (!await db.Applications.AnyAsync(a => a.Id == applicationId, cancellationToken))
        {
            return null;
        }

        var views = await Views(db.Connectors.Where(c => c.ApplicationId == applicationId)).ToListAsync(cancellationToken);
        return [.. views.Select(Named).OrderBy(c => c.Name, StringComparer.Ordinal)];
    }

    /// <summary>Every connector, by application name and then name (as the reader's culture sorts them).</summary>
    public async Task<IReadOnlyList<ConnectorView>> AllAsync(CancellationToken cancellationToken)
    {
        var views = await Views(db.Connectors).ToListAsync(cancellationToken);
        return [.. views.Select(Named).OrderBy(c => c.ApplicationName, StringComparer.CurrentCulture).ThenBy(c => c.Name, StringComparer.CurrentCulture)];
    }

    public Task<bool> ExistsAsync(Guid id, CancellationToken cancellationToken) => db.Connectors.AnyAsync(c => c.Id == id, cancellationToken);

    public Task<int> CountAsync(CancellationToken cancellationToken) => db.Connectors.CountAsync(cancellationToken);

    /// <summary>The settings of a connector named for the console (its kind describes them).</summary>
    public IReadOnlyList<ConnectorSetting> Describe(ConnectorView connector)
    {
        ArgumentNullException.ThrowIfNull(connector);
        return kinds.Find(connector.Kind)?.Describe(connector.Settings) ?? [];
    }

    /// <summary>Whether IdentityHub draws the secret of this kind's connectors itself (shown once at creation; never sent by an administrator).</summary>
    public bool GeneratesSecret(ConnectorKind kind) => kinds.Find(kind)?.GeneratesSecret ?? false;

    private static IQueryable<ConnectorView> Views(IQueryable<Connector> connectors) =>
        connectors.AsNoTracking().Select(c => new ConnectorView(
            c.Id, c.ApplicationId, c.Application!.Name, c.Name, c.Kind, "", c.Paused, c.Settings, c.ProtectedSecret != null, c.CreatedAt, c.UpdatedAt));

    private ConnectorView Named(ConnectorView view) => view with { KindName = kinds.NameOf(view.Kind) };
}
