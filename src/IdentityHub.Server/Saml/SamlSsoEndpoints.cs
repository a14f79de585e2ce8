using IdentityHub.Core.Factors;
using IdentityHub.Data;
using IdentityHub.Data.Access;
using IdentityHub.Data.Directory;
using IdentityHub.Saml;
using IdentityHub.Saml.Assertions;
using IdentityHub.Saml.Bindings;
using IdentityHub.Saml.Protocol;
using IdentityHub.Saml.Signing;
using IdentityHub.Server.Identities;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Identity;
using Microsoft.EntityFrameworkCore;
using System.Security.Cryptography.X509Certificates;

namespace IdentityHub.Server.Saml;

/// <summary>Profiles §4.1 (Web Browser SSO): SP-initiated over HTTP-Redirect and HTTP-POST, and IdP-initiated.</summary>
public static class SamlSsoEndpoints
{
    public static void MapSamlSso(this IEndpointRouteBuilder endpoints)
    {
        endpoints.MapGet(SamlIdpEndpoints.SingleSignOnPath, ReceiveAuthnRequestAsync);
        endpoints.MapPost(SamlIdpEndpoints.SingleSignOnPath, ReceiveAuthnRequestAsync).DisableAntiforgery();
        endpoints.MapGet(SamlIdpEndpoints.ResumePath, ResumeAsync);
        endpoints.MapGet(SamlIdpEndpoints.IdpInitiatedPath, IdpInitiatedAsync);
    }

    private static async Task<IResult> ReceiveAuthnRequestAsync(HttpContext context, IdentityHubDbContext db, SamlReplayCache replays, SamlSettings settings, TimeProvider clock)
    {
        PendingLogin pending;
        SamlRefusal? refusal;
        try
        {
            (pending, refusal) = await ValidateAsync(context, db, replays, settings, clock);
        }
        catch (SamlProtocolException ex)
        {
            return SamlErrorPage.Show(ex.Message);
        }

        return refusal is { } refused
            ? await AnswerWithStatusAsync(context, pending, refused.Status, refused.Message)
            : await ContinueAsync(context, pending);
    }

    /// <summary>A refusal the SP is told in a Response with this status at its registered ACS, rather than the user on a page.</summary>
    private sealed record SamlRefusal(string Status, string Message);

    /// <summary>Every check of issue 5 point 4 an AuthnRequest must pass before anything is sent anywhere.</summary>
    private static async Task<(PendingLogin Pending, SamlRefusal? Refusal)> ValidateAsync(HttpContext context, IdentityHubDbContext db, SamlReplayCache replays, SamlSettings settings, TimeProvider clock)
    {
        var cancellationToken = context.RequestAborted;
        string xml;
        string? relayState;
        RedirectMessage? redirect = null;
        if (HttpMethods.IsGet(context.Request.Method))
        {
            redirect = RedirectBinding.Decode(context.Request.QueryString.Value ?? "", SamlParameters.Request);
            (xml, relayState) = (redirect.Xml, redirect.RelayState);
        }
        else
        {
            var form = context.Request.HasFormContentType ? await context.Request.ReadFormAsync(cancellationToken) : null;
            xml = PostBinding.Decode(form?[SamlParameters.Request], SamlParameters.Request);
            relayState = form?[SamlParameters.RelayState].ToString() is { Length: > 0 } r ? r : null;
            RelayStateRule.Check(relayState);
        }

        var request = AuthnRequest.Read(SafeXml.Parse(xml));
        var sp = await db.SamlServiceProviders.AsNoTracking().FirstOrDefaultAsync(s => s.EntityId == request.Issuer, cancellationToken)
            ?? throw new SamlProtocolException($"The service provider '{request.Issuer}' is not registered with IdentityHub.");

        // Only a registered ACS is ever answered, so it is resolved first: the refusals below go there as SAML Responses.
        var pending = new PendingLogin(sp.Id, request.Id, ResolveAcs(sp, request), relayState, request.ForceAuthn, request.IsPassive, clock.GetUtcNow())
        {
            NameIdFormat = request.NameIdFormat,
        };
        var present = redirect is not null ? redirect.SigAlg is not null : SignatureValidation.HasEnvelopedSignature(request.Root);
        if (!present && (sp.AuthnRequestsSigned || settings.RequireSignedAuthnRequests))
        {
            // Core §3.2.2.2: Requester/RequestDenied — the SP registered (or the IdP requires) signed requests; this one is not.
            return (pending, new SamlRefusal(SamlStatus.RequestDenied, "This service provider's AuthnRequests must be signed."));
        }

        var signed = present && CheckSignature(sp, request, redirect);
        var idp = SamlIdpEndpoints.Of(context, settings);
        request.CheckFreshnessAndDestination(clock.GetUtcNow(), settings.ClockSkew, settings.MessageLifetime, idp.SingleSignOn, signed);
        if (!await replays.TryRememberAsync(sp.EntityId, request.Id, settings.ReplayWindow, cancellationToken))
        {
            throw new SamlProtocolException(SamlStatus.RequestDenied, $"The request {request.Id} was already received (replay).");
        }

        // Core §3.4.1.1: the NameID's Format must be the one requested; unspecified leaves it to the IdP (the SP's registered
        // one). Transient is given to any SP that asks: a random value per session tells the SP nothing about the user.
        if (request.NameIdFormat is { } format && format != NameIdFormats.Unspecified && format != NameIdFormats.Transient && format != sp.NameIdFormat)
        {
            return (pending, new SamlRefusal(SamlStatus.InvalidNameIdPolicy,
                $"NameIDPolicy Format {format} is not one this service provider may get; it is registered for {sp.NameIdFormat} (transient may always be asked for)."));
        }

        // Core §3.3.2.2.1: a requested context IdentityHub cannot satisfy is answered NoAuthnContext; the MFA class steps the session up.
        var demand = request.RequestedContext?.Demand() ?? AuthnContextDemand.Any;
        if (demand == AuthnContextDemand.Unsatisfiable)
        {
            return (pending, new SamlRefusal(SamlStatus.NoAuthnContext, "IdentityHub cannot authenticate the user with the requested authentication context."));
        }

        return (pending with { RequireMfa = demand == AuthnContextDemand.MultiFactor }, null);
    }

    /// <summary>A present signature is checked with the SP's registered certificate only.</summary>
    private static bool CheckSignature(SamlServiceProvider sp, AuthnRequest request, RedirectMessage? redirect)
    {

        using var certificate = sp.SigningCertificate is { } der
            ? X509CertificateLoader.LoadCertificate(der)
            : throw new SamlProtocolException(SamlStatus.RequestDenied, "The request is signed but the service provider has no registered signing certificate.");
        if (redirect is not null)
        {
            SignatureValidation.VerifyRedirect(redirect, certificate);
        }
        else
        {
            SignatureValidation.VerifyEnveloped(request.Root, certificate);
        }

        return true;
    }

    /// <summary>Profiles §4.1.4.1: the Response goes only to a registered ACS, named by URL, by index, or the default.</summary>
    private static string ResolveAcs(SamlServiceProvider sp, AuthnRequest request)
    {
        if (request.ProtocolBinding is { } binding && binding != Saml2Names.HttpPostBinding)
        {
            throw new SamlProtocolException(SamlStatus.RequestDenied, $"ProtocolBinding {binding} is not supported; IdentityHub sends Responses with HTTP-POST.");
        }

        var posts = sp.AssertionConsumerServices.Where(a => a.Binding == Saml2Names.HttpPostBinding).ToList();
        SamlAcsEndpoint? acs;
        if (request.AssertionConsumerServiceUrl is { } url)
        {
            acs = posts.FirstOrDefault(a => string.Equals(a.Url, url, StringComparison.Ordinal))
                ?? throw new SamlProtocolException(SamlStatus.RequestDenied, $"AssertionConsumerServiceURL {url} is not registered for this service provider.");
        }
        else if (request.AssertionConsumerServiceIndex is { } index)
        {
            acs = posts.FirstOrDefault(a => a.Index == index)
                ?? throw new SamlProtocolException(SamlStatus.RequestDenied, $"AssertionConsumerServiceIndex {index} is not registered for this service provider.");
        }
        else
        {
            acs = DefaultAcs(sp) ?? throw new SamlProtocolException(SamlStatus.RequestDenied, "The service provider has no HTTP-POST assertion consumer service.");
        }

        return acs.Url;
    }

    internal static SamlAcsEndpoint? DefaultAcs(SamlServiceProvider sp)
    {
        var posts = sp.AssertionConsumerServices.Where(a => a.Binding == Saml2Names.HttpPostBinding).OrderBy(a => a.Index).ToList();
        return posts.FirstOrDefault(a => a.IsDefault) ?? posts.FirstOrDefault();
    }

    private static async Task<IResult> ResumeAsync(HttpContext context, string? p)
    {
        PendingLogin pending;
        try
        {
            pending = SamlLoginResume.Read(context, p);
        }
        catch (SamlProtocolException ex)
        {
            return SamlErrorPage.Show(ex.Message);
        }

        return await ContinueAsync(context, pending, resumed: true);
    }

    private static async Task<IResult> IdpInitiatedAsync(HttpContext context, IdentityHubDbContext db, TimeProvider clock, string? sp, string? relayState)
    {
        var cancellationToken = context.RequestAborted;
        var provider = sp is null ? null
            : Guid.TryParse(sp, out var applicationId)
                ? await db.SamlServiceProviders.AsNoTracking().FirstOrDefaultAsync(s => s.ApplicationId == applicationId, cancellationToken)
                : await db.SamlServiceProviders.AsNoTracking().FirstOrDefaultAsync(s => s.EntityId == sp, cancellationToken);
        if (provider is null || DefaultAcs(provider) is not { } acs)
        {
            return SamlErrorPage.Show("No SAML service provider with that entity ID or application id is registered.", StatusCodes.Status404NotFound);
        }

        // An unsolicited Response from a plain GET is login CSRF into the SP: only SPs registered for it get one.
        if (!provider.AllowIdpInitiated)
        {
            return SamlErrorPage.Show("This service provider does not accept IdP-initiated login; start from the application.", StatusCodes.Status403Forbidden);
        }

        try
        {
            RelayStateRule.Check(relayState);
        }
        catch (SamlProtocolException ex)
        {
            return SamlErrorPage.Show(ex.Message);
        }

        // Profiles §4.1.5: an unsolicited Response has no InResponseTo.
        return await ContinueAsync(context, new PendingLogin(provider.Id, null, acs.Url, relayState, false, false, clock.GetUtcNow()));
    }

    /// <summary>Sends the user to the login page first when needed (the pending login survives it, protected), then issues the Response.</summary>
    private static async Task<IResult> ContinueAsync(HttpContext context, PendingLogin pending, bool resumed = false)
    {
        var services = context.RequestServices;
        var db = services.GetRequiredService<IdentityHubDbContext>();
        var sp = await db.SamlServiceProviders.AsNoTracking().FirstOrDefaultAsync(s => s.Id == pending.ServiceProviderId, context.RequestAborted);
        if (sp is null)
        {
            return SamlErrorPage.Show("The service provider is no longer registered.");
        }

        var session = await context.AuthenticateAsync(IdentityConstants.ApplicationScheme);
        var users = services.GetRequiredService<UserManager<UserAccount>>();
        var user = session.Succeeded ? await users.GetUserAsync(session.Principal!) : null;
        // Core §3.4.1: ForceAuthn means a sign-in that happened after the request arrived.
        var fresh = !pending.ForceAuthn || (session.Succeeded && IdentityHubClaims.AuthenticatedAt(session) >= pending.ReceivedAt);
        if (user is null || !fresh || !await services.GetRequiredService<SignInManager<UserAccount>>().CanSignInAsync(user) || await users.IsLockedOutAsync(user))
        {
            if (pending.IsPassive)
            {
                if (await AlreadyAnsweredAsync(context, pending, resumed) is { } answered)
                {
                    return answered;
                }

                return await AnswerWithStatusAsync(context, pending, SamlStatus.NoPassive, "The user is not signed in and IsPassive forbids asking.");
            }

            // ForceAuthn is honoured on resume: the new session must start after the request arrived.
            var resume = SamlLoginResume.UrlFor(context, pending);
            return Results.Redirect($"/account/login?ReturnUrl={Uri.EscapeDataString(resume)}");
        }

        if (await NeedsSecondFactorAsync(services, sp, pending, user, session.Principal!, context.RequestAborted))
        {
            if (pending.IsPassive)
            {
                return await AlreadyAnsweredAsync(context, pending, resumed)
                    ?? await AnswerWithStatusAsync(context, pending, SamlStatus.NoPassive, "A second factor is required and IsPassive forbids asking.");
            }

            // The session is stepped up on the MFA page (no new password), then the same pending login resumes.
            var resume = SamlLoginResume.UrlFor(context, pending);
            return Results.Redirect($"/account/login/mfa?ReturnUrl={Uri.EscapeDataString(resume)}");
        }

        return await AlreadyAnsweredAsync(context, pending, resumed)
            ?? await services.GetRequiredService<SamlLoginIssuer>().IssueAsync(context, sp, pending, user, session);
    }

    /// <summary>A session without a second factor is stepped up when the request, the application or the user's policy asks for MFA.</summary>
    private static async Task<bool> NeedsSecondFactorAsync(
        IServiceProvider services, SamlServiceProvider sp, PendingLogin pending, UserAccount user, System.Security.Claims.ClaimsPrincipal session, CancellationToken cancellationToken)
    {
        if (MfaPolicy.IsSatisfiedBy(session.FindAll(IdentityHubClaims.AuthenticationMethods).Select(c => c.Value)))
        {
            return false;
        }

        var policy = services.GetRequiredService<MfaPolicy>();
        return pending.RequireMfa || await policy.RequiredForApplicationAsync(sp.ApplicationId, cancellationToken) || await policy.RequiredForUserAsync(user, cancellationToken);
    }

    /// <summary>Profiles §4.1.4.2: a signed Response carrying only <paramref name="status"/>, posted to the pending login's ACS.</summary>
    private static async Task<IResult> AnswerWithStatusAsync(HttpContext context, PendingLogin pending, string status, string message)
    {
        var services = context.RequestServices;
        var idp = SamlIdpEndpoints.Of(context, services.GetRequiredService<SamlSettings>());
        var certificate = await services.GetRequiredService<SamlSigningCertificate>().GetAsync(context.RequestAborted);
        var acs = new Uri(pending.AcsUrl);
        var error = LoginResponse.Error(idp.EntityId, acs, pending.RequestId, status, message, services.GetRequiredService<TimeProvider>().GetUtcNow(), certificate);
        return SamlPostPage.Response(context, acs, error.OuterXml, pending.RelayState);
    }

    /// <summary>A resumed login is answered once: a second use of its link gets the error page, not a second Response.</summary>
    private static async Task<IResult?> AlreadyAnsweredAsync(HttpContext context, PendingLogin pending, bool resumed)
    {
        var replays = context.RequestServices.GetRequiredService<SamlReplayCache>();
        return resumed && !await SamlLoginResume.TryConsumeAsync(replays, pending, context.RequestAborted)
            ? SamlErrorPage.Show("This sign-in request was already answered; start again from the application.")
            : null;
    }
}
