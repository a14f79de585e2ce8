using System.Globalization;
using System.Security.Claims;
using IdentityHub.Core.Audit;
using IdentityHub.Core.Directory;
using IdentityHub.Core.Sessions;
using IdentityHub.Server.Hosting;
using IdentityHub.Server.Identities;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Mvc.RazorPages;

namespace IdentityHub.Server.Account;

/// <summary>One live session as the person reads it.</summary>
public sealed record SessionRow(string Id, string Device, string? IpAddress, string SignedInAt, DateTimeOffset CreatedAt, bool Current);

/// <summary>
/// The person's live sessions (<see cref="BrowserSessions"/>): device, address, sign-in time in the reader's locale, this
/// device marked. Signing out one or all others ends them on the server: their cookies open nothing more, on any node,
/// and the applications they used get a back-channel logout.
/// </summary>
[Authorize]
public sealed class SessionsModel(BrowserSessions sessions, AuditTrail audit, ThemeMessages messages) : PageModel
{
    public IReadOnlyList<SessionRow> Sessions { get; private set; } = [];

    public string? Message { get; private set; }

    public async Task OnGetAsync() => await ListAsync();

    public async Task<IActionResult> OnPostEndAsync(string? sid)
    {
        var cancellationToken = HttpContext.RequestAborted;
        // Only the person's own live sessions, and not this one (that is the sign-out button).
        if (string.IsNullOrEmpty(sid) || sid == CurrentSid || await sessions.LiveAsync(UserId, sid, cancellationToken) is null)
        {
            return NotFound();
        }

        await sessions.EndAsync(sid, UserId, UserSessionEndReasons.SignedOutElsewhere, issuer: null, cancellationToken);
        await audit.RecordEventAsync(AccountEventTypes.SessionEnded, "user", UserId, null, cancellationToken);
        Message = messages["account.sessions.ended"];
        await ListAsync();
        return Page();
    }

    public async Task<IActionResult> OnPostEndOthersAsync()
    {
        var cancellationToken = HttpContext.RequestAborted;
        if (CurrentSid is not { } current)
        {
            return BadRequest();
        }

        var ended = await sessions.EndOthersAsync(UserId, current, cancellationToken);
        await audit.RecordEventAsync(AccountEventTypes.OtherSessionsEnded, "user", UserId, new { ended }, cancellationToken);
        Message = messages["account.sessions.endedOthers", ended];
        await ListAsync();
        return Page();
    }

    private string UserId => User.FindFirstValue(ClaimTypes.NameIdentifier) ?? throw new InvalidOperationException("No user id in the session.");

    private string? CurrentSid => User.FindFirstValue(IdentityHubClaims.SessionId);

    private async Task ListAsync()
    {
        var live = await sessions.LiveOfAsync(UserId, HttpContext.RequestAborted);
        Sessions = [.. live
            .Select(s => new SessionRow(s.Id, Device(s.UserAgent), s.IpAddress, When(s.CreatedAt), s.CreatedAt, s.Id == CurrentSid))
            .OrderByDescending(s => s.Current).ThenByDescending(s => s.CreatedAt)];
    }

    private string Device(string? userAgent) => DeviceNames.Of(userAgent) switch
    {
        ({ } browser, { } system) => messages["account.sessions.device", browser, system],
        ({ } browser, null) => browser,
        (null, { } system) => system,
        _ => messages["account.sessions.deviceUnknown"],
    };

    /// <summary>The reader's date and time format (their language's), in UTC: the server does not know their time zone.</summary>
    private static string When(DateTimeOffset at) => at.UtcDateTime.ToString("g", CultureInfo.CurrentCulture) + " UTC";
}
