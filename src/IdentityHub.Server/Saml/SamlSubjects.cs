using System.Security.Cryptography;
using System.Text;
using IdentityHub.Data.Access;
using IdentityHub.Data.Directory;
using IdentityHub.Saml;
using Microsoft.IdentityModel.Tokens;

namespace IdentityHub.Server.Saml;

/// <summary>The NameID a service provider knows a user by (SAML core §8.3).</summary>
public static class SamlSubjects
{
    /// <summary>The format of this login's NameID: transient when the SP registered it or the request asked for it, else the registered one.</summary>
    public static string FormatFor(SamlServiceProvider sp, string? requested)
    {
        ArgumentNullException.ThrowIfNull(sp);
        return requested == NameIdFormats.Transient ? NameIdFormats.Transient : sp.NameIdFormat;
    }

    /// <summary>
    /// The NameID of a participant of a session: its transient value when it got one, else the SP's registered format's
    /// value for the user (null when the user lacks it).
    /// </summary>
    public static (string? NameId, string Format) OfParticipant(SamlServiceProvider sp, UserAccount user, string? transient) =>
        transient is not null ? (transient, NameIdFormats.Transient) : (NameIdFor(sp, user), sp.NameIdFormat);

    /// <summary>
    /// Null when the user lacks what the format needs (no email, no employee number), and for transient, whose value
    /// belongs to a session (<see cref="Core.Sessions.SessionParticipants.TransientNameIdAsync"/>).
    /// </summary>
    public static string? NameIdFor(SamlServiceProvider sp, UserAccount user)
    {
        ArgumentNullException.ThrowIfNull(sp);
        ArgumentNullException.ThrowIfNull(user);
        return sp.NameIdFormat switch
        {
            // Core §8.3.7: persistent ids are opaque and pairwise; an HMAC under the SP's own salt is both, and stable.
            NameIdFormats.Persistent => Base64UrlEncoder.Encode(HMACSHA256.HashData(sp.PairwiseSalt, Encoding.UTF8.GetBytes(user.Id))),
            NameIdFormats.EmailAddress => string.IsNullOrEmpty(user.Email) ? null : user.Email,
            NameIdFormats.Transient => null,
            _ => string.IsNullOrEmpty(user.EmployeeNumber) ? null : user.EmployeeNumber,
        };
    }
}
