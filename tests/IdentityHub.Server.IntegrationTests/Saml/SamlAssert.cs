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
    /// Everything issue 5 point 3 asks of a Response, checked here, plus xmlsec1 verification with the
    /// certificate from /saml/metadata.
    /// </summary>
    public static async Task<SamlResponseView> ValidResponseAsync(IdentityHubFactory factory, AutoPost post, SamlTestSp sp, string? inResponseTo)
    {
        Assert.Equal("SAMLResponse", post.Parameter);
        await Xmlsec1.VerifyResponseAsync(post.Xml, await Xmlsec1.MetadataCertificatePemAsync(factory.CreateClient()));
        var view = new SamlResponseView(post.Document);
        var idp = SamlTestSp.IdpBase + "/saml/metadata";
        Assert.Equal(SamlStatus.Success, view.Text("/samlp:Response/samlp:Status/samlp:StatusCode/@Value"));
        Assert.Equal(idp, view.Text("/samlp:Response/saml:Issuer"));
        Assert.Equal(sp.Acs, view.Text("/samlp:Response/@Destination"));
        Assert.Equal(inResponseTo, view.Text("/samlp:Response/@InResponseTo"));
        Assert.Equal(idp, view.Text("//saml:Assertion/saml:Issuer"));
        Assert.Equal(Saml2Names.BearerConfirmation, view.Text("//saml:SubjectConfirmation/@Method"));
        Assert.Equal(sp.Acs, view.Text("//saml:SubjectConfirmationData/@Recipient"));
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

    public static async Task ErrorPageAsync(HttpResponseMessage response, string expected)
    {
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.BadRequest, $"{(int)response.StatusCode}: {body}");
        Assert.Null(response.Headers.Location);
        Assert.DoesNotContain("saml-post", body, StringComparison.Ordinal);
        Assert.Contains(expected, body, StringComparison.Ordinal);
    }
}
