using System.Security.Cryptography.X509Certificates;
using IdentityHub.Core.Sessions;
using IdentityHub.Core.Access;
using IdentityHub.Data;
using IdentityHub.Data.Access;
using IdentityHub.Data.Directory;
using IdentityHub.Saml;
using IdentityHub.Saml.Assertions;
using IdentityHub.Saml.Bindings;
using IdentityHub.Server.Identities;
using IdentityHub.Server.Sessions;
using Microsoft.AspNetCore.Authentication;
using Microsoft.EntityFrameworkCore;

namespace IdentityHub.Server.Saml;

/// <summary>A login the IdP owes a service provider: what the validated AuthnRequest (or the IdP-initiated link) asked for.</summary>
public sealed record PendingLogin(Guid ServiceProviderId, string? RequestId, string AcsUrl, string? RelayState, bool ForceAuthn, bool IsPassive, DateTimeOffset ReceivedAt)
{
    /// <summary>The NameIDPolicy Format the request asked for (already checked against the SP's), or null.</summary>
    public string? NameIdFormat { get; init; }

    /// <summary>Names this pending login across every resume link made for it, so it is answered once.</summary>
    public string Ticket { get; init; } = IdentityHub.Saml.Protocol.SamlXml.NewId();

    /// <summary>The request's RequestedAuthnContext asks for the MFA class: a one-factor session is stepped up first.</summary>
    public bool RequireMfa { get; init; }
}

/// <summary>Profiles §4.1.4.2: issues the Response for a signed-in user and records the SP as a session participant.</summary>
public sealed class SamlLoginIssuer(
    IdentityHubDbContext db, EffectiveEntitlements entitlements, SessionParticipants participants,
    SamlSigningCertificate signing, SamlSettings settings, TimeProvider clock)
{
    public const string Protocol = SessionParticipants.SamlProtocol;

    /// <summary>The auto-posting form carrying the Response, or a Response with an error status when the user cannot be named.</summary>
    public async Task<IResult> IssueAsync(HttpContext context, SamlServiceProvider sp, PendingLogin pending, UserAccount user, AuthenticateResult session)
    {
        ArgumentNullException.ThrowIfNull(context);
        ArgumentNullException.ThrowIfNull(sp);
        ArgumentNullException.ThrowIfNull(pending);
        ArgumentNullException.ThrowIfNull(session);
        var cancellationToken = context.RequestAborted;
        var idp = SamlIdpEndpoints.Of(context, settings);
        var certificate = await signing.GetAsync(cancellationToken);
        var acs = new Uri(pending.AcsUrl);
        var now = clock.GetUtcNow();

        var sid = session.Principal!.FindFirst(IdentityHubClaims.SessionId)?.Value ?? "";
        var format = SamlSubjects.FormatFor(sp, pending.NameIdFormat);
        var nameId = format == NameIdFormats.Transient
            ? sid.Length > 0 ? await participants.TransientNameIdAsync(sid, sp.EntityId, user.Id, cancellationToken) : null
            : SamlSubjects.NameIdFor(sp, user);
        if (nameId is null)
        {
            // Core §3.4.1.1: the requested identifier cannot be produced for this user (or, transient, for a session without an id).
            var error = LoginResponse.Error(idp.EntityId, acs, pending.RequestId, SamlStatus.InvalidNameIdPolicy,
                "The user has no value for the service provider's NameID format.", now, certificate);
            return SamlPostPage.Response(context, acs, error.OuterXml, pending.RelayState);
        }

        if (sid.Length > 0 && format != NameIdFormats.Transient)
        {
            await participants.RecordAsync(sid, Protocol, sp.EntityId, user.Id, cancellationToken);
        }

        var content = new LoginResponseContent
        {
            IdpEntityId = idp.EntityId,
            SpEntityId = sp.EntityId,
            AssertionConsumerService = acs,
            InResponseTo = pending.RequestId,
            NameId = nameId,
            NameIdFormat = format,
            // The browser session id: a LogoutRequest naming it ends exactly this session.
            SessionIndex = sid,
            AuthnInstant = IdentityHubClaims.AuthenticatedAt(session) ?? now,
            AuthnContextClass = AuthnContextClasses.ForMethods(session.Principal.FindAll(IdentityHubClaims.AuthenticationMethods).Select(c => c.Value)),
            Attributes = await AttributesAsync(sp, user, cancellationToken),
            Now = now,
            ClockSkew = settings.ClockSkew,
            Lifetime = settings.AssertionLifetime,
            SignResponse = sp.SignResponse,
            // An assertion nobody signed would be forgeable: sign it when the Response is not signed.
            SignAssertion = sp.SignAssertion || !sp.SignResponse,
            EncryptFor = sp.EncryptionCertificate is { } der ? X509CertificateLoader.LoadCertificate(der) : null,
        };
        return SamlPostPage.Response(context, acs, LoginResponse.Build(content, certificate).OuterXml, pending.RelayState);
    }

    private async Task<IReadOnlyList<AttributeValues>> AttributesAsync(SamlServiceProvider sp, UserAccount user, CancellationToken cancellationToken)
    {
        var mappings = sp.AttributeMappings.Count > 0
            ? sp.AttributeMappings
            : SamlAttributeSources.All.Select(s => new SamlAttributeMapping(s, s)).ToList();
        var department = user.DepartmentId is { } departmentId
            ? await db.Departments.Where(d => d.Id == departmentId).Select(d => d.Name).FirstOrDefaultAsync(cancellationToken)
            : null;
        Entitlements? rights = null;
        if (mappings.Any(m => m.Source is SamlAttributeSources.Roles or SamlAttributeSources.Permissions))
        {
            rights = await entitlements.ForApplicationAsync(user.Id, sp.ApplicationId, cancellationToken);
        }

        return mappings.Select(m => new AttributeValues(m.Name, Values(m.Source), m.NameFormat ?? AttributeNameFormats.Basic)).ToList();

        IReadOnlyList<string> Values(string source) => source switch
        {
            SamlAttributeSources.Name => One(user.DisplayName),
            SamlAttributeSources.Email => One(user.Email),
            SamlAttributeSources.Department => One(department),
            SamlAttributeSources.EmployeeNumber => One(user.EmployeeNumber),
            SamlAttributeSources.Roles => rights!.Roles,
            SamlAttributeSources.Permissions => rights!.Permissions,
            _ => [],
        };
    }

    private static IReadOnlyList<string> One(string? value) => string.IsNullOrEmpty(value) ? [] : [value];
}
