namespace IdentityHub.Data.Mail;

public enum MailStatus
{
    /// <summary>Waiting for its due time, or being sent by the node that claimed it.</summary>
    Pending,

    /// <summary>Handed to the SMTP server (or written as an .eml file).</summary>
    Sent,

    /// <summary>Gave up after the retry limit; <see cref="MailMessage.LastError"/> says why.</summary>
    Dead,
}

/// <summary>
/// One mail to send (table <c>MailOutbox</c>): written in the transaction of what caused it (an invitation, a reset
/// request), rendered and sent later by the mail sender, so a crash between the two loses nothing. What it says is the
/// template's name, the locale and the template's values; the text is rendered at send time from the theme.
/// </summary>
public sealed class MailMessage
{
    public long Id { get; set; }

    public required string ToAddress { get; set; }

    public string? ToName { get; set; }

    /// <summary>The template: <c>themes/&lt;name&gt;/email/&lt;Template&gt;.liquid</c> (and <c>.txt.liquid</c>).</summary>
    public required string Template { get; set; }

    public required string Locale { get; set; }

    /// <summary>The template's values, a JSON object of names to strings.</summary>
    public required string Model { get; set; }

    /// <summary>The user the mail is about, for the console; null for none.</summary>
    public string? UserId { get; set; }

    public MailStatus Status { get; set; }

    public DateTimeOffset CreatedAt { get; set; }

    /// <summary>Not before this instant (the retry back-off).</summary>
    public DateTimeOffset DueAt { get; set; }

    public int Attempts { get; set; }

    /// <summary>The sender that claimed the row and until when; an expired claim is free again (a crashed node).</summary>
    public string? ClaimedBy { get; set; }

    public DateTimeOffset? ClaimedUntil { get; set; }

    public DateTimeOffset? SentAt { get; set; }

    /// <summary>The last failure, short (never a credential).</summary>
    public string? LastError { get; set; }
}
