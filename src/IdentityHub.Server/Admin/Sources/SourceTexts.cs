using IdentityHub.Provisioning.Queries;

namespace IdentityHub.Server.Admin.Sources;

/// <summary>How the source pages name healths, run kinds and source kinds: badge classes and message keys.</summary>
public static class SourceTexts
{
    /// <summary>The badge class of a health, reusing the connectors' colours.</summary>
    public static string BadgeOf(SourceHealth health) => health switch
    {
        SourceHealth.Ok => "health-healthy",
        SourceHealth.Failing => "health-failing",
        SourceHealth.Disabled => "health-paused",
        _ => "health-never",
    };

    /// <summary>The message key of a health, a run kind, a source kind.</summary>
    public static string KeyOf(SourceHealth health) => "admin.sources.health." + AdminApi.SourcesApi.NameOf(health);

    public static string KeyOf(IdentityHub.Data.Inbound.InboundRunKind kind) => "admin.sources.run." + AdminApi.SourcesApi.NameOf(kind);

    public static string KeyOf(IdentityHub.Data.Inbound.InboundSourceKind kind) => "admin.sources.kind." + kind.ToString().ToLowerInvariant();
}
