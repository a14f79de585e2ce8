using System.Net;
using System.Net.Http.Headers;
using IdentityHub.Provisioning.Connectors;
using IdentityHub.Provisioning.Connectors.Scim;

namespace IdentityHub.Provisioning.Tests;

/// <summary>The SCIM rules that need no server: filter literals, settings, and HTTP results as delivery outcomes.</summary>
public sealed class ScimProtocolTests
{
    private static readonly DateTimeOffset Now = new(2026, 11, 23, 12, 0, 0, TimeSpan.Zero);

    [Theory]
    [InlineData("E001", "userName eq \"E001\"")]
    [InlineData("a\"b", "userName eq \"a\\\"b\"")]
    [InlineData("back\\slash", "userName eq \"back\\\\slash\"")]
    [InlineData("张伟", "userName eq \"张伟\"")]
    [InlineData("tab\there", "userName eq \"tab\\there\"")]
    public void Equal_SpecialCharacters_AreJsonStringEscaped(string value, string expected) =>
        Assert.Equal(expected, ScimFilter.Equal("userName", value));

    [Fact]
    public void Failure_ServerErrorWithRetryAfterSeconds_IsRetryAfterThatDelay()
    {
        var outcome = ScimResponses.Failure(HttpMethod.Put, "/Users/1", HttpStatusCode.ServiceUnavailable, null, new RetryConditionHeaderValue(TimeSpan.FromSeconds(7)), Now);

        var retry = Assert.IsType<DeliveryOutcome.Retry>(outcome);
        Assert.Equal(503, retry.StatusCode);
        Assert.Equal(TimeSpan.FromSeconds(7), retry.RetryAfter);
    }

    [Fact]
    public void Failure_TooManyRequestsWithRetryAfterDate_IsRetryUntilThatDate()
    {
        var outcome = ScimResponses.Failure(HttpMethod.Post, "/Users", HttpStatusCode.TooManyRequests, null, new RetryConditionHeaderValue(Now.AddSeconds(30)), Now);

        Assert.Equal(TimeSpan.FromSeconds(30), Assert.IsType<DeliveryOutcome.Retry>(outcome).RetryAfter);
    }

    [Fact]
    public void Failure_BadRequestWithScimError_IsPermanentWithTheScimDetail()
    {
        const string body = """{"schemas":["urn:ietf:params:scim:api:messages:2.0:Error"],"status":"400","scimType":"invalidValue","detail":"emails[0].value is not an address"}""";

        var outcome = ScimResponses.Failure(HttpMethod.Post, "/Users", HttpStatusCode.BadRequest, body, null, Now);

        var permanent = Assert.IsType<DeliveryOutcome.Permanent>(outcome);
        Assert.Equal(400, permanent.StatusCode);
        Assert.Contains("invalidValue: emails[0].value is not an address", permanent.Error, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(HttpStatusCode.Unauthorized)]
    [InlineData(HttpStatusCode.Forbidden)]
    [InlineData(HttpStatusCode.NotFound)]
    public void Failure_OtherClientErrors_ArePermanent(HttpStatusCode status) =>
        Assert.IsType<DeliveryOutcome.Permanent>(ScimResponses.Failure(HttpMethod.Put, "/Users/1", status, "not json", null, Now));

    [Theory]
    [InlineData(HttpStatusCode.RequestTimeout)]
    [InlineData(HttpStatusCode.Conflict)]
    [InlineData(HttpStatusCode.InternalServerError)]
    [InlineData(HttpStatusCode.BadGateway)]
    public void Failure_TransientStatuses_AreRetried(HttpStatusCode status) =>
        Assert.IsType<DeliveryOutcome.Retry>(ScimResponses.Failure(HttpMethod.Put, "/Users/1", status, null, null, Now));

    [Fact]
    public void Unreachable_Timeout_IsRetrySayingItTimedOut() =>
        Assert.Contains("timed out", Assert.IsType<DeliveryOutcome.Retry>(ScimResponses.Unreachable(HttpMethod.Get, "/Users", new TaskCanceledException())).Error, StringComparison.Ordinal);

    [Fact]
    public void Parse_OAuthWithoutTokenEndpointAndClientId_NamesBothFields()
    {
        ScimSettings.Parse("""{"baseUrl":"https://app.example/scim/v2","authentication":"clientCredentials"}""", out var errors);

        Assert.Contains("tokenEndpoint", errors.Keys);
        Assert.Contains("clientId", errors.Keys);
    }

    [Fact]
    public void Parse_MissingBaseUrl_NamesTheField()
    {
        ScimSettings.Parse("{}", out var errors);

        Assert.Equal(["baseUrl"], errors.Keys);
    }
}
