using IdentityHub.Core.Mail;
using IdentityHub.Data;
using IdentityHub.Data.Cluster;
using IdentityHub.Data.Mail;
using MailKit.Net.Smtp;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.EntityFrameworkCore;
using MimeKit;

namespace IdentityHub.Server.Hosting.Mail;

/// <summary>
/// Sends the queued mails (one sender per node): wakes when this node queued one, else every poll interval; claims each due
/// row with one conditional update (pending, and no live claim), so two nodes never send the same mail, and a node that
/// crashed mid-send frees its rows when the claim expires. A failure is retried later with a growing delay; after
/// <see cref="MailSettings.MaxAttempts"/> the row is dead and keeps its last error.
/// </summary>
public sealed class MailSender(
    IServiceScopeFactory scopes, MailSignal signal, MailSettings settings, MailRenderer renderer, ClusterNodeIdentity node, IServer server,
    TimeProvider clock, ILogger<MailSender> logger) : BackgroundService
{
    private const int Batch = 20;
    private static readonly TimeSpan ClaimTimeout = TimeSpan.FromMinutes(2);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        await Task.Yield();
        logger.LogInformation("Mail goes out as {Mail}", settings.Describe());
        while (!stoppingToken.IsCancellationRequested)
        {
            var more = false;
            try
            {
                more = await SendDueAsync(stoppingToken);
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                break;
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                // The database is unreachable or busy: nothing is lost (the rows stay); try again at the next poll.
                logger.LogWarning(ex, "The mail sender could not read or record the mail queue; retrying at the next poll.");
            }

            if (!more)
            {
                try
                {
                    await signal.WaitAsync(settings.PollInterval, stoppingToken);
                }
                catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
                {
                    break;
                }
            }
        }
    }

    /// <summary>Sends what is due now; true when a full batch was found (more may be waiting).</summary>
    public async Task<bool> SendDueAsync(CancellationToken cancellationToken)
    {
        await using var scope = scopes.CreateAsyncScope();
        var db = scope.ServiceProvider.GetRequiredService<IdentityHubDbContext>();
        var now = clock.GetUtcNow();
        var due = await db.MailOutbox.AsNoTracking()
            .Where(m => m.Status == MailStatus.Pending && m.DueAt <= now && (m.ClaimedUntil == null || m.ClaimedUntil < now))
            .OrderBy(m => m.DueAt).ThenBy(m => m.Id)
            .Select(m => m.Id)
            .Take(Batch)
            .ToListAsync(cancellationToken);
        SmtpClient? smtp = null;
        try
        {
            foreach (var id in due)
            {
                if (await ClaimAsync(db, id, cancellationToken) is { } mail)
                {
                    smtp = await DeliverAsync(db, mail, smtp, cancellationToken);
                }
            }
        }
        finally
        {
            if (smtp is not null)
            {
                await DisconnectAsync(smtp);
            }
        }

        return due.Count == Batch;
    }

    /// <summary>One conditional update: only one node's claim of a row can succeed while the claim lasts.</summary>
    private async Task<MailMessage?> ClaimAsync(IdentityHubDbContext db, long id, CancellationToken cancellationToken)
    {
        var now = clock.GetUtcNow();
        var until = now + ClaimTimeout;
        var claimed = await db.MailOutbox
            .Where(m => m.Id == id && m.Status == MailStatus.Pending && (m.ClaimedUntil == null || m.ClaimedUntil < now))
            .ExecuteUpdateAsync(s => s.SetProperty(m => m.ClaimedBy, node.Name).SetProperty(m => m.ClaimedUntil, until), cancellationToken);
        return claimed == 1 ? await db.MailOutbox.SingleAsync(m => m.Id == id, cancellationToken) : null;
    }

    private async Task<SmtpClient?> DeliverAsync(IdentityHubDbContext db, MailMessage mail, SmtpClient? smtp, CancellationToken cancellationToken)
    {
        mail.Attempts++;
        try
        {
            var message = renderer.Render(mail, ServerOrigin());
            if (settings.UsesSmtp)
            {
                smtp ??= await ConnectAsync(cancellationToken);
                await smtp.SendAsync(message, cancellationToken);
            }
            else
            {
                await WriteFileAsync(mail, message, cancellationToken);
            }

            mail.Status = MailStatus.Sent;
            mail.SentAt = clock.GetUtcNow();
            mail.LastError = null;
            logger.LogInformation("Mail {MailId} ({Template}) sent to {Recipient}", mail.Id, mail.Template, mail.ToAddress);
        }
        catch (Exception ex) when (ex is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            // A connection that failed is not reused for the next mail.
            if (smtp is not null)
            {
                await DisconnectAsync(smtp);
                smtp = null;
            }

            var error = $"{ex.GetType().Name}: {ex.Message}";
            mail.LastError = error.Length > 500 ? error[..500] : error;
            if (mail.Attempts >= settings.MaxAttempts)
            {
                mail.Status = MailStatus.Dead;
                logger.LogError("Mail {MailId} ({Template}) to {Recipient} given up after {Attempts} attempts: {Error}",
                    mail.Id, mail.Template, mail.ToAddress, mail.Attempts, mail.LastError);
            }
            else
            {
                mail.DueAt = clock.GetUtcNow() + DelayAfter(mail.Attempts);
                logger.LogWarning("Mail {MailId} ({Template}) to {Recipient} not sent (attempt {Attempts}), retrying at {DueAt}: {Error}",
                    mail.Id, mail.Template, mail.ToAddress, mail.Attempts, mail.DueAt, mail.LastError);
            }
        }

        mail.ClaimedBy = null;
        mail.ClaimedUntil = null;
        await db.SaveChangesAsync(CancellationToken.None);
        return smtp;
    }

    /// <summary>Exponential back-off from <see cref="MailSettings.RetryDelay"/>, at most <see cref="MailSettings.MaxRetryDelay"/>, with up to 20 % jitter.</summary>
    private TimeSpan DelayAfter(int attempts)
    {
        var ticks = Math.Min(settings.MaxRetryDelay.Ticks, settings.RetryDelay.Ticks * Math.Pow(2, Math.Clamp(attempts - 1, 0, 30)));
        return TimeSpan.FromTicks((long)(ticks * (1 + (Random.Shared.NextDouble() * 0.2))));
    }

    private async Task<SmtpClient> ConnectAsync(CancellationToken cancellationToken)
    {
        var smtp = new SmtpClient { Timeout = 30_000 };
        try
        {
            await smtp.ConnectAsync(settings.SmtpHost!, settings.SmtpPort, settings.SocketOptions, cancellationToken);
            if (settings.UserName is not null)
            {
                await smtp.AuthenticateAsync(settings.UserName, settings.Password ?? "", cancellationToken);
            }

            return smtp;
        }
        catch
        {
            smtp.Dispose();
            throw;
        }
    }

    private static async Task DisconnectAsync(SmtpClient smtp)
    {
        try
        {
            if (smtp.IsConnected)
            {
                await smtp.DisconnectAsync(quit: true, CancellationToken.None);
            }
        }
        catch (Exception ex) when (ex is IOException or MailKit.ProtocolException or MailKit.CommandException or InvalidOperationException)
        {
            // The connection is going anyway.
        }
        finally
        {
            smtp.Dispose();
        }
    }

    private async Task WriteFileAsync(MailMessage mail, MimeMessage message, CancellationToken cancellationToken)
    {
        Directory.CreateDirectory(settings.PickupDirectory);
        var name = $"{mail.CreatedAt.UtcDateTime:yyyyMMdd-HHmmss}-{mail.Id}-{mail.Template}.eml";
        var temporary = Path.Combine(settings.PickupDirectory, name + ".tmp");
        await message.WriteToAsync(temporary, cancellationToken);
        // Whole files only: a reader never sees half a mail.
        File.Move(temporary, Path.Combine(settings.PickupDirectory, name), overwrite: true);
    }

    /// <summary>The server's own address when no public origin is configured (the first one Kestrel listens on).</summary>
    private Uri ServerOrigin()
    {
        var address = server.Features.Get<IServerAddressesFeature>()?.Addresses.FirstOrDefault();
        return address is not null && Uri.TryCreate(address.Replace("://+", "://localhost", StringComparison.Ordinal).Replace("://*", "://localhost", StringComparison.Ordinal)
            .Replace("://[::]", "://localhost", StringComparison.Ordinal).Replace("://0.0.0.0", "://localhost", StringComparison.Ordinal), UriKind.Absolute, out var uri)
            ? uri
            : new Uri("http://localhost");
    }
}
