namespace IdentityHub.Data.Cluster;

/// <summary>What nodes cache and must hear about at once when another node changes it.</summary>
public enum ClusterTopic
{
    /// <summary>Signing or encryption keys: created, activated, retired, removed. No key.</summary>
    Keys,

    /// <summary>An OIDC client: secret, enabled, redirect URIs, permissions, roles. Key: its client_id.</summary>
    Client,

    /// <summary>A user's browser sessions must be checked again (security stamp changed). Key: the user's id.</summary>
    UserSessions,

    /// <summary>A setting a node caches. Key: its name.</summary>
    Setting,

    /// <summary>A browser session ended (sign-out, an administrator, suspension...): no node may accept its cookie. Key: the sid.</summary>
    SessionEnded,
}

/// <summary>One committed change other nodes must act on; <see cref="Key"/> is empty where the topic has none.</summary>
public readonly record struct ClusterChange(ClusterTopic Topic, string Key)
{
    public static ClusterChange KeysChanged { get; } = new(ClusterTopic.Keys, string.Empty);
}

/// <summary>This process among the nodes sharing one database: a fresh id per start, and a name for people.</summary>
public sealed record ClusterNodeIdentity(string Id, string Name)
{
    public static ClusterNodeIdentity ForThisProcess(string? configuredName) => new(
        Guid.NewGuid().ToString("N"),
        string.IsNullOrWhiteSpace(configuredName) ? $"{Environment.MachineName}:{Environment.ProcessId}" : configuredName.Trim());
}
