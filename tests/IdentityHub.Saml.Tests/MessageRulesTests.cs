using IdentityHub.Saml.Protocol;
using static IdentityHub.Saml.Tests.TestMessages;

namespace IdentityHub.Saml.Tests;

public sealed class MessageRulesTests
{
    private static readonly TimeSpan Skew = TimeSpan.FromMinutes(2);
    private static readonly TimeSpan MaxAge = TimeSpan.FromMinutes(5);

    [Fact]
    public void CheckFreshness_IssuedNow_Passes()
    {
        var request = AuthnRequest.Read(SafeXml.Parse(AuthnRequestXml()));

        request.CheckFreshnessAndDestination(DateTimeOffset.UtcNow, Skew, MaxAge, SsoEndpoint, isSigned: true);

        Assert.Equal(Acs, request.AssertionConsumerServiceUrl);
        Assert.Equal(SpEntityId, request.Issuer);
    }

    [Fact]
    public void CheckFreshness_IssuedInTheFuture_IsRefused()
    {
        var request = AuthnRequest.Read(SafeXml.Parse(AuthnRequestXml(issued: DateTimeOffset.UtcNow.AddMinutes(10))));

        var error = Assert.Throws<SamlProtocolException>(() => request.CheckFreshnessAndDestination(DateTimeOffset.UtcNow, Skew, MaxAge, SsoEndpoint, true));

        Assert.Contains("future", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void CheckFreshness_IssuedLongAgo_IsRefused()
    {
        var request = AuthnRequest.Read(SafeXml.Parse(AuthnRequestXml(issued: DateTimeOffset.UtcNow.AddHours(-1))));

        var error = Assert.Throws<SamlProtocolException>(() => request.CheckFreshnessAndDestination(DateTimeOffset.UtcNow, Skew, MaxAge, SsoEndpoint, true));

        Assert.Contains("too old", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void CheckDestination_OtherEndpoint_IsRefused()
    {
        var request = AuthnRequest.Read(SafeXml.Parse(AuthnRequestXml(destination: "https://other-idp.test/sso")));

        var error = Assert.Throws<SamlProtocolException>(() => request.CheckFreshnessAndDestination(DateTimeOffset.UtcNow, Skew, MaxAge, SsoEndpoint, true));

        Assert.Contains("Destination", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Read_WrongVersion_AnswersVersionMismatch()
    {
        var xml = AuthnRequestXml().Replace("Version=\"2.0\"", "Version=\"1.1\"", StringComparison.Ordinal);

        var error = Assert.Throws<SamlProtocolException>(() => AuthnRequest.Read(SafeXml.Parse(xml)));

        Assert.Equal(SamlStatus.VersionMismatch, error.StatusCode);
    }

    [Fact]
    public void CheckNotExpired_LogoutRequestPastNotOnOrAfter_IsRefused()
    {
        var request = LogoutRequest.Read(SafeXml.Parse(LogoutRequestXml(DateTimeOffset.UtcNow.AddMinutes(-10))));

        var error = Assert.Throws<SamlProtocolException>(() => request.CheckNotExpired(DateTimeOffset.UtcNow, Skew));

        Assert.Equal(SamlStatus.RequestDenied, error.StatusCode);
        Assert.Contains("NotOnOrAfter", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void CheckNotExpired_LogoutRequestWithinNotOnOrAfter_Passes()
    {
        var request = LogoutRequest.Read(SafeXml.Parse(LogoutRequestXml(DateTimeOffset.UtcNow.AddMinutes(5))));

        request.CheckNotExpired(DateTimeOffset.UtcNow, Skew);

        Assert.NotNull(request.NotOnOrAfter);
    }

    private static string LogoutRequestXml(DateTimeOffset notOnOrAfter) =>
        $"""<samlp:LogoutRequest xmlns:samlp="urn:oasis:names:tc:SAML:2.0:protocol" xmlns:saml="urn:oasis:names:tc:SAML:2.0:assertion" ID="_lr1" Version="2.0" IssueInstant="{SamlXml.Instant(DateTimeOffset.UtcNow)}" NotOnOrAfter="{SamlXml.Instant(notOnOrAfter)}"><saml:Issuer>{SpEntityId}</saml:Issuer><saml:NameID>n</saml:NameID></samlp:LogoutRequest>""";
}
