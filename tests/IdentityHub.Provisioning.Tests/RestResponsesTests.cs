using System.Net.Http.Headers;
using IdentityHub.Provisioning.Connectors.Rest;

namespace IdentityHub.Provisioning.Tests;

/// <summary>How a vendor's answer is read through the response mapping: statuses, business codes in a 200 body, the overrides.</summary>
public sealed class RestResponsesTests
{
    private static readonly DateTimeOffset Now = new(2026, 12, 6, 12, 0, 0, TimeSpan.Zero);

    private static readonly RestResponseMapping Envelope = new()
    {
        CodeSource = RestCodeSource.Body, CodePath = "code", MessagePath = "message", VendorIdPath = "data.id",
        Success = ["0"], Retry = ["50001"], Stale = ["40901"], NotFound = ["40400"], Permanent = ["40301"],
    };

    [Theory]
    [InlineData(200, """{"code":0,"message":"ok","data":{"id":"E7"}}""", RestVerdictKind.Success, "0")]
    [InlineData(200, """{"code":50001,"message":"busy"}""", RestVerdictKind.Retry, "50001")]
    [InlineData(200, """{"code":40901,"message":"stale"}""", RestVerdictKind.Stale, "40901")]
    [InlineData(200, """{"code":40400,"message":"gone"}""", RestVerdictKind.NotFound, "40400")]
    [InlineData(200, """{"code":40301,"message":"ip"}""", RestVerdictKind.Permanent, "40301")]
    [InlineData(200, """{"code":12345,"message":"what"}""", RestVerdictKind.Permanent, "12345")]
    [InlineData(400, """{"code":0,"message":"ok"}""", RestVerdictKind.Permanent, "0")]
    [InlineData(500, """{"code":0,"message":"ok"}""", RestVerdictKind.Retry, null)]
    [InlineData(429, "", RestVerdictKind.Retry, null)]
    [InlineData(408, "", RestVerdictKind.Retry, null)]
    [InlineData(302, "", RestVerdictKind.Permanent, null)]
    [InlineData(204, "", RestVerdictKind.Success, null)]
    [InlineData(404, "<html>not found</html>", RestVerdictKind.Permanent, "404")]
    public void Classify_BodyCodes_MapsAsConfiguredWithTheHttpOverrides(int status, string body, RestVerdictKind kind, string? code)
    {
        var verdict = RestResponses.Classify(Envelope, status, body, null, Now);

        Assert.Equal(kind, verdict.Kind);
        Assert.Equal(code, verdict.Code);
    }

    [Theory]
    [InlineData(201, RestVerdictKind.Success)]
    [InlineData(299, RestVerdictKind.Success)]
    [InlineData(404, RestVerdictKind.NotFound)]
    [InlineData(409, RestVerdictKind.Stale)]
    [InlineData(422, RestVerdictKind.Permanent)]
    [InlineData(503, RestVerdictKind.Retry)]
    public void Classify_StatusCodes_2xxPatternAndLists(int status, RestVerdictKind kind)
    {
        var mapping = new RestResponseMapping { Success = ["2xx"], Stale = ["409"], NotFound = ["404"] };

        Assert.Equal(kind, RestResponses.Classify(mapping, status, "{}", null, Now).Kind);
    }

    [Fact]
    public void Classify_SuccessWithVendorId_KeepsTheIdAndTheMessage()
    {
        var verdict = RestResponses.Classify(Envelope, 200, """{"code":0,"message":"ok","data":{"id":"E7"}}""", null, Now);

        Assert.Equal("E7", verdict.VendorId);
        Assert.Equal("ok", verdict.Message);
    }

    [Fact]
    public void Classify_429WithAnHttpDate_RetriesAfterThatDate()
    {
        var verdict = RestResponses.Classify(Envelope, 429, "", new RetryConditionHeaderValue(Now.AddSeconds(30)), Now);

        Assert.Equal(TimeSpan.FromSeconds(30), verdict.RetryAfter);
    }

    [Fact]
    public void Classify_429WithSeconds_RetriesAfterThem()
    {
        var verdict = RestResponses.Classify(Envelope, 429, "", new RetryConditionHeaderValue(TimeSpan.FromSeconds(7)), Now);

        Assert.Equal(TimeSpan.FromSeconds(7), verdict.RetryAfter);
    }
}
