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
    /// <summary>Null when the user lacks what the format needs (no email, no employee number).</summary>
    public static string? NameIdFor(SamlServiceProvider sp, UserAccount user)
    {
        ArgumentNullException.ThrowIfNull(sp);
        ArgumentNullException.ThrowIfNull(user);
        return sp.NameIdFormat switch
        {
            // Core §8.3.7: persistent ids are opaque and pairwise; an HMAC under the SP's own salt is both, and stable.
            NameIdFormats.Persistent => Base64UrlEncoder.Encode(HMACSHA256.HashData(sp.PairwiseSalt, Encoding.UTF8.GetBytes(user.Id))),
            NameIdFormats.EmailAddress => string.IsNullOrEmpty(user.Email) ? null : user.Email,
            _ => string.IsNullOrEmpty(user.EmployeeNumber) ? null : user.EmployeeNumber,
        };
    }
}
