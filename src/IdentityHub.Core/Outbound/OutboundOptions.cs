using System.Net;

namespace IdentityHub.Core.Outbound;

/// <summary>
/// Which addresses URLs an administrator types in (SAML metadata, connector and REST source targets) may reach
/// (section <c>Outbound</c>). By default none on loopback, link-local (cloud metadata), private, unspecified or multicast
/// networks: list intranet targets in <see cref="AllowedNetworks"/>, or set <see cref="AllowPrivateNetworks"/>.
/// </summary>
public sealed class OutboundOptions
{
    public const string Section = "Outbound";

    /// <summary>True: no address is refused (a closed network where every administrator is trusted, or tests).</summary>
    public bool AllowPrivateNetworks { get; set; }

    /// <summary>Networks ("10.20.0.0/16"), single addresses ("10.20.0.7") or host names ("expense.corp.example") reachable even when private.</summary>
    public List<string> AllowedNetworks { get; set; } = [];

    /// <summary>Problems with the settings, one sentence each (checked at start-up).</summary>
    public IEnumerable<string> Problems() =>
        AllowedNetworks.Where(entry => !IPNetwork.TryParse(entry, out _) && !IPAddress.TryParse(entry, out _) && Uri.CheckHostName(entry) != UriHostNameType.Dns)
            .Select(entry => $"Outbound:AllowedNetworks: '{entry}' is neither a network (10.20.0.0/16), an address nor a host name.");
}
