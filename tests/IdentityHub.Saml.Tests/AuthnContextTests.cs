namespace IdentityHub.Saml.Tests;

public sealed class AuthnContextTests
{
    [Fact]
    public void ForMethods_Password_IsPasswordProtectedTransport() =>
        Assert.Equal(AuthnContextClasses.PasswordProtectedTransport, AuthnContextClasses.ForMethods(["pwd"]));

    [Theory]
    [InlineData("mfa")]
    [InlineData("otp")]
    [InlineData("hwk")]
    public void ForMethods_SecondFactorWithPassword_IsMultiFactor(string secondFactor) =>
        Assert.Equal(AuthnContextClasses.MultiFactor, AuthnContextClasses.ForMethods(["pwd", secondFactor]));

    [Fact]
    public void ForMethods_NothingRecorded_IsUnspecifiedNotAPasswordClaim() =>
        Assert.Equal(AuthnContextClasses.Unspecified, AuthnContextClasses.ForMethods([]));

    [Fact]
    public void ForMethods_UnknownMethodOnly_IsUnspecified() =>
        Assert.Equal(AuthnContextClasses.Unspecified, AuthnContextClasses.ForMethods(["swk"]));
}
