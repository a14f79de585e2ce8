using System.Text.Json;
using System.Threading.Channels;
using IdentityHub.Data;
using IdentityHub.Data.Mail;

namespace IdentityHub.Core.Mail;

/// <summary>Wakes the mail sender when a mail was queued in this process (other nodes' mails are found by its poll).</summary>
public sealed class MailSignal
{
    private readonly Channel<bool> _wake = Channel.CreateBounded<bool>(new BoundedChannelOptions(1) { FullMode = BoundedChannelFullMode.DropWrite });

    public void Notify() => _wake.Writer.TryWrite(true);

    /// <summary>True when woken, false when <paramref name="timeout"/> passed first.</summary>
    public async Task<bool> WaitAsync(TimeSpan timeout, CancellationToken cancellationToken)
    {
        using var timer = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timer.CancelAfter(timeout);
        try
        {
            await _wake.Reader.ReadAsync(timer.Token);
            return true;
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            return false;
        }
    }
}

/// <summary>What mails need that is set once for the installation (<c>Mail:DefaultLocale</c>, <c>Account:*Lifetime</c>).</summary>
public sealed record AccountMailSettings
{
    public string DefaultLocale { get; init; } = "en";

    public TimeSpan InvitationLifetime { get; init; } = TimeSpan.FromDays(7);

    public TimeSpan ResetLifetime { get; init; } = TimeSpan.FromHours(1);
}

/// <summary>
/// The mail queue's writing side: a mail is a row of <see cref="MailMessage"/> added to the caller's unit of work, so it is
/// committed with what caused it or not at all; the host's sender renders and sends it later.
/// </summary>
public sealed class MailOutbox(IdentityHubDbContext db, TimeProvider clock)
{
    /// <summary>Adds the mail to the context; the caller's SaveChanges (in its transaction) writes it.</summary>
    public MailMessage Enqueue(string toAddress, string? toName, string template, string locale, IReadOnlyDictionary<string, string> model, string? userId)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(toAddress);
        ArgumentException.ThrowIfNullOrWhiteSpace(template);
        var now = clock.GetUtcNow();
        var message = new MailMessage
        {
            ToAddress = toAddress,
            ToName = toName,
            Template = template,
            Locale = locale,
            Model = JsonSerializer.Serialize(model),
            UserId = userId,
            Status = MailStatus.Pending,
            CreatedAt = now,
            DueAt = now,
        };
        db.MailOutbox.Add(message);
        return message;
    }
}
