using System.Security.Claims;
using IdentityHub.Data.Keys;
using IdentityHub.Server.Oidc.Keys;
using Microsoft.AspNetCore.Http.HttpResults;
using OpenIddict.Abstractions;

namespace IdentityHub.Server.AdminApi;

/// <summary>A key as the admin API shows it: its life, never its material.</summary>
public sealed record KeyDto(
    string Kid, string Use, string Algorithm, DateTimeOffset CreatedAt, DateTimeOffset ActivatesAt,
    DateTimeOffset? RetiredAt, DateTimeOffset? RemovedAt, string State);

/// <summary>The answer to a rotation: the key that now signs, the one it replaced, every key, and any caveat.</summary>
public sealed record KeyRotationDto(KeyDto Activated, KeyDto? Retired, IReadOnlyList<KeyDto> Keys, string? Warning);

/// <summary>
/// The answer to a rotation a live node did not confirm in time: the next key, published but not signing yet, when it
/// starts signing, which nodes did not publish it, every key, and the same in a sentence.
/// </summary>
public sealed record KeyRotationPendingDto(
    KeyDto Next, DateTimeOffset SignsFrom, IReadOnlyList<string> LaggingNodes, IReadOnlyList<KeyDto> Keys, string Message);

/// <summary>Signing and encryption keys: list them, and rotate now (the schedule rotates them anyway).</summary>
public static class KeysApi
{
    public static void MapKeysApi(this IEndpointRouteBuilder api)
    {
        var keys = api.MapGroup("/keys");
        keys.MapGet("/", ListAsync).WithSummary("List the signing and encryption keys");
        keys.MapPost("/rotate", RotateAsync).RequireAuthorization(AdminApiPolicies.Security).WithSummary("Rotate the signing key");
    }

    private static async Task<Ok<IReadOnlyList<KeyDto>>> ListAsync(
        SigningKeyStore store, KeyRotationService rotation, TimeProvider clock, CancellationToken cancellationToken) =>
        TypedResults.Ok<IReadOnlyList<KeyDto>>(ToDtos(await store.ListAsync(cancellationToken), clock.GetUtcNow(), rotation.RetainAfterRetirement));

    /// <summary>
    /// Rotation by hand, never signing with a key another node does not publish: the next key (created now if none is
    /// published) is activated once every live node publishes it, and the active one retired (it stays published until
    /// its tokens expire): 200. If a live node does not confirm within <c>Oidc:Keys:RotationWait</c>, the key stays
    /// published and signs at a safe time later: 202 with when and which nodes lagged. A key published only now may be
    /// unknown to relying parties that cache the JWKS: they refetch it on an unknown kid, or reject its tokens until
    /// their cache expires; the response warns when that can happen. The audit events are written in the rotation's own
    /// transactions (<see cref="SigningKeyStore"/>).
    /// </summary>
    private static async Task<Results<Ok<KeyRotationDto>, Accepted<KeyRotationPendingDto>, ProblemHttpResult>> RotateAsync(
        string? use, ClaimsPrincipal user, KeyRotationService rotation, KeySettings settings, TimeProvider clock,
        ILoggerFactory loggers, CancellationToken cancellationToken)
    {
        use ??= KeyUses.Signing;
        if (use is not (KeyUses.Signing or KeyUses.Encryption))
        {
            return TypedResults.Problem(
                statusCode: StatusCodes.Status400BadRequest,
                title: "Invalid key use",
                detail: $"use must be '{KeyUses.Signing}' or '{KeyUses.Encryption}'.",
                extensions: new Dictionary<string, object?> { ["errors"] = new Dictionary<string, string[]> { ["use"] = ["Must be 'sig' or 'enc'."] } });
        }

        var outcome = await rotation.RotateNowAsync(use, cancellationToken);
        var logger = loggers.CreateLogger(typeof(KeysApi));
        var now = clock.GetUtcNow();
        var dtos = ToDtos(outcome.Keys, now, outcome.RetainAfterRetirement);
        if (outcome.Pending is { } pending)
        {
            logger.LogWarning(
                "Audit: {Actor} ({AuthenticationType}) asked to rotate the {Use} key: {NewKeyId} is published and signs from {ActivatesAt:O}; not confirmed by {Nodes}",
                ActorOf(user), user.Identity?.AuthenticationType, use, pending.Key.Id, pending.ActivatesAt, string.Join(", ", pending.LaggingNodes));
            return TypedResults.Accepted((string?)null, new KeyRotationPendingDto(
                dtos.Single(k => k.Kid == pending.Key.Id),
                pending.ActivatesAt,
                pending.LaggingNodes,
                dtos,
                $"Not every node published the new key within {settings.RotationWait:g} ({string.Join(", ", pending.LaggingNodes)} did not confirm), so it does not sign yet: it is published and starts signing at {pending.ActivatesAt:O}, when every node's periodic check has loaded it."));
        }

        var activated = outcome.Activated!;
        var publishedFor = now - activated.CreatedAt;
        var warning = use == KeyUses.Signing && publishedFor < settings.PublishAhead
            ? $"The new key was published only {publishedFor:g} before it started signing (the schedule publishes {settings.PublishAhead:g} ahead); relying parties that cache the JWKS may reject its tokens until they refetch it."
            : null;

        logger.LogWarning(
            "Audit: {Actor} ({AuthenticationType}) rotated the {Use} key: {NewKeyId} now active, {OldKeyId} retired",
            ActorOf(user), user.Identity?.AuthenticationType, use, activated.Id, outcome.Retired?.Id);

        return TypedResults.Ok(new KeyRotationDto(
            dtos.Single(k => k.Kid == activated.Id),
            outcome.Retired is null ? null : dtos.Single(k => k.Kid == outcome.Retired.Id),
            dtos,
            warning));
    }

    private static string ActorOf(ClaimsPrincipal user) =>
        user.FindFirst(OpenIddictConstants.Claims.Subject)?.Value
        ?? user.FindFirst(ClaimTypes.NameIdentifier)?.Value
        ?? user.Identity?.Name
        ?? "unknown";

    private static List<KeyDto> ToDtos(IReadOnlyList<SigningKey> keys, DateTimeOffset now, TimeSpan retain) =>
        keys.GroupBy(k => k.Use)
            .SelectMany(group =>
            {
                var states = KeyLifecycle.StatesAt(group.ToList(), now, retain);
                return group.Select(k => new KeyDto(
                    k.Id, k.Use, k.Algorithm, k.CreatedAt, k.ActivatesAt, k.RetiredAt, k.RemovedAt,
                    states[k.Id].ToString().ToLowerInvariant()));
            })
            .ToList();
}
