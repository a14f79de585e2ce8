using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;
using IdentityHub.Data.Provisioning;
using IdentityHub.Provisioning.State;

namespace IdentityHub.Provisioning.Connectors.Webhooks;

/// <summary>The JSON body of a webhook: Standard Webhooks' recommended envelope (type, timestamp, data).</summary>
public sealed record WebhookMessage(string Type, DateTimeOffset Timestamp, WebhookUser Data);

public sealed record WebhookDepartment(string? Code, string? Name);

public sealed record WebhookManager(string? UserId, string? EmployeeNumber);

public sealed record WebhookPermission(string Name, IReadOnlyDictionary<string, string> Parameters, WebhookDepartment? Scope);

/// <summary>
/// The user's whole state for the application, with the version a receiver compares to drop stale ones. For
/// <c>user.deleted</c> only the identifiers (user id, user name, employee number), with <c>exists</c> false.
/// </summary>
public sealed record WebhookUser(
    string UserId, long Version, bool Exists, bool Active, string UserName, string? DisplayName, string? Email, string? PhoneNumber,
    string? EmployeeNumber, WebhookDepartment? Department, WebhookManager? Manager, IReadOnlyList<string> Roles, IReadOnlyList<WebhookPermission> Permissions);

/// <summary>
/// Signed webhooks per the Standard Webhooks spec: one POST per delivery carrying the user's full state and version;
/// events <c>user.created</c>, <c>user.updated</c>, <c>user.disabled</c>, <c>user.deleted</c>, <c>access.changed</c>
/// (see <see cref="ProvisioningEvents"/>). A user outside the application's scope whom the receiver does not know is never sent.
/// </summary>
public sealed class WebhookConnector(IHttpClientFactory httpClients, TimeProvider clock) : IConnectorClient
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web) { DefaultIgnoreCondition = JsonIgnoreCondition.Never };

    public ConnectorKind Kind => ConnectorKind.Webhook;

    public async Task<DeliveryOutcome> DeliverAsync(Connector connector, string? secret, ProvisionedUser state, ConnectorUserState known, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(connector);
        ArgumentNullException.ThrowIfNull(state);
        ArgumentNullException.ThrowIfNull(known);
        if (string.IsNullOrEmpty(secret))
        {
            return new DeliveryOutcome.Permanent("The webhook connector has no signing secret.");
        }

        if (!WebhookSettings.TryParse(connector.Settings, out var settings, out var errors))
        {
            return new DeliveryOutcome.Permanent(string.Join(" ", errors.SelectMany(e => e.Value)));
        }

        var type = ProvisioningEvents.Of(known);
        if (type == ProvisioningEvents.None)
        {
            return new DeliveryOutcome.NothingToSend("The receiver does not know this user and, outside the application's scope, should not: no event.");
        }

        var now = clock.GetUtcNow();
        var body = JsonSerializer.Serialize(new WebhookMessage(type, now, type == ProvisioningEvents.UserDeleted ? Departed(state) : ToPayload(state)), Json);
        var messageId = MessageId(connector.Id, state.UserId, state.Version);
        var timestamp = now.ToUnixTimeSeconds();
        using var request = new HttpRequestMessage(HttpMethod.Post, settings!.Url)
        {
            Content = new StringContent(body, Encoding.UTF8, "application/json"),
        };
        // Standard Webhooks "Signature scheme": webhook-id, webhook-timestamp (unix seconds), webhook-signature.
        request.Headers.Add("webhook-id", messageId);
        request.Headers.Add("webhook-timestamp", timestamp.ToString(CultureInfo.InvariantCulture));
        request.Headers.Add("webhook-signature", WebhookSignature.Sign(secret, messageId, timestamp, body));

        using var response = await httpClients.CreateClient(ProvisioningHttp.ClientName).SendAsync(request, HttpCompletionOption.ResponseHeadersRead, cancellationToken);
        return Outcome(response, now);
    }

    /// <summary>
    /// Unique per message and the same when that message is sent again (a retry of the same state keeps its version),
    /// so receivers can drop duplicates by id as the spec suggests.
    /// </summary>
    public static string MessageId(Guid connectorId, string userId, long version)
    {
        var hash = SHA256.HashData(Encoding.UTF8.GetBytes($"{connectorId:N}\n{userId}\n{version.ToString(CultureInfo.InvariantCulture)}"));
        return "msg_" + Convert.ToHexStringLower(hash.AsSpan(0, 16));
    }

    internal static DeliveryOutcome Outcome(HttpResponseMessage response, DateTimeOffset now)
    {
        var status = (int)response.StatusCode;
        if (response.IsSuccessStatusCode)
        {
            return new DeliveryOutcome.Delivered(null);
        }

        // RFC 9110 §10.2.3 Retry-After: seconds or an HTTP date; honoured on 429 and 503 (and any other retryable answer).
        var retryAfter = response.Headers.RetryAfter is { } header
            ? header.Delta ?? (header.Date is { } date ? date - now : null)
            : null;
        return response.StatusCode switch
        {
            HttpStatusCode.RequestTimeout or HttpStatusCode.Conflict or (HttpStatusCode)425 or HttpStatusCode.TooManyRequests
                or >= HttpStatusCode.InternalServerError => new DeliveryOutcome.Retry($"The receiver answered {status} {response.ReasonPhrase}.", status, retryAfter),
            >= HttpStatusCode.MultipleChoices and < HttpStatusCode.BadRequest =>
                new DeliveryOutcome.Permanent($"The receiver answered {status} (a redirect, not followed): set the connector's URL to the final address.", status),
            _ => new DeliveryOutcome.Permanent($"The receiver refused the message with {status} {response.ReasonPhrase}.", status),
        };
    }

    /// <summary>Whoever left the receiver's scope keeps no profile there: only what identifies them.</summary>
    private static WebhookUser Departed(ProvisionedUser state) => new(
        state.UserId, state.Version, Exists: false, Active: false, state.UserName, DisplayName: null, Email: null, PhoneNumber: null, state.EmployeeNumber,
        Department: null, Manager: null, Roles: [], Permissions: []);

    private static WebhookUser ToPayload(ProvisionedUser state) => new(
        state.UserId, state.Version, state.Exists, state.Active, state.UserName, state.DisplayName, state.Email, state.PhoneNumber, state.EmployeeNumber,
        state.DepartmentCode is null && state.DepartmentName is null ? null : new WebhookDepartment(state.DepartmentCode, state.DepartmentName),
        state.ManagerUserId is null ? null : new WebhookManager(state.ManagerUserId, state.ManagerEmployeeNumber),
        state.Roles,
        [.. state.Permissions.Select(p => new WebhookPermission(p.Name, p.Parameters,
            p.DepartmentCode is null && p.DepartmentName is null ? null : new WebhookDepartment(p.DepartmentCode, p.DepartmentName)))]);
}
