using System.Globalization;
using System.Text.Json;
using System.Text.Json.Serialization;
using IdentityHub.Provisioning.Connectors.Rest;

namespace IdentityHub.Provisioning.Inbound.Rest;

/// <summary>How a source's list is read page after page.</summary>
public enum RestSourcePaging
{
    /// <summary>One request returns everything.</summary>
    None,

    /// <summary>Page numbers (<c>page</c>) until a page comes back empty or shorter than <c>pageSize</c>.</summary>
    Page,

    /// <summary>The answer names the next page (<c>nextPage</c>: a token passed as <c>pageToken</c>, or a URL) until it has none.</summary>
    Token,
}

/// <summary>
/// One list of a source (departments, people, deletions): a URL template (Liquid, with <c>cursor</c>, <c>page</c>,
/// <c>pageToken</c>, <c>pageSize</c>), where the items are in an answer (a JSON path), the paging, and per attribute a
/// Liquid template over <c>item</c>.
/// </summary>
public sealed record RestSourceList
{
    public string? Url { get; init; }

    /// <summary>JSON path of the array of items in an answer (for example <c>data.list</c>); empty: the answer is the array.</summary>
    public string? Items { get; init; }

    public RestSourcePaging Paging { get; init; } = RestSourcePaging.Page;

    public int PageSize { get; init; } = 100;

    /// <summary>The number of the first page (1 for most systems, 0 for some).</summary>
    public int FirstPage { get; init; } = 1;

    /// <summary>Token paging: JSON path of the next page's token or URL; missing, null or empty ends the list.</summary>
    public string? NextPage { get; init; }

    /// <summary>Attribute → Liquid template over <c>item</c> (for example <c>"displayName": "{{ item.name }}"</c>).</summary>
    public IReadOnlyDictionary<string, string> Fields { get; init; } = new Dictionary<string, string>();

    /// <summary>People and deletions: the item's cursor value (for example <c>{{ item.updatedAt }}</c>); the run keeps the largest.</summary>
    public string? Cursor { get; init; }
}

/// <summary>
/// A REST (pull) source's settings (the <c>InboundSource.Settings</c> JSON, camelCase; unknown fields refused): the base
/// URL, authentication as the REST connector's <c>auth</c> block, the departments, people and (optional) deletions lists,
/// the schedule and the safety limits. Never a secret: the HMAC secret, client secret or token is the source's secret.
/// </summary>
public sealed record RestSourceSettings
{
    public static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web)
    {
        Converters = { new JsonStringEnumConverter(JsonNamingPolicy.CamelCase, allowIntegerValues: false) },
        UnmappedMemberHandling = JsonUnmappedMemberHandling.Disallow,
    };

    /// <summary>The attributes a person's mapping may fill (the <see cref="Core.Inbound.SourcePerson"/> fields).</summary>
    public static readonly IReadOnlyList<string> PersonFields =
        ["externalId", "employeeNumber", "userName", "displayName", "email", "phoneNumber", "departmentRef", "managerRef", "active"];

    public static readonly IReadOnlyList<string> DepartmentFields = ["externalId", "name", "parentRef", "code"];

    public static readonly IReadOnlyList<string> DeletionFields = ["externalId", "employeeNumber"];

    public Uri? BaseUrl { get; init; }

    public RestAuth Auth { get; init; } = new();

    public RestSourceList? Departments { get; init; }

    public RestSourceList? People { get; init; }

    /// <summary>Optional: the people who left since the cursor (their external id or employee number).</summary>
    public RestSourceList? Deletions { get; init; }

    public int IntervalMinutes { get; init; } = 5;

    /// <summary>The UTC time of day of the nightly reconciliation, "HH:mm".</summary>
    public string ReconcileAt { get; init; } = "02:00";

    /// <summary>A list longer than this many pages stops the run (a paging loop never runs for ever).</summary>
    public int MaxPages { get; init; } = 1000;

    /// <summary>A list with more items than this stops the run.</summary>
    public int MaxItems { get; init; } = 200_000;

    public int TimeoutSeconds { get; init; } = 30;

    [JsonIgnore]
    public TimeSpan Timeout => TimeSpan.FromSeconds(TimeoutSeconds);

    /// <summary>The reconciliation's time of day; 02:00 when unreadable (the check refuses that at registration).</summary>
    [JsonIgnore]
    public TimeSpan ReconcileTime =>
        TimeSpan.TryParseExact(ReconcileAt, @"hh\:mm", CultureInfo.InvariantCulture, out var time) ? time : TimeSpan.FromHours(2);
}
