using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace IdentityHub.Core.Outbound;

/// <summary>
/// Thrown (wrapped in an <see cref="HttpRequestException"/>, whose message keeps this one) when a URL's host resolves to an
/// address the settings refuse. The reason names the address for the operator's log and a delivery's failed attempt;
/// administrators' test, import and read answers say only <see cref="OutboundAddressGuard.CouldNotBeFetched"/>.
/// </summary>
public sealed class OutboundAddressRefusedException(string host, IPAddress? address)
    : IOException(address is null ? $"{host} resolves to no address." : $"{host}: address {address} not allowed by Outbound settings (Outbound:AllowedNetworks, Outbound:AllowPrivateNetworks).");

/// <summary>
/// Refuses connections to loopback, link-local, private, unspecified and multicast addresses (SSRF) unless
/// <see cref="OutboundOptions"/> allow them. The check runs in the handler's ConnectCallback after DNS resolution and the
/// socket connects to the very addresses checked, so neither a host name pointing inwards, DNS rebinding nor a redirect
/// slips past.
/// </summary>
public sealed class OutboundAddressGuard(IOptionsMonitor<OutboundOptions> options, ILogger<OutboundAddressGuard> logger)
{
    /// <summary>What an administrator is told of any failed fetch: refused, timed out and blocked alike, so no port scan can be read from it.</summary>
    public const string CouldNotBeFetched = "could not be fetched";

    private static readonly IPNetwork[] Refused =
    [
        IPNetwork.Parse("0.0.0.0/8"), IPNetwork.Parse("10.0.0.0/8"), IPNetwork.Parse("100.64.0.0/10"), IPNetwork.Parse("127.0.0.0/8"),
        IPNetwork.Parse("169.254.0.0/16"), IPNetwork.Parse("172.16.0.0/12"), IPNetwork.Parse("192.168.0.0/16"), IPNetwork.Parse("224.0.0.0/4"),
        IPNetwork.Parse("240.0.0.0/4"), IPNetwork.Parse("::/128"), IPNetwork.Parse("::1/128"), IPNetwork.Parse("fc00::/7"),
        IPNetwork.Parse("fe80::/10"), IPNetwork.Parse("ff00::/8"),
    ];

    /// <summary><paramref name="handler"/> with the check as its ConnectCallback.</summary>
    public SocketsHttpHandler Protect(SocketsHttpHandler handler)
    {
        ArgumentNullException.ThrowIfNull(handler);
        handler.ConnectCallback = ConnectAsync;
        return handler;
    }

    /// <summary>Whether a connection to <paramref name="address"/> (reached as <paramref name="host"/>) is allowed.</summary>
    public bool Allows(string host, IPAddress address)
    {
        ArgumentNullException.ThrowIfNull(address);
        var settings = options.CurrentValue;
        if (settings.AllowPrivateNetworks || settings.AllowedNetworks.Contains(host, StringComparer.OrdinalIgnoreCase))
        {
            return true;
        }

        var plain = address.IsIPv4MappedToIPv6 ? address.MapToIPv4() : address;
        if (settings.AllowedNetworks.Any(entry => (IPNetwork.TryParse(entry, out var network) && network.Contains(plain))
            || (IPAddress.TryParse(entry, out var single) && single.Equals(plain))))
        {
            return true;
        }

        return !Refused.Any(network => network.Contains(plain));
    }

    private async ValueTask<Stream> ConnectAsync(SocketsHttpConnectionContext context, CancellationToken cancellationToken)
    {
        var host = context.DnsEndPoint.Host;
        var addresses = IPAddress.TryParse(host.Trim('[', ']'), out var literal) ? [literal] : await Dns.GetHostAddressesAsync(host, cancellationToken);
        // Every address is checked, not only the first: the socket may fall through to any of them.
        var refused = addresses.FirstOrDefault(a => !Allows(host, a));
        if (addresses.Length == 0 || refused is not null)
        {
            var refusal = new OutboundAddressRefusedException(host, refused);
            logger.LogWarning("Outbound request refused: {Reason}", refusal.Message);
            throw refusal;
        }

        var socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        try
        {
            await socket.ConnectAsync(addresses, context.DnsEndPoint.Port, cancellationToken);
            return new NetworkStream(socket, ownsSocket: true);
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }
}
