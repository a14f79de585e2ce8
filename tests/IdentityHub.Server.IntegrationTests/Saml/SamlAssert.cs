using System.Net;
using System.Xml;
using IdentityHub.Saml;
using IdentityHub.Saml.Protocol;

namespace IdentityHub.Server.IntegrationTests.Saml;

/// <summary>A received Response, queried by XPath with the usual SAML prefixes.</summary>
public sealed class SamlResponseView(XmlDocument document)
{
    private readonly XmlNamespaceManager _ns = SafeXml.Namespaces(document);

    public XmlDocument Document => document;

    public string? Text(string xpath) => document.SelectSingleNode(xpath, _ns) switch
    {
        XmlAttribute attribute => attribute.Value,
        { } node => node.InnerText,
        null => null,
    };

    public IReadOnlyList<string> Attribute(string name) =>
        document.SelectNodes($"//saml:Attribute[@Name='{name}']/saml:AttributeValue", _ns)!.Cast<XmlNode>().Select(n => n.InnerText).ToList();
}

public static class SamlAssert
{
    /// <summary>
    /// Everything issue 5 point 3 asks of a Response, checked here; <see cref="IdpMessages"/> has already verified
    /// its signatures with xmlsec1 (and decrypted an encrypted assertion).
    /// </summary>
    public static SamlResponseView ValidResponse(AutoPost post, SamlTestSp sp, string? inResponseTo, string? acs = null)
    {
        ArgumentNullException.ThrowIfNull(post);
        ArgumentNullException.ThrowIfNull(sp);
        Assert.Equal("SAMLResponse", post.Parameter);
        acs ??= sp.Acs;
        Assert.Equal(acs, post.Action.AbsoluteUri);
        var view = new SamlResponseView(SafeXml.Parse(post.DecryptedXml ?? post.Xml));
        var idp = SamlTestSp.IdpBase + "/saml/metadata";
        Assert.Equal(SamlStatus.Success, view.Text("/samlp:Response/samlp:Status/samlp:StatusCode/@Value"));
        Assert.Equal(idp, view.Text("/samlp:Response/saml:Issuer"));
        Assert.Equal(acs, view.Text("/samlp:Response/@Destination"));
        Assert.Equal(inResponseTo, view.Text("/samlp:Response/@InResponseTo"));
        Assert.Equal(idp, view.Text("//saml:Assertion/saml:Issuer"));
        Assert.Equal(Saml2Names.BearerConfirmation, view.Text("//saml:SubjectConfirmation/@Method"));
        Assert.Equal(acs, view.Text("//saml:SubjectConfirmationData/@Recipient"));
        Assert.Equal(inResponseTo, view.Text("//saml:SubjectConfirmationData/@InResponseTo"));
        Assert.NotNull(view.Text("//saml:SubjectConfirmationData/@NotOnOrAfter"));
        Assert.Equal(sp.EntityId, view.Text("//saml:Conditions/saml:AudienceRestriction/saml:Audience"));
        var notBefore = DateTimeOffset.Parse(view.Text("//saml:Conditions/@NotBefore")!, System.Globalization.CultureInfo.InvariantCulture);
        var notOnOrAfter = DateTimeOffset.Parse(view.Text("//saml:Conditions/@NotOnOrAfter")!, System.Globalization.CultureInfo.InvariantCulture);
        Assert.InRange(DateTimeOffset.UtcNow, notBefore, notOnOrAfter);
        Assert.False(string.IsNullOrEmpty(view.Text("//saml:AuthnStatement/@SessionIndex")));
        Assert.Contains("RSA-SHA256".ToLowerInvariant(), view.Text("//ds:SignatureMethod/@Algorithm")!, StringComparison.Ordinal);
        Assert.Equal(Saml2Names.ExclusiveC14n, view.Text("//ds:CanonicalizationMethod/@Algorithm"));
        return view;
    }

    /// <summary>IdentityHub's own error page: no redirect, no form posting anything anywhere.</summary>
    public static async Task ErrorPageAsync(HttpResponseMessage response, string expected, HttpStatusCode status = HttpStatusCode.BadRequest)
    {
        ArgumentNullException.ThrowIfNull(response);
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == status, $"{(int)response.StatusCode}: {body}");
        Assert.Null(response.Headers.Location);
        Assert.DoesNotContain("saml-post", body, StringComparison.Ordinal);
        Assert.Contains(expected, body, StringComparison.Ordinal);
    }
}
