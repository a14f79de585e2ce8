using IdentityHub.Saml.Metadata;
using IdentityHub.Saml.Protocol;
using static IdentityHub.Saml.Tests.TestMessages;

namespace IdentityHub.Saml.Tests;

public sealed class SpMetadataTests
{
    private static string Metadata(string endpoints, string nameIdFormats = "") =>
        $"""<md:EntityDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata" entityID="{SpEntityId}"><md:SPSSODescriptor protocolSupportEnumeration="urn:oasis:names:tc:SAML:2.0:protocol">{endpoints}{nameIdFormats}</md:SPSSODescriptor></md:EntityDescriptor>""";

    private static string Endpoint(string element, string binding, string location, int? index = null) =>
        $"""<md:{element} Binding="{binding}" Location="{location}"{(index is { } i ? $" index=\"{i}\"" : "")}/>""";

    [Fact]
    public void Read_UnsupportedBindings_AreSkippedAndListed()
    {
        var xml = Metadata(
            Endpoint("SingleLogoutService", "urn:oasis:names:tc:SAML:2.0:bindings:SOAP", "https://sp.example.test/slo/soap")
            + Endpoint("SingleLogoutService", Saml2Names.HttpPostBinding, "https://sp.example.test/slo/post")
            + Endpoint("AssertionConsumerService", "urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Artifact", "https://sp.example.test/acs/artifact", 0)
            + Endpoint("AssertionConsumerService", Saml2Names.HttpPostBinding, Acs, 1)
            + Endpoint("AssertionConsumerService", "urn:oasis:names:tc:SAML:2.0:bindings:PAOS", "https://sp.example.test/ecp", 2));

        var info = SpMetadata.Read(xml);

        var acs = Assert.Single(info.AssertionConsumerServices);
        Assert.Equal((1, Acs), (acs.Index, acs.Location));
        Assert.Equal("https://sp.example.test/slo/post", info.SingleLogoutUrl);
        Assert.Equal(
            ["urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Artifact", "urn:oasis:names:tc:SAML:2.0:bindings:PAOS", "urn:oasis:names:tc:SAML:2.0:bindings:SOAP"],
            info.Skipped.Select(s => s.Binding).Order(StringComparer.Ordinal));
    }

    [Fact]
    public void Read_NoHttpPostAcs_IsRefusedNamingWhatWasLeftOut()
    {
        var xml = Metadata(Endpoint("AssertionConsumerService", "urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Artifact", "https://sp.example.test/acs", 0));

        var error = Assert.Throws<SamlProtocolException>(() => SpMetadata.Read(xml));

        Assert.Contains("HTTP-Artifact", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Read_SeveralNameIdFormats_TakesAStableOneBeforeTransient()
    {
        var xml = Metadata(
            Endpoint("AssertionConsumerService", Saml2Names.HttpPostBinding, Acs, 0),
            $"<md:NameIDFormat>{NameIdFormats.Transient}</md:NameIDFormat><md:NameIDFormat>urn:oasis:names:tc:SAML:2.0:nameid-format:kerberos</md:NameIDFormat><md:NameIDFormat>{NameIdFormats.Unspecified}</md:NameIDFormat>");

        Assert.Equal(NameIdFormats.Unspecified, SpMetadata.Read(xml).NameIdFormat);
    }

    [Fact]
    public void Read_OnlyTransientOffered_TakesTransient()
    {
        var xml = Metadata(
            Endpoint("AssertionConsumerService", Saml2Names.HttpPostBinding, Acs, 0),
            $"<md:NameIDFormat>urn:oasis:names:tc:SAML:2.0:nameid-format:kerberos</md:NameIDFormat><md:NameIDFormat>{NameIdFormats.Transient}</md:NameIDFormat>");

        Assert.Equal(NameIdFormats.Transient, SpMetadata.Read(xml).NameIdFormat);
    }
}
