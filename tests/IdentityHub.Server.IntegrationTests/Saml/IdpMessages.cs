using System.Net;
using System.Text;
using System.Text.RegularExpressions;
using System.Xml;
using IdentityHub.Saml.Bindings;
using IdentityHub.Saml.Protocol;

namespace IdentityHub.Server.IntegrationTests.Saml;

/// <summary>A message the IdP made the browser POST (the auto-submitting form), decoded; <see cref="DecryptedXml"/> when its assertion was encrypted.</summary>
public sealed record AutoPost(Uri Action, string Parameter, string Xml, string? RelayState, string? DecryptedXml = null)
{
    public XmlDocument Document => SafeXml.Parse(Xml);
}

/// <summary>A LogoutRequest the front-channel logout page sends an SP from a frame, by either binding.</summary>
public sealed record FrameMessage(Uri Destination, string Binding, string Xml);

/// <summary>
/// The only way these tests read a message the IdP sends, so that every one is verified by software that is not
/// IdentityHub's, with the certificate from /saml/metadata: xmlsec1 for XML signatures (HTTP-POST), openssl for the
/// query-string signature of HTTP-Redirect (bindings §3.4.4.1).
/// </summary>
public sealed partial class IdpMessages(IdentityHubFactory factory)
{
    private string? _certificatePem;

    public async Task<string> CertificatePemAsync() =>
        _certificatePem ??= await Xmlsec1.MetadataCertificatePemAsync(factory.CreateClient());

    /// <summary>The auto-posting form the IdP answered with (Response, LogoutResponse or LogoutRequest), verified.</summary>
    public async Task<AutoPost> ReadPostAsync(HttpResponseMessage response, string? decryptionKeyPem = null)
    {
        ArgumentNullException.ThrowIfNull(response);
        var html = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, $"{(int)response.StatusCode}: {html}");
        return await ReadFormAsync(html, decryptionKeyPem);
    }

    /// <summary>The form with id "saml-post" in <paramref name="html"/>, its message verified with xmlsec1.</summary>
    public async Task<AutoPost> ReadFormAsync(string html, string? decryptionKeyPem = null)
    {
        var form = FormPattern().Match(html);
        Assert.True(form.Success, "No SAML form in: " + html);
        var relay = RelayPattern().Match(html[form.Index..]);
        var xml = Encoding.UTF8.GetString(Convert.FromBase64String(form.Groups["value"].Value));
        var root = SafeXml.Parse(xml).DocumentElement!;
        string? decrypted = null;
        if (root.LocalName == "Response")
        {
            decrypted = await Xmlsec1.VerifyResponseAsync(xml, await CertificatePemAsync(), decryptionKeyPem);
        }
        else
        {
            await Xmlsec1.VerifyRootAsync(xml, await CertificatePemAsync());
        }

        return new AutoPost(
            new Uri(WebUtility.HtmlDecode(form.Groups["action"].Value)),
            form.Groups["name"].Value,
            xml,
            relay.Success ? WebUtility.HtmlDecode(relay.Groups[1].Value) : null,
            decrypted);
    }

    /// <summary>A message sent by HTTP-Redirect (a Location header, a frame's src) exactly as written, its signature verified with openssl.</summary>
    public async Task<RedirectMessage> ReadRedirectAsync(string url, string parameter)
    {
        ArgumentNullException.ThrowIfNull(url);
        await OpenSsl.VerifyRedirectAsync(url, await CertificatePemAsync());
        return RedirectBinding.Decode(url[url.IndexOf('?', StringComparison.Ordinal)..], parameter);
    }

    /// <summary>The Redirect-binding message in a redirect response's Location header.</summary>
    public Task<RedirectMessage> ReadRedirectAsync(HttpResponseMessage response, string parameter)
    {
        ArgumentNullException.ThrowIfNull(response);
        Assert.True(response.StatusCode == HttpStatusCode.Redirect, $"Expected a redirect, got {(int)response.StatusCode}.");
        return ReadRedirectAsync(response.Headers.Location!.OriginalString, parameter);
    }

    /// <summary>Every LogoutRequest the front-channel logout page sends from its frames, each verified for its binding.</summary>
    public async Task<IReadOnlyList<FrameMessage>> ReadLogoutFramesAsync(string html)
    {
        var messages = new List<FrameMessage>();
        foreach (Match frame in RedirectFrame().Matches(html))
        {
            var url = WebUtility.HtmlDecode(frame.Groups[1].Value);
            var message = await ReadRedirectAsync(url, SamlParameters.Request);
            messages.Add(new FrameMessage(new Uri(new Uri(url).GetLeftPart(UriPartial.Path)), IdentityHub.Saml.Saml2Names.HttpRedirectBinding, message.Xml));
        }

        foreach (Match frame in SrcdocFrame().Matches(html))
        {
            var post = await ReadFormAsync(WebUtility.HtmlDecode(frame.Groups[1].Value));
            Assert.Equal(SamlParameters.Request, post.Parameter);
            messages.Add(new FrameMessage(post.Action, IdentityHub.Saml.Saml2Names.HttpPostBinding, post.Xml));
        }

        return messages;
    }

    [GeneratedRegex("<form id=\"saml-post\" method=\"post\" action=\"(?<action>[^\"]+)\"><input type=\"hidden\" name=\"(?<name>SAML(?:Request|Response))\" value=\"(?<value>[^\"]+)\">")]
    private static partial Regex FormPattern();

    [GeneratedRegex("name=\"RelayState\" value=\"([^\"]*)\"")]
    private static partial Regex RelayPattern();

    [GeneratedRegex("<iframe class=\"slo\" title=\"[^\"]*\" src=\"([^\"]+)\"")]
    private static partial Regex RedirectFrame();

    [GeneratedRegex("<iframe class=\"slo\" title=\"[^\"]*\" srcdoc=\"([^\"]+)\"")]
    private static partial Regex SrcdocFrame();
}
