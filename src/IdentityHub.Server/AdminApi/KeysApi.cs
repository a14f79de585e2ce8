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
    /// Makes the next key active now and retires the active one (which stays published until its tokens
    /// expire). Other nodes switch within <c>Oidc:Keys:CheckInterval</c>. A key created or published only
    /// now may be unknown to relying parties that cache the JWKS: they refetch it on an unknown kid, or
    /// reject its tokens until their cache expires; the response warns when that can happen. The audit event
    /// is written in the rotation's own transaction (<see cref="SigningKeyStore.RotateNowAsync"/>).
    /// </summary>
    private static async Task<Results<Ok<KeyRotationDto>, ProblemHttpResult>> RotateAsync(
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

        var now = clock.GetUtcNow();
        var outcome = await rotation.RotateNowAsync(use, cancellationToken);
        var publishedFor = now - outcome.Activated.CreatedAt;
        var warning = use == KeyUses.Signing && publishedFor < settings.PublishAhead
            ? $"The new key was published only {publishedFor:g} before it started signing (the schedule publishes {settings.PublishAhead:g} ahead); relying parties that cache the JWKS may reject its tokens until they refetch it."
            : null;

        loggers.CreateLogger(typeof(KeysApi)).LogWarning(
            "Audit: {Actor} ({AuthenticationType}) rotated the {Use} key: {NewKeyId} now active, {OldKeyId} retired",
            ActorOf(user), user.Identity?.AuthenticationType, use, outcome.Activated.Id, outcome.Retired?.Id);

        var dtos = ToDtos(outcome.Keys, clock.GetUtcNow(), outcome.RetainAfterRetirement);
        return TypedResults.Ok(new KeyRotationDto(
            dtos.Single(k => k.Kid == outcome.Activated.Id),
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
