using System.Buffers;
using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using MimeKit;
using SmtpServer;
using SmtpServer.Protocol;
using SmtpServer.Storage;

namespace IdentityHub.Testing;

/// <summary>
/// A real SMTP server on 127.0.0.1 (the SmtpServer package) that keeps every message it receives, for tests of the mails
/// IdentityHub sends. <see cref="Port"/> can be chosen before it starts, so a test can point the server at it while it is down.
/// </summary>
public sealed class SmtpSink : IAsyncDisposable
{
    private readonly ConcurrentQueue<MimeMessage> _messages = new();
    private readonly CancellationTokenSource _stop = new();
    private Task? _running;

    public SmtpSink(int? port = null)
    {
        Port = port ?? FreePort();
    }

    public int Port { get; }

    public IReadOnlyCollection<MimeMessage> Messages => _messages;

    /// <summary>Starts listening; returns once the port accepts connections.</summary>
    public async Task StartAsync()
    {
        var options = new SmtpServerOptionsBuilder()
            .ServerName("localhost")
            .Endpoint(endpoint => endpoint.Endpoint(new IPEndPoint(IPAddress.Loopback, Port)))
            .Build();
        var services = new SmtpServer.ComponentModel.ServiceProvider();
        services.Add(new Store(_messages));
        _running = new SmtpServer.SmtpServer(options, services).StartAsync(_stop.Token);
        for (var deadline = DateTime.UtcNow.AddSeconds(30); ; await Task.Delay(50))
        {
            try
            {
                using var probe = new TcpClient();
                await probe.ConnectAsync(IPAddress.Loopback, Port);
                return;
            }
            catch (SocketException) when (DateTime.UtcNow < deadline)
            {
            }
        }
    }

    /// <summary>The first message to <paramref name="address"/> that satisfies <paramref name="match"/>, waited for up to <paramref name="timeout"/>.</summary>
    public async Task<MimeMessage> WaitForAsync(string address, Func<MimeMessage, bool>? match = null, TimeSpan? timeout = null)
    {
        var deadline = DateTime.UtcNow + (timeout ?? TimeSpan.FromSeconds(60));
        while (true)
        {
            var found = _messages.FirstOrDefault(m =>
                m.To.Mailboxes.Any(b => string.Equals(b.Address, address, StringComparison.OrdinalIgnoreCase)) && (match?.Invoke(m) ?? true));
            if (found is not null)
            {
                return found;
            }

            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException($"No mail to {address} arrived at the SMTP sink within {timeout ?? TimeSpan.FromSeconds(60)}; it holds {_messages.Count}.");
            }

            await Task.Delay(100);
        }
    }

    /// <summary>The first link in the message's plain-text part whose path starts with <paramref name="path"/>.</summary>
    public static Uri LinkIn(MimeMessage message, string path)
    {
        ArgumentNullException.ThrowIfNull(message);
        var text = message.TextBody ?? "";
        foreach (var word in text.Split([' ', '\n', '\r', '\t'], StringSplitOptions.RemoveEmptyEntries))
        {
            if (Uri.TryCreate(word.Trim(), UriKind.Absolute, out var uri) && uri.AbsolutePath.StartsWith(path, StringComparison.Ordinal))
            {
                return uri;
            }
        }

        throw new InvalidOperationException($"The mail '{message.Subject}' has no link to {path}:\n{text}");
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        if (_running is not null)
        {
            try
            {
                await _running;
            }
            catch (OperationCanceledException)
            {
            }
        }

        _stop.Dispose();
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    private sealed class Store(ConcurrentQueue<MimeMessage> messages) : MessageStore
    {
        public override async Task<SmtpResponse> SaveAsync(
            ISessionContext context, IMessageTransaction transaction, ReadOnlySequence<byte> buffer, CancellationToken cancellationToken)
        {
            await using var stream = new MemoryStream(buffer.ToArray());
            messages.Enqueue(await MimeMessage.LoadAsync(stream, cancellationToken));
            return SmtpResponse.Ok;
        }
    }
}
