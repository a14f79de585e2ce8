using System.Text.Json;
using System.Text.Json.Serialization;

namespace IdentityHub.Provisioning.Connectors.Rest;

/// <summary>How requests to the vendor are authenticated; the secret of each is the connector's write-only secret.</summary>
public enum RestAuthType
{
    None,

    /// <summary>Each request signed: an HMAC (or MD5) of a configured string-to-sign with the app secret.</summary>
    Hmac,

    /// <summary>OAuth 2.0 client credentials (RFC 6749 §4.4); the client secret is the connector's secret.</summary>
    Oauth2,

    /// <summary>A static bearer token (RFC 6750) in <c>Authorization</c>.</summary>
    Bearer,

    /// <summary>A static key in a header of the vendor's choosing.</summary>
    ApiKey,
}

public enum RestSignatureAlgorithm
{
    HmacSha256,
    HmacSha1,
    HmacMd5,

    /// <summary>Plain MD5 of the secret followed by the string-to-sign, for vendors that still ask for it.</summary>
    Md5,
}

public enum RestSignatureEncoding
{
    Hex,
    HexUpper,
    Base64,
}

/// <summary>The pieces a string-to-sign is made of, joined in the configured order with the configured separator.</summary>
public enum RestSignaturePart
{
    AppKey,
    Timestamp,
    Nonce,
    Method,
    PathAndQuery,
    Body,
}

public enum RestTimestampUnit
{
    Seconds,
    Milliseconds,
}

/// <summary>RFC 6749 §2.3.1: client id and secret in the form body, or as HTTP Basic.</summary>
public enum RestClientAuth
{
    Form,
    Basic,
}

/// <summary>Where a vendor's answer carries its outcome: the HTTP status, or a business code in the JSON body.</summary>
public enum RestCodeSource
{
    Status,
    Body,
}

public enum RestPaging
{
    /// <summary>One request returns everyone.</summary>
    None,

    /// <summary>Page numbers (<c>page.number</c>) until a page comes back short.</summary>
    Page,

    /// <summary>The answer names the next page's cursor (<c>page.cursor</c>) until it has none.</summary>
    Cursor,
}

/// <summary>What happens at the vendor to someone who must no longer be there (lost every right, or left the company).</summary>
public enum RestDeprovisioning
{
    Disable,
    Delete,
}

public sealed record RestAuth
{
    public RestAuthType Type { get; init; } = RestAuthType.None;

    /// <summary>HMAC: the vendor's App Key (public; the App Secret is the connector's secret).</summary>
    public string? AppKey { get; init; }

    public RestSignatureAlgorithm Algorithm { get; init; } = RestSignatureAlgorithm.HmacSha256;

    public RestSignatureEncoding Encoding { get; init; } = RestSignatureEncoding.Hex;

    public IReadOnlyList<RestSignaturePart> StringToSign { get; init; } =
        [RestSignaturePart.AppKey, RestSignaturePart.Timestamp, RestSignaturePart.Nonce, RestSignaturePart.Method, RestSignaturePart.PathAndQuery, RestSignaturePart.Body];

    public string Separator { get; init; } = "\n";

    public RestTimestampUnit TimestampUnit { get; init; } = RestTimestampUnit.Seconds;

    public string AppKeyHeader { get; init; } = "App-Key";

    public string TimestampHeader { get; init; } = "Timestamp";

    public string NonceHeader { get; init; } = "Nonce";

    public string SignatureHeader { get; init; } = "Signature";

    /// <summary>OAuth 2.0: the token endpoint.</summary>
    public Uri? TokenUrl { get; init; }

    public string? ClientId { get; init; }

    public string? Scope { get; init; }

    public RestClientAuth ClientAuth { get; init; } = RestClientAuth.Form;

    /// <summary>API key: the header that carries it (for example <c>X-Api-Key</c>).</summary>
    public string? HeaderName { get; init; }
}

/// <summary>One call: a method, a URL template (relative to <c>baseUrl</c> or absolute), an optional JSON body template and extra headers.</summary>
public record RestOperation
{
    public string? Method { get; init; }

    public string? Url { get; init; }

    public string? Body { get; init; }

    public IReadOnlyDictionary<string, string> Headers { get; init; } = new Dictionary<string, string>();
}

/// <summary>One field the drift check compares: a JSON path in a listed item, and a template of what IdentityHub expects there.</summary>
public sealed record RestCompareField
{
    public string? Path { get; init; }

    /// <summary>A Liquid template over the user that renders the expected value as JSON (for example <c>{{ user.roles | json }}</c>).</summary>
    public string? Expected { get; init; }
}

/// <summary>The list operation, read page by page by the drift check and the test connection.</summary>
public sealed record RestListOperation : RestOperation
{
    public RestPaging Paging { get; init; } = RestPaging.Page;

    public int PageSize { get; init; } = 100;

    /// <summary>The number of the first page (1 for most vendors, 0 for some).</summary>
    public int FirstPage { get; init; } = 1;

    /// <summary>JSON path of the array of users in an answer (for example <c>data.items</c>).</summary>
    public string? Items { get; init; }

    /// <summary>JSON path of the next page's cursor (cursor paging).</summary>
    public string? NextCursor { get; init; }

    /// <summary>JSON path, within one item, of the employee number: how the vendor's people are matched with ours.</summary>
    public string? EmployeeNumber { get; init; }

    /// <summary>JSON path, within one item, of the vendor's id for the user.</summary>
    public string? Id { get; init; }

    public IReadOnlyDictionary<string, RestCompareField> Compare { get; init; } = new Dictionary<string, RestCompareField>();
}

public sealed record RestOperations
{
    /// <summary>Create or replace a user (for vendors that PUT by employee number); also the update when <see cref="CreateUser"/> is set.</summary>
    public RestOperation? UpsertUser { get; init; }

    /// <summary>For vendors that POST new people and PUT known ones: used while the vendor's id for the user is not known.</summary>
    public RestOperation? CreateUser { get; init; }

    public RestOperation? DisableUser { get; init; }

    public RestOperation? DeleteUser { get; init; }

    public RestOperation? UpsertDepartment { get; init; }

    public RestOperation? DeleteDepartment { get; init; }

    public RestOperation? GetUser { get; init; }

    public RestListOperation? ListUsers { get; init; }
}

/// <summary>
/// How the vendor's answers read: where the code is, which codes mean what. Codes are compared as text; <c>2xx</c>
/// matches any status from 200 to 299. HTTP 408, 429 and 5xx are retried whatever this says; an unknown code is a
/// permanent refusal carrying the vendor's message.
/// </summary>
public sealed record RestResponseMapping
{
    public RestCodeSource CodeSource { get; init; } = RestCodeSource.Status;

    /// <summary>JSON path of the business code in the body (codeSource body), for example <c>code</c>.</summary>
    public string? CodePath { get; init; }

    public string? MessagePath { get; init; }

    /// <summary>JSON path of the vendor's id in a successful answer (users and departments), for example <c>data.id</c>.</summary>
    public string? VendorIdPath { get; init; }

    public IReadOnlyList<string> Success { get; init; } = ["2xx"];

    public IReadOnlyList<string> Retry { get; init; } = [];

    /// <summary>The vendor holds a newer version: the delivery is dropped and recorded, never retried.</summary>
    public IReadOnlyList<string> Stale { get; init; } = [];

    /// <summary>An update: forget the vendor's id and create; a removal: already gone.</summary>
    public IReadOnlyList<string> NotFound { get; init; } = ["404"];

    /// <summary>Refused for good: dead-lettered at once with the vendor's message (unknown codes are treated alike).</summary>
    public IReadOnlyList<string> Permanent { get; init; } = [];
}

/// <summary>
/// A REST connector's settings (the <c>Connector.Settings</c> JSON, camelCase, enums as camelCase strings; unknown
/// fields refused so a typo is a 400, not a silent default). Never a secret: the app secret, client secret or token
/// is <c>Connector.ProtectedSecret</c>.
/// </summary>
public sealed record RestConnectorSettings
{
    public static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web)
    {
        Converters = { new JsonStringEnumConverter(JsonNamingPolicy.CamelCase, allowIntegerValues: false) },
        UnmappedMemberHandling = JsonUnmappedMemberHandling.Disallow,
        WriteIndented = false,
    };

    public Uri? BaseUrl { get; init; }

    public RestAuth Auth { get; init; } = new();

    public RestOperations Operations { get; init; } = new();

    public RestResponseMapping Responses { get; init; } = new();

    /// <summary>Named maps for the <c>map</c> filter: <c>{{ user.roles | map: "approverLevel" }}</c>; the key <c>*</c> is the default.</summary>
    public IReadOnlyDictionary<string, IReadOnlyDictionary<string, JsonElement>> ValueMaps { get; init; } =
        new Dictionary<string, IReadOnlyDictionary<string, JsonElement>>();

    /// <summary>The header carrying the idempotency key derived from (connector, user, version); empty switches it off.</summary>
    public string? IdempotencyKeyHeader { get; init; } = "Idempotency-Key";

    public RestDeprovisioning Deprovisioning { get; init; } = RestDeprovisioning.Disable;

    public int TimeoutSeconds { get; init; } = 10;

    [JsonIgnore]
    public TimeSpan Timeout => TimeSpan.FromSeconds(TimeoutSeconds);
}
