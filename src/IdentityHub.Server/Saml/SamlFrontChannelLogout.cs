using System.Net;
using System.Security.Claims;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using IdentityHub.Data;
using IdentityHub.Data.Access;
using IdentityHub.Data.Directory;
using IdentityHub.Saml;
using IdentityHub.Saml.Bindings;
using IdentityHub.Saml.Protocol;
using IdentityHub.Server.Hosting;
using IdentityHub.Server.Identities;
using Microsoft.EntityFrameworkCore;

namespace IdentityHub.Server.Saml;

/// <summary>Where the browser goes once every service provider has been told: a local page, or a LogoutResponse to the SP that asked.</summary>
public sealed record LogoutFinish(string? RedirectTo, Uri? PostTo = null, string? PostXml = null, string? RelayState = null);

/// <summary>
/// Profiles §4.4.3.4: when a session ends at the IdP, every other SAML SP that took part in it gets a
/// LogoutRequest through the browser. One page loads each request in a hidden frame (the SP answers
/// with a LogoutResponse to /saml/slo inside that frame), then continues to the finish.
/// </summary>
public sealed class SamlFrontChannelLogout(IdentityHubDbContext db, SamlSigningCertificate signing, SamlSettings settings, SamlReplayCache sent, TimeProvider clock)
{
    /// <summary>The page notifying the SAML participants of the session that <paramref name="signedOut"/> held, or null when there are none.</summary>
    public async Task<string?> PageAsync(HttpContext context, ClaimsPrincipal? signedOut, string? exceptEntityId, LogoutFinish finish)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(finish);
        var cancellationToken = context.RequestAborted;
        if (signedOut?.FindFirst(IdentityHubClaims.SessionId)?.Value is not { } sid || signedOut.FindFirst(ClaimTypes.NameIdentifier)?.Value is not { } userId)
        {
            return null;
        }

        var rows = await db.SessionParticipants.Where(p => p.Sid == sid && p.Protocol == SamlLoginIssuer.Protocol).ToListAsync(cancellationToken);
        if (rows.Count == 0)
        {
            return null;
        }

        // Told once: the rows go whatever the SPs answer.
        db.SessionParticipants.RemoveRange(rows);
        await db.SaveChangesAsync(cancellationToken);
        var entityIds = rows.Select(r => r.ClientId).Where(e => e != exceptEntityId).ToList();
        var sps = await db.SamlServiceProviders.AsNoTracking()
            .Where(s => entityIds.Contains(s.EntityId) && s.SingleLogoutUrl != null).ToListAsync(cancellationToken);
        var user = await db.Users.AsNoTracking().FirstOrDefaultAsync(u => u.Id == userId, cancellationToken);
        if (user is null || sps.Count == 0)
        {
            return null;
        }

        var idp = SamlIdpEndpoints.Of(context, settings);
        var certificate = await signing.GetAsync(cancellationToken);
        var frames = new List<string>();
        foreach (var sp in sps)
        {
            var transient = rows.FirstOrDefault(r => r.ClientId == sp.EntityId)?.NameId;
            if (await FrameAsync(sp, user, transient, sid, idp, certificate, cancellationToken) is { } frame)
            {
                frames.Add(frame);
                // The frame shows the SP's page (a POST binding frame posts to it from srcdoc, which shares this policy).
                PageAllowances.AllowFrame(context, new Uri(sp.SingleLogoutUrl!));
                if (sp.SingleLogoutBinding == Saml2Names.HttpPostBinding)
                {
                    PageAllowances.AllowFormPost(context, new Uri(sp.SingleLogoutUrl!), PostBinding.AutoSubmitScript);
                }
            }
        }

        if (frames.Count == 0)
        {
            return null;
        }

        PageAllowances.AllowScript(context, ContinueScript);
        if (finish.PostTo is not null)
        {
            PageAllowances.AllowFormPost(context, finish.PostTo, PostBinding.AutoSubmitScript);
        }

        return Page(frames, finish);
    }

    /// <summary>The issuer under which the IDs of LogoutRequests sent to <paramref name="spEntityId"/> are remembered until answered.</summary>
    public static string SentTo(string spEntityId) => "identityhub:logout-request-to:" + spEntityId;

    private async Task<string?> FrameAsync(
        SamlServiceProvider sp, UserAccount user, string? transient, string sid, SamlIdpEndpoints idp, X509Certificate2 certificate, CancellationToken cancellationToken)
    {
        if (SamlSubjects.OfParticipant(sp, user, transient) is not { NameId: { } nameId } subject)
        {
            return null;
        }

        var destination = new Uri(sp.SingleLogoutUrl!);
        var qualifier = subject.Format == NameIdFormats.Persistent ? sp.EntityId : null;
        var now = clock.GetUtcNow();
        var post = sp.SingleLogoutBinding == Saml2Names.HttpPostBinding;
        var request = LogoutMessages.Request(idp.EntityId, destination, nameId, subject.Format, qualifier, sid, now, post ? certificate : null);
        // Core §3.7.2 InResponseTo: the SP's LogoutResponse must answer a request really sent to it, once.
        await sent.TryRememberAsync(SentTo(sp.EntityId), request.DocumentElement!.GetAttribute("ID"), settings.ReplayWindow, cancellationToken);
        if (post)
        {
            var form = PostBinding.FormPage(destination, SamlParameters.Request, request.OuterXml, null);
            return $"<iframe class=\"slo\" title=\"{WebUtility.HtmlEncode(sp.EntityId)}\" srcdoc=\"{WebUtility.HtmlEncode(form)}\"></iframe>";
        }

        using var key = certificate.GetRSAPrivateKey();
        var query = RedirectBinding.Encode(request.OuterXml, SamlParameters.Request, null, key);
        var url = destination.AbsoluteUri + (destination.Query.Length > 0 ? "&" : "?") + query;
        return $"<iframe class=\"slo\" title=\"{WebUtility.HtmlEncode(sp.EntityId)}\" src=\"{WebUtility.HtmlEncode(url)}\"></iframe>";
    }

    /// <summary>
    /// Continues when every frame has loaded once, or after the timeout: submits the form "saml-post" if there is one,
    /// else goes to the address in data-continue. Constant, so the page's Content-Security-Policy allows it by hash.
    /// </summary>
    public const string ContinueScript =
        "(function(){var f=document.querySelectorAll('iframe.slo'),n=f.length,done=false;"
        + "function go(){if(done)return;done=true;var p=document.getElementById('saml-post');"
        + "if(p){p.submit();}else{location.replace(document.getElementById('slo-continue').getAttribute('data-continue'));}}"
        + "f.forEach(function(x){x.addEventListener('load',function(){if(--n<=0)setTimeout(go,200);},{once:true});});"
        + "setTimeout(go,5000);})();";

    public static string Page(IReadOnlyList<string> frames, LogoutFinish finish)
    {
        ArgumentNullException.ThrowIfNull(frames);
        ArgumentNullException.ThrowIfNull(finish);
        var html = new StringBuilder("<!DOCTYPE html><html><head><meta charset=\"utf-8\"><title>Signing out</title></head><body><p>Signing you out of every application…</p><div hidden>");
        foreach (var frame in frames)
        {
            html.Append(frame);
        }

        html.Append("</div>");
        if (finish.PostTo is not null)
        {
            html.Append(PostBinding.Form(finish.PostTo, SamlParameters.Response, finish.PostXml!, finish.RelayState));
        }
        else
        {
            html.Append("<div id=\"slo-continue\" data-continue=\"").Append(WebUtility.HtmlEncode(finish.RedirectTo ?? "/")).Append("\"></div>");
        }

        return html.Append("<script>").Append(ContinueScript).Append("</script></body></html>").ToString();
    }
}
