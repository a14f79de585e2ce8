using System.Text.Encodings.Web;
using System.Text.Json;

namespace IdentityHub.Provisioning.Connectors.Scim;

/// <summary>Builds SCIM filter expressions (RFC 7644 §3.4.2.2).</summary>
public static class ScimFilter
{
    // Escapes only what JSON requires, so plain non-ASCII names stay readable on the wire.
    private static readonly JsonSerializerOptions StringLiteral = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    /// <summary><c>attribute eq "value"</c>; RFC 7644 §3.4.2.2: a string value is a JSON string (RFC 7159 §7), so quotes and backslashes are escaped.</summary>
    public static string Equal(string attribute, string value)
    {
        ArgumentException.ThrowIfNullOrEmpty(attribute);
        ArgumentNullException.ThrowIfNull(value);
        return $"{attribute} eq {JsonSerializer.Serialize(value, StringLiteral)}";
    }
}
