using System.Net;
using System.Security.Cryptography.X509Certificates;
using IdentityHub.Data;
using IdentityHub.Data.Access;
using IdentityHub.Data.Directory;
using IdentityHub.Saml;
using IdentityHub.Saml.Bindings;
using IdentityHub.Saml.Protocol;
using IdentityHub.Saml.Signing;
using IdentityHub.Server.Hosting;
using IdentityHub.Server.Identities;
using IdentityHub.Core.Sessions;
using IdentityHub.Server.Sessions;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Identity;
using Microsoft.EntityFrameworkCore;

namespace IdentityHub.Server.Saml;

/// <summary>Profiles §4.4 (Single Logout) at the IdP: LogoutRequests from SPs, and the LogoutResponses of SPs we told.</summary>
public static class SamlSloEndpoints
{
    private sealed record Received(string Xml, string? RelayState, RedirectMessage? Redirect, string Parameter);

    public static void MapSamlSlo(this IEndpointRouteBuilder endpoints)
    {
        endpoints.MapGet(SamlIdpEndpoints.SingleLogoutPath, ReceiveAsync);
        endpoints.MapPost(SamlIdpEndpoints.SingleLogoutPath, ReceiveAsync).DisableAntiforgery();
    }

    private static async Task<IResult> ReceiveAsync(HttpContext context, IdentityHubDbContext db)
    {
        try
        {
            var received = await ReadAsync(context);
            return received.Parameter == SamlParameters.Request
                ? await LogoutRequestAsync(context, db, received)
                : await LogoutResponseAsync(context, db, received);
        }
        catch (SamlProtocolException ex)
        {
            return SamlErrorPage.Show(ex.Message);
        }
    }

    private static async Task<Received> ReadAsync(HttpContext context)
    {
        if (HttpMethods.IsGet(context.Request.Method))
        {
            var parameter = context.Request.Query.ContainsKey(SamlParameters.Request) ? SamlParameters.Request : SamlParameters.Response;
            var redirect = RedirectBinding.Decode(context.Request.QueryString.Value ?? "", parameter);
            return new Received(redirect.Xml, redirect.RelayState, redirect, parameter);
        }

        var form = context.Request.HasFormContentType ? await context.Request.ReadFormAsync(context.RequestAborted) : null;
        var name = form?.ContainsKey(SamlParameters.Request) == true ? SamlParameters.Request : SamlParameters.Response;
        var relayState = form?[SamlParameters.RelayState].ToString() is { Length: > 0 } r ? r : null;
        RelayStateRule.Check(relayState);
        return new Received(PostBinding.Decode(form?[name], name), relayState, null, name);
    }

    /// <summary>An SP-initiated logout: end the IdP session it names, tell the other participants, answer the SP.</summary>
    private static async Task<IResult> LogoutRequestAsync(HttpContext context, IdentityHubDbContext db, Received received)
    {
        var services = context.RequestServices;
        var settings = services.GetRequiredService<SamlSettings>();
        var clock = services.GetRequiredService<TimeProvider>();
        var cancellationToken = context.RequestAborted;
        var request = LogoutRequest.Read(SafeXml.Parse(received.Xml));
        var sp = await FindAsync(db, request.Issuer, cancellationToken);

        // Profiles §4.4.4.1: a LogoutRequest MUST be signed (or otherwise authenticated); we require a signature.
        Verify(sp, request.Root, received.Redirect, required: true);
        var idp = SamlIdpEndpoints.Of(context, settings);
        request.CheckFreshnessAndDestination(clock.GetUtcNow(), settings.ClockSkew, settings.MessageLifetime, idp.SingleLogout, isSigned: true);
        request.CheckNotExpired(clock.GetUtcNow(), settings.ClockSkew);
        if (sp.SingleLogoutUrl is null)
        {
            throw new SamlProtocolException("The service provider has no registered SingleLogoutService to answer.");
        }

        if (!await services.GetRequiredService<SamlReplayCache>().TryRememberAsync(sp.EntityId, request.Id, settings.ReplayWindow, cancellationToken))
        {
            throw new SamlProtocolException(SamlStatus.RequestDenied, $"The request {request.Id} was already received (replay).");
        }

        var session = await context.AuthenticateAsync(IdentityConstants.ApplicationScheme);
        string? page = null;
        var certificate = await services.GetRequiredService<SamlSigningCertificate>().GetAsync(cancellationToken);
        var destination = new Uri(sp.SingleLogoutUrl);
        var responseXml = LogoutMessages.Response(idp.EntityId, destination, request.Id, SamlStatus.Success, clock.GetUtcNow(),
            sp.SingleLogoutBinding == Saml2Names.HttpPostBinding ? certificate : null).OuterXml;
        var finish = sp.SingleLogoutBinding == Saml2Names.HttpPostBinding
            ? new LogoutFinish(null, destination, responseXml, received.RelayState)
            : new LogoutFinish(RedirectUrl(destination, responseXml, received.RelayState, certificate));

        if (session.Succeeded && await NamesSessionAsync(services, sp, request, session))
        {
            // Ends the cookie session and queues the OIDC back-channel notices for the same session.
            await services.GetRequiredService<SessionSignOut>().SignOutAsync(context);
            page = await services.GetRequiredService<SamlFrontChannelLogout>().PageAsync(context, session.Principal, sp.EntityId, finish);
        }

        // Core §3.7.3.2: with no matching session in this browser there is nothing left to end; Success either way.
        if (page is not null)
        {
            return Results.Content(page, "text/html; charset=utf-8");
        }

        return finish.PostTo is not null
            ? SamlPostPage.Response(context, finish.PostTo, responseXml, received.RelayState)
            : Results.Redirect(finish.RedirectTo!);
    }

    /// <summary>
    /// The request's NameID must be this user's at that SP (the transient one this session gave it, or the registered
    /// format's), and its SessionIndex (if any) this session.
    /// </summary>
    private static async Task<bool> NamesSessionAsync(IServiceProvider services, SamlServiceProvider sp, LogoutRequest request, AuthenticateResult session)
    {
        var user = await services.GetRequiredService<UserManager<UserAccount>>().GetUserAsync(session.Principal!);
        var sid = session.Principal!.FindFirst(IdentityHubClaims.SessionId)?.Value;
        if (user is null || sid is null && request.SessionIndexes.Count > 0)
        {
            return false;
        }

        var transient = sid is null ? null : (await services.GetRequiredService<SessionParticipants>().OfSessionAsync(sid, CancellationToken.None))
            .FirstOrDefault(p => p.Protocol == SessionParticipants.SamlProtocol && p.ClientId == sp.EntityId)?.NameId;
        return (transient == request.NameId || SamlSubjects.NameIdFor(sp, user) == request.NameId)
            && (request.SessionIndexes.Count == 0 || request.SessionIndexes.Contains(sid!));
    }

    /// <summary>An SP answering the LogoutRequest we sent it (inside the logout page's frame).</summary>
    private static async Task<IResult> LogoutResponseAsync(HttpContext context, IdentityHubDbContext db, Received received)
    {
        var services = context.RequestServices;
        var settings = services.GetRequiredService<SamlSettings>();
        var now = services.GetRequiredService<TimeProvider>().GetUtcNow();
        var response = LogoutResponse.Read(SafeXml.Parse(received.Xml));
        var sp = await FindAsync(db, response.Issuer, context.RequestAborted);
        // Profiles §4.4.4.2: the responder MUST authenticate its LogoutResponse; we require a signature.
        Verify(sp, response.Root, received.Redirect, required: true);
        response.CheckFreshnessAndDestination(now, settings.ClockSkew, settings.MessageLifetime, SamlIdpEndpoints.Of(context, settings).SingleLogout, isSigned: true);
        // Core §3.2.2: InResponseTo names our LogoutRequest. The IdP session has already ended when the SP answers (and
        // the frame is cross-site, so no SameSite=Lax cookie comes with it): the request is matched by SP and ID, once.
        if (response.InResponseTo is not { } answered
            || !await services.GetRequiredService<SamlReplayCache>().TryConsumeAsync(SamlFrontChannelLogout.SentTo(sp.EntityId), answered, context.RequestAborted))
        {
            throw new SamlProtocolException(SamlStatus.RequestDenied, "The LogoutResponse does not answer a LogoutRequest IdentityHub sent this service provider, or that request was already answered.");
        }

        // Shown inside our own front-channel logout page's frame.
        PageAllowances.AllowFramingBySelf(context);
        var outcome = response.Status == SamlStatus.Success ? "signed out" : "could not sign out (" + response.Status + ")";
        return Results.Content(
            $"<!DOCTYPE html><html><head><meta charset=\"utf-8\"><title>Signed out</title></head><body><p id=\"slo-result\">{WebUtility.HtmlEncode(sp.EntityId)}: {WebUtility.HtmlEncode(outcome)}</p></body></html>",
            "text/html; charset=utf-8");
    }

    private static async Task<SamlServiceProvider> FindAsync(IdentityHubDbContext db, string issuer, CancellationToken cancellationToken) =>
        await db.SamlServiceProviders.AsNoTracking().FirstOrDefaultAsync(s => s.EntityId == issuer, cancellationToken)
        ?? throw new SamlProtocolException($"The service provider '{issuer}' is not registered with IdentityHub.");

    private static void Verify(SamlServiceProvider sp, System.Xml.XmlElement root, RedirectMessage? redirect, bool required)
    {
        var present = redirect is not null ? redirect.SigAlg is not null : SignatureValidation.HasEnvelopedSignature(root);
        if (!present)
        {
            if (required)
            {
                throw new SamlProtocolException(SamlStatus.RequestDenied, "Logout messages must be signed (profiles §4.4.4.1).");
            }

            return;
        }

        using var certificate = sp.SigningCertificate is { } der
            ? X509CertificateLoader.LoadCertificate(der)
            : throw new SamlProtocolException(SamlStatus.RequestDenied, "The service provider has no registered signing certificate to check the signature with.");
        if (redirect is not null)
        {
            SignatureValidation.VerifyRedirect(redirect, certificate);
        }
        else
        {
            SignatureValidation.VerifyEnveloped(root, certificate);
        }
    }

    private static string RedirectUrl(Uri destination, string xml, string? relayState, X509Certificate2 certificate)
    {
        using var key = certificate.GetRSAPrivateKey();
        var query = RedirectBinding.Encode(xml, SamlParameters.Response, relayState, key);
        return destination.AbsoluteUri + (destination.Query.Length > 0 ? "&" : "?") + query;
    }
}
