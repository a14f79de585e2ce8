using System.Security.Cryptography.X509Certificates;
using System.Xml;
using IdentityHub.Saml.Protocol;

namespace IdentityHub.Saml.Metadata;

/// <summary>SAML metadata §2.4.3: IdentityHub's IDPSSODescriptor.</summary>
public static class IdpMetadata
{
    /// <param name="wantAuthnRequestsSigned">Metadata §2.4.3: true only when every SP must sign its AuthnRequests; otherwise the attribute is left out.</param>
    public static XmlDocument Build(string entityId, Uri singleSignOnService, Uri singleLogoutService, IReadOnlyList<X509Certificate2> signingCertificates, bool wantAuthnRequestsSigned)
    {
        ArgumentNullException.ThrowIfNull(singleSignOnService);
        ArgumentNullException.ThrowIfNull(singleLogoutService);
        ArgumentNullException.ThrowIfNull(signingCertificates);
        const string Md = Saml2Names.Metadata;
        var document = new XmlDocument();
        var root = SamlXml.Element(document, "md", Md, "EntityDescriptor", ("entityID", entityId));
        document.AppendChild(root);
        var idp = root.Add(SamlXml.Element(document, "md", Md, "IDPSSODescriptor",
            ("WantAuthnRequestsSigned", wantAuthnRequestsSigned ? "true" : null), ("protocolSupportEnumeration", Saml2Names.Protocol)));

        foreach (var certificate in signingCertificates)
        {
            var keyInfo = idp.Add(SamlXml.Element(document, "md", Md, "KeyDescriptor", ("use", "signing")))
                .Add(SamlXml.Element(document, "ds", Saml2Names.XmlDsig, "KeyInfo"));
            keyInfo.Add(SamlXml.Element(document, "ds", Saml2Names.XmlDsig, "X509Data"))
                .Add(SamlXml.Element(document, "ds", Saml2Names.XmlDsig, "X509Certificate")).Text(Convert.ToBase64String(certificate.RawData));
        }

        // Schema order (SSODescriptorType): SingleLogoutService, NameIDFormat, then SingleSignOnService.
        foreach (var binding in new[] { Saml2Names.HttpRedirectBinding, Saml2Names.HttpPostBinding })
        {
            idp.Add(SamlXml.Element(document, "md", Md, "SingleLogoutService", ("Binding", binding), ("Location", singleLogoutService.AbsoluteUri)));
        }

        foreach (var format in NameIdFormats.Supported)
        {
            idp.Add(SamlXml.Element(document, "md", Md, "NameIDFormat")).Text(format);
        }

        foreach (var binding in new[] { Saml2Names.HttpRedirectBinding, Saml2Names.HttpPostBinding })
        {
            idp.Add(SamlXml.Element(document, "md", Md, "SingleSignOnService", ("Binding", binding), ("Location", singleSignOnService.AbsoluteUri)));
        }

        return document;
    }
}
