using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.AspNetCore.Http.Features;

namespace IdentityHub.Server.Scim;

/// <summary>A list request's parameters (RFC 7644 §3.4.2): filter, sorting, paging and attribute selection.</summary>
public sealed record ScimListRequest(
    string? Filter, string? SortBy, bool Descending, int StartIndex, int Count, IReadOnlyList<string> Attributes, IReadOnlyList<string> ExcludedAttributes);

/// <summary>Reading SCIM requests safely: bounded bodies, JSON syntax, list parameters and preconditions.</summary>
public static class ScimRequests
{
    /// <summary>The largest body accepted (advertised as bulk's maxPayloadSize would be): a user or a department is a few kilobytes.</summary>
    public const int MaxPayload = 1024 * 1024;

    public const int DefaultCount = 100;

    public const int MaxCount = 500;

    /// <summary>
    /// The body as a JSON object. A body declared larger than <see cref="MaxPayload"/> is refused before a byte is read;
    /// an undeclared one is read only up to the limit.
    /// </summary>
    public static async Task<JsonObject> ReadBodyAsync(HttpContext http)
    {
        ArgumentNullException.ThrowIfNull(http);
        if (http.Request.ContentLength > MaxPayload)
        {
            throw ScimException.TooLarge(MaxPayload);
        }

        if (http.Features.Get<IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } limit)
        {
            limit.MaxRequestBodySize = MaxPayload;
        }

        using var buffer = new MemoryStream();
        var chunk = new byte[16 * 1024];
        try
        {
            int read;
            while ((read = await http.Request.Body.ReadAsync(chunk, http.RequestAborted)) > 0)
            {
                if (buffer.Length + read > MaxPayload)
                {
                    throw ScimException.TooLarge(MaxPayload);
                }

                buffer.Write(chunk, 0, read);
            }
        }
        catch (BadHttpRequestException error) when (error.StatusCode == StatusCodes.Status413PayloadTooLarge)
        {
            throw ScimException.TooLarge(MaxPayload);
        }

        try
        {
            var node = JsonNode.Parse(buffer.ToArray(), documentOptions: new JsonDocumentOptions { MaxDepth = 32 });
            if (node is not JsonObject body)
            {
                throw ScimException.InvalidSyntax("The body must be a JSON object.");
            }

            // Materializes every property now, so a duplicate name fails here as bad syntax rather than later.
            _ = body.Count;
            return body;
        }
        catch (JsonException error)
        {
            throw ScimException.InvalidSyntax($"The body is not valid JSON: {error.Message}");
        }
        catch (ArgumentException error)
        {
            throw ScimException.InvalidSyntax($"The body is not valid SCIM JSON: {error.Message}");
        }
    }

    /// <summary>The base of this server's SCIM URLs, for <c>meta.location</c> and <c>Location</c>.</summary>
    public static string BaseUrl(HttpContext http)
    {
        ArgumentNullException.ThrowIfNull(http);
        return $"{http.Request.Scheme}://{http.Request.Host}{http.Request.PathBase}{ScimSetup.BasePath}";
    }

    /// <summary>RFC 7644 §3.14 / RFC 9110 §13.1.1: If-Match names the version the client read (weak or strong); another is 412.</summary>
    public static void CheckIfMatch(HttpContext http, DateTimeOffset updatedAt)
    {
        ArgumentNullException.ThrowIfNull(http);
        var header = http.Request.Headers.IfMatch.ToString().Trim();
        if (header.Length == 0 || header == "*")
        {
            return;
        }

        if (!Matches(header, updatedAt))
        {
            throw ScimException.PreconditionFailed();
        }
    }

    /// <summary>If-None-Match on a GET: true when the client already has this version (answer 304).</summary>
    public static bool NotModified(HttpContext http, DateTimeOffset updatedAt)
    {
        ArgumentNullException.ThrowIfNull(http);
        var header = http.Request.Headers.IfNoneMatch.ToString().Trim();
        return header.Length > 0 && (header == "*" || Matches(header, updatedAt));
    }

    private static bool Matches(string header, DateTimeOffset updatedAt)
    {
        var strong = Core.Revision.ETag(updatedAt);
        return header.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries)
            .Any(tag => tag == strong || tag == "W/" + strong);
    }

    public static ScimListRequest ListOf(HttpContext http)
    {
        ArgumentNullException.ThrowIfNull(http);
        var query = http.Request.Query;
        return new ScimListRequest(
            query["filter"].FirstOrDefault(),
            query["sortBy"].FirstOrDefault(),
            SortDescending(query["sortOrder"].FirstOrDefault()),
            Number(query["startIndex"].FirstOrDefault(), "startIndex", 1),
            Number(query["count"].FirstOrDefault(), "count", DefaultCount),
            Names(query["attributes"].FirstOrDefault()),
            Names(query["excludedAttributes"].FirstOrDefault()));
    }

    /// <summary>RFC 7644 §3.4.3: the same parameters as a SearchRequest body (POST /.search).</summary>
    public static ScimListRequest ListOf(JsonObject search)
    {
        ArgumentNullException.ThrowIfNull(search);
        ScimJson.RequireSchemas(search, [ScimSchemas.SearchRequest], ScimSchemas.SearchRequest);
        static IReadOnlyList<string> List(JsonObject body, string name) =>
            ScimJson.Array(body, name)?.Select(n => n is JsonValue v && v.TryGetValue<string>(out var s) ? s : throw ScimException.InvalidValue($"'{name}' holds attribute names.")).ToList() ?? [];
        int Int(string name, int fallback) => ScimJson.Get(search, name) switch
        {
            null => fallback,
            JsonValue v when v.TryGetValue<int>(out var n) => Clamp(n, name, fallback),
            _ => throw ScimException.InvalidValue($"'{name}' must be an integer."),
        };
        return new ScimListRequest(
            ScimJson.Text(search, "filter"), ScimJson.Text(search, "sortBy"), SortDescending(ScimJson.Text(search, "sortOrder")),
            Int("startIndex", 1), Int("count", DefaultCount), List(search, "attributes"), List(search, "excludedAttributes"));
    }

    /// <summary>RFC 7644 §3.4.2: attributes names what to return (id and schemas always); excludedAttributes what to leave out.</summary>
    public static JsonObject Project(JsonObject resource, ScimListRequest list)
    {
        ArgumentNullException.ThrowIfNull(resource);
        ArgumentNullException.ThrowIfNull(list);
        if (list.Attributes.Count > 0)
        {
            var kept = list.Attributes.Select(a => a.Split('.')[0]).Concat(["id", "schemas", "meta"]).ToHashSet(StringComparer.OrdinalIgnoreCase);
            foreach (var key in resource.Select(p => p.Key).Where(k => !kept.Contains(k) && !list.Attributes.Any(a => a.StartsWith(k + ":", StringComparison.OrdinalIgnoreCase))).ToList())
            {
                resource.Remove(key);
            }
        }

        foreach (var excluded in list.ExcludedAttributes)
        {
            if (ScimJson.KeyOf(resource, excluded) is { } key && key is not ("id" or "schemas"))
            {
                resource.Remove(key);
            }
        }

        return resource;
    }

    public static JsonObject ListResponse(int total, int startIndex, IEnumerable<JsonObject> resources)
    {
        var list = new JsonArray([.. resources]);
        return new JsonObject
        {
            ["schemas"] = new JsonArray(ScimSchemas.ListResponse),
            ["totalResults"] = total,
            ["startIndex"] = startIndex,
            ["itemsPerPage"] = list.Count,
            ["Resources"] = list,
        };
    }

    private static bool SortDescending(string? order) => order?.ToLowerInvariant() switch
    {
        null or "ascending" => false,
        "descending" => true,
        _ => throw ScimException.InvalidValue("sortOrder is \"ascending\" or \"descending\"."),
    };

    private static int Number(string? text, string name, int fallback)
    {
        if (text is null)
        {
            return fallback;
        }

        return int.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out var value)
            ? Clamp(value, name, fallback)
            : throw ScimException.InvalidValue($"'{name}' must be an integer.");
    }

    /// <summary>RFC 7644 §3.4.2.4: a startIndex below 1 means 1; a negative count means 0; count is capped at <see cref="MaxCount"/>.</summary>
    private static int Clamp(int value, string name, int fallback) => name switch
    {
        "startIndex" => Math.Max(1, value),
        "count" => Math.Clamp(value, 0, MaxCount),
        _ => fallback,
    };

    private static List<string> Names(string? text) =>
        text is null ? [] : [.. text.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries)];
}
