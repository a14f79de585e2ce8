using System.Globalization;
using System.Net;
using System.Text;
using IdentityHub.Provisioning.Connectors.Webhooks;
using IdentityHub.Testing;

namespace IdentityHub.Server.IntegrationTests.Provisioning;

/// <summary>
/// The test receiver (tests/interop/webhook-receiver.mjs, verifying with the `standardwebhooks` package) refuses what a
/// Standard Webhooks receiver must refuse, so the provisioning tests' "no bad signature" checks can fail: a message
/// signed with another secret or altered after signing is answered 401 and never recorded.
/// </summary>
[Requires(Prerequisite.Node)]
public sealed class WebhookReceiverTests
{
    private const string Body = """{"type":"user.created","timestamp":"2026-12-04T12:00:00Z","data":{"userId":"u-signed","version":1}}""";

    [PrerequisiteFact]
    public async Task Receive_SignedWithTheSharedSecret_IsAcceptedAndRecorded()
    {
        var secret = WebhookSignature.NewSecret();
        await using var receiver = await WebhookReceiver.StartAsync(secret);

        using var answer = await SendAsync(receiver, secret, tamper: null);

        Assert.Equal(HttpStatusCode.OK, answer.StatusCode);
        var state = await receiver.StateAsync();
        Assert.Equal(1, state.GetProperty("accepted").GetInt32());
        Assert.True(ProvisioningDriver.HasUser(state, "u-signed"), WebhookReceiver.Summary(state));
    }

    [PrerequisiteTheory]
    [InlineData("another secret")]
    [InlineData("body changed after signing")]
    [InlineData("webhook-id changed after signing")]
    [InlineData("webhook-timestamp changed after signing")]
    [InlineData("signed ten minutes ago")]
    [InlineData("no signature")]
    public async Task Receive_BadSignature_IsRefusedAndNotRecorded(string tamper)
    {
        var secret = WebhookSignature.NewSecret();
        await using var receiver = await WebhookReceiver.StartAsync(secret);

        using var answer = await SendAsync(receiver, secret, tamper);

        Assert.Equal(HttpStatusCode.Unauthorized, answer.StatusCode);
        var state = await receiver.StateAsync();
        Assert.Equal(1, state.GetProperty("badSignatures").GetInt32());
        Assert.Equal(0, state.GetProperty("accepted").GetInt32());
        Assert.Empty(state.GetProperty("users").EnumerateObject());
        Assert.Empty(state.GetProperty("messages").EnumerateArray());
    }

    /// <summary>One message signed per the Standard Webhooks scheme (IdentityHub's own signer), then spoilt as <paramref name="tamper"/> says.</summary>
    private static async Task<HttpResponseMessage> SendAsync(WebhookReceiver receiver, string secret, string? tamper)
    {
        var id = "msg_" + Guid.NewGuid().ToString("N");
        var timestamp = DateTimeOffset.UtcNow.ToUnixTimeSeconds() - (tamper == "signed ten minutes ago" ? 600 : 0);
        var signature = WebhookSignature.Sign(tamper == "another secret" ? WebhookSignature.NewSecret() : secret, id, timestamp, Body);
        var body = tamper == "body changed after signing" ? Body.Replace("u-signed", "u-forged", StringComparison.Ordinal) : Body;
        using var request = new HttpRequestMessage(HttpMethod.Post, receiver.HooksUrl) { Content = new StringContent(body, Encoding.UTF8, "application/json") };
        request.Headers.Add("webhook-id", tamper == "webhook-id changed after signing" ? id + "x" : id);
        request.Headers.Add("webhook-timestamp", (tamper == "webhook-timestamp changed after signing" ? timestamp + 1 : timestamp).ToString(CultureInfo.InvariantCulture));
        if (tamper != "no signature")
        {
            request.Headers.Add("webhook-signature", signature);
        }

        using var http = new HttpClient();
        return await http.SendAsync(request);
    }
}
