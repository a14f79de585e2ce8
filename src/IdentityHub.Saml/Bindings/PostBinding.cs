using System.Net;
using System.Text;
using IdentityHub.Saml.Protocol;

namespace IdentityHub.Saml.Bindings;

/// <summary>SAML bindings §3.5: HTTP-POST, the message base64-encoded in a form field.</summary>
public static class PostBinding
{
    /// <summary>Encoded size accepted; a signed request with a certificate is well under it.</summary>
    public const int MaxEncodedChars = 256 * 1024;

    public static string Decode(string? encoded, string parameter)
    {
        if (string.IsNullOrEmpty(encoded))
        {
            throw new SamlProtocolException($"The form has no {parameter}.");
        }

        if (encoded.Length > MaxEncodedChars)
        {
            throw new SamlProtocolException($"{parameter} is longer than {MaxEncodedChars} characters.");
        }

        try
        {
            return Encoding.UTF8.GetString(Convert.FromBase64String(encoded));
        }
        catch (FormatException ex)
        {
            throw new SamlProtocolException($"{parameter} is not valid base64.", ex);
        }
    }

    /// <summary>The inline script of <see cref="FormPage"/>, exactly as written (a Content-Security-Policy allows it by its hash).</summary>
    public const string AutoSubmitScript = "document.getElementById('saml-post').submit();";

    /// <summary>
    /// The page that makes the browser POST the message to <paramref name="destination"/> (bindings §3.5.4);
    /// without script the user presses the button.
    /// </summary>
    public static string FormPage(Uri destination, string parameter, string xml, string? relayState) =>
        "<!DOCTYPE html><html><head><meta charset=\"utf-8\"><title>Signing in</title></head><body>"
        + Form(destination, parameter, xml, relayState)
        + "<script>" + AutoSubmitScript + "</script></body></html>";

    /// <summary>The form element alone (id "saml-post"), for pages that submit it later.</summary>
    public static string Form(Uri destination, string parameter, string xml, string? relayState)
    {
        ArgumentNullException.ThrowIfNull(destination);
        ArgumentNullException.ThrowIfNull(xml);
        var html = new StringBuilder()
            .Append("<form id=\"saml-post\" method=\"post\" action=\"").Append(WebUtility.HtmlEncode(destination.AbsoluteUri)).Append("\">")
            .Append("<input type=\"hidden\" name=\"").Append(parameter).Append("\" value=\"")
            .Append(Convert.ToBase64String(Encoding.UTF8.GetBytes(xml))).Append("\">");
        if (!string.IsNullOrEmpty(relayState))
        {
            html.Append("<input type=\"hidden\" name=\"RelayState\" value=\"").Append(WebUtility.HtmlEncode(relayState)).Append("\">");
        }

        return html.Append("<noscript><button type=\"submit\">Continue</button></noscript></form>").ToString();
    }
}
