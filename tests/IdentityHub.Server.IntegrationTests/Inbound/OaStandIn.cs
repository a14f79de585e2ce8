using System.Collections.Concurrent;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace IdentityHub.Server.IntegrationTests.Inbound;

/// <summary>
/// An OA-like system on real Kestrel (127.0.0.1, a free port) for the REST source to read: a department list, a paged people
/// list filtered by <c>updatedSince</c> (oldest change first), a paged list of the people who left since a time. Every request
/// must carry the OA's HMAC signature (App-Key, Timestamp, Nonce, Signature over appKey, timestamp, nonce, method, path and
/// query, body) or it is answered 401. <see cref="FailPage"/> makes one page of a list answer 500.
/// </summary>
public sealed class OaStandIn : IAsyncDisposable
{
    public const string AppKey = "oa-app-key";
    public const string AppSecret = "oa-app-secret-never-logged";
    public const int PageSize = 2;

    private readonly Lock _gate = new();
    private readonly List<Dictionary<string, object?>> _departments = [];
    private readonly Dictionary<string, Dictionary<string, object?>> _people = new(StringComparer.Ordinal);
    private readonly List<(string Id, string EmployeeNumber, string At)> _leavers = [];
    private readonly ConcurrentDictionary<(string List, int Page), int> _failing = new();
    private readonly ConcurrentQueue<string> _requests = new();
    private WebApplication? _app;
    private int _tick;

    public Uri BaseUrl { get; private set; } = new("http://127.0.0.1:9/");

    /// <summary>Requests answered, as "list page" or "401 path", oldest first.</summary>
    public IReadOnlyList<string> Requests => [.. _requests];

    public static async Task<OaStandIn> StartAsync()
    {
        var oa = new OaStandIn();
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseKestrel().UseUrls("http://127.0.0.1:0");
        builder.Logging.ClearProviders();
        oa._app = builder.Build();
        oa._app.Use(async (context, next) =>
        {
            if (!SignedCorrectly(context))
            {
                oa._requests.Enqueue("401 " + context.Request.Path);
                context.Response.StatusCode = 401;
                await context.Response.WriteAsync("{\"code\":401,\"message\":\"bad signature\"}");
                return;
            }

            await next(context);
        });
        oa._app.MapGet("/api/departments", (int page, int size) => oa.Page("departments", page, size, () => oa.Snapshot(oa._departments)));
        oa._app.MapGet("/api/people", (string? updatedSince, int page, int size) => oa.Page("people", page, size, () => oa.Snapshot(
            oa._people.Values.Where(p => string.IsNullOrEmpty(updatedSince) || string.CompareOrdinal((string)p["updatedAt"]!, updatedSince) > 0)
                .OrderBy(p => (string)p["updatedAt"]!, StringComparer.Ordinal))));
        oa._app.MapGet("/api/people-by-token", (string? updatedSince, string? pageToken, int size) =>
        {
            // Token paging: the token is an opaque "next" the answer names; none on the last page.
            var offset = string.IsNullOrEmpty(pageToken) ? 0 : int.Parse(pageToken.TrimStart('t'), CultureInfo.InvariantCulture);
            oa._requests.Enqueue($"people-by-token {offset / size + 1}");
            var items = oa.Snapshot(oa._people.Values.Where(p => string.IsNullOrEmpty(updatedSince) || string.CompareOrdinal((string)p["updatedAt"]!, updatedSince) > 0)
                .OrderBy(p => (string)p["updatedAt"]!, StringComparer.Ordinal));
            var next = offset + size < items.Count ? $"t{offset + size}" : null;
            return Results.Json(new { code = 0, data = new { list = items.Skip(offset).Take(size).ToList(), next } });
        });
        oa._app.MapGet("/api/leavers", (string? since, int page, int size) => oa.Page("leavers", page, size, () =>
        {
            lock (oa._gate)
            {
                return [.. oa._leavers.Where(l => string.IsNullOrEmpty(since) || string.CompareOrdinal(l.At, since) > 0)
                    .Select(l => (object)new Dictionary<string, object?> { ["id"] = l.Id, ["employeeNo"] = l.EmployeeNumber, ["leftAt"] = l.At })];
            }
        }));
        await oa._app.StartAsync();
        var address = oa._app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        oa.BaseUrl = new Uri(address.TrimEnd('/') + "/api/");
        return oa;
    }

    /// <summary>The REST source settings that read this OA (departments, people since the cursor, leavers), signed with HMAC.</summary>
    public string Settings(int pageSize = PageSize, bool tokenPaging = false) => $$$"""
        {
          "baseUrl": "{{{BaseUrl}}}",
          "auth": { "type": "hmac", "appKey": "{{{AppKey}}}" },
          "departments": {
            "url": "departments?page={{ page }}&size={{ pageSize }}", "items": "data.list", "pageSize": {{{pageSize}}},
            "fields": { "externalId": "{{ item.deptId }}", "name": "{{ item.name }}", "parentRef": "{{ item.parentId }}", "code": "{{ item.code }}" }
          },
          "people": {
            {{{(tokenPaging
                ? "\"url\": \"people-by-token?updatedSince={{ cursor }}&pageToken={{ pageToken }}&size={{ pageSize }}\", \"paging\": \"token\", \"nextPage\": \"data.next\","
                : "\"url\": \"people?updatedSince={{ cursor }}&page={{ page }}&size={{ pageSize }}\",")}}} "items": "data.list", "pageSize": {{{pageSize}}},
            "fields": {
              "externalId": "{{ item.id }}", "employeeNumber": "{{ item.employeeNo }}", "userName": "{{ item.login }}",
              "displayName": "{{ item.name }}", "email": "{{ item.mail }}", "departmentRef": "{{ item.deptId }}",
              "managerRef": "{{ item.managerNo }}", "active": "{{ item.active }}"
            },
            "cursor": "{{ item.updatedAt }}"
          },
          "deletions": {
            "url": "leavers?since={{ cursor }}&page={{ page }}&size={{ pageSize }}", "items": "data.list", "pageSize": {{{pageSize}}},
            "fields": { "externalId": "{{ item.id }}", "employeeNumber": "{{ item.employeeNo }}" },
            "cursor": "{{ item.leftAt }}"
          },
          "intervalMinutes": 5,
          "reconcileAt": "02:00"
        }
        """;

    public void Department(string id, string name, string? parentId, string? code = null)
    {
        lock (_gate)
        {
            _departments.RemoveAll(d => (string)d["deptId"]! == id);
            _departments.Add(new Dictionary<string, object?> { ["deptId"] = id, ["name"] = name, ["parentId"] = parentId, ["code"] = code ?? id });
        }
    }

    /// <summary>Adds or changes a person; <paramref name="touch"/> false leaves updatedAt as it was (a change the increments miss).</summary>
    public void Person(string id, string employeeNumber, string name, string deptId, string? managerNumber = null, object? active = null, bool touch = true)
    {
        lock (_gate)
        {
            var updatedAt = touch || !_people.TryGetValue(id, out var old) ? NextTime() : (string)old["updatedAt"]!;
            _people[id] = new Dictionary<string, object?>
            {
                ["id"] = id, ["employeeNo"] = employeeNumber, ["login"] = "oa." + employeeNumber.ToLowerInvariant(), ["name"] = name,
                ["mail"] = $"{employeeNumber.ToLowerInvariant()}@oa.example.com", ["deptId"] = deptId, ["managerNo"] = managerNumber,
                ["active"] = active ?? true, ["updatedAt"] = updatedAt,
            };
        }
    }

    /// <summary>The person left: gone from the people list, listed among the leavers.</summary>
    public void Leave(string id)
    {
        lock (_gate)
        {
            var person = _people[id];
            _people.Remove(id);
            _leavers.Add((id, (string)person["employeeNo"]!, NextTime()));
        }
    }

    /// <summary>Gone from the people list without a leaver entry (the deletion an increment cannot see).</summary>
    public void Vanish(string id)
    {
        lock (_gate)
        {
            _people.Remove(id);
        }
    }

    /// <summary>The next <paramref name="times"/> reads of page <paramref name="page"/> (1-based) of a list answer 500.</summary>
    public void FailPage(string list, int page, int times = 1) => _failing[(list, page)] = times;

    public string UpdatedAt(string id)
    {
        lock (_gate)
        {
            return (string)_people[id]["updatedAt"]!;
        }
    }

    public int Served(string list) => _requests.Count(r => r.StartsWith(list + " ", StringComparison.Ordinal));

    public async ValueTask DisposeAsync()
    {
        if (_app is not null)
        {
            await _app.DisposeAsync();
        }
    }

    private string NextTime() => new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.Zero).AddSeconds(Interlocked.Increment(ref _tick))
        .ToString("yyyy-MM-ddTHH:mm:ssZ", CultureInfo.InvariantCulture);

    private List<object> Snapshot(IEnumerable<Dictionary<string, object?>> items)
    {
        lock (_gate)
        {
            return [.. items.Select(i => (object)new Dictionary<string, object?>(i))];
        }
    }

    private IResult Page(string list, int page, int size, Func<List<object>> all)
    {
        _requests.Enqueue($"{list} {page}");
        if (_failing.TryGetValue((list, page), out var left) && left > 0)
        {
            _failing[(list, page)] = left - 1;
            return Results.Json(new { code = 500, message = "injected failure" }, statusCode: 500);
        }

        var items = all();
        return Results.Json(new { code = 0, data = new { total = items.Count, list = items.Skip((page - 1) * size).Take(size).ToList() } });
    }

    private static bool SignedCorrectly(HttpContext context)
    {
        var headers = context.Request.Headers;
        if (headers["App-Key"] != AppKey || !long.TryParse(headers["Timestamp"], CultureInfo.InvariantCulture, out var timestamp)
            || Math.Abs(DateTimeOffset.UtcNow.ToUnixTimeSeconds() - timestamp) > 300)
        {
            return false;
        }

        var target = context.Features.Get<IHttpRequestFeature>()!.RawTarget;
        var stringToSign = string.Join("\n", AppKey, headers["Timestamp"], headers["Nonce"], context.Request.Method, target, "");
        var expected = Convert.ToHexStringLower(HMACSHA256.HashData(Encoding.UTF8.GetBytes(AppSecret), Encoding.UTF8.GetBytes(stringToSign)));
        return CryptographicOperations.FixedTimeEquals(Encoding.ASCII.GetBytes(expected), Encoding.ASCII.GetBytes(headers["Signature"].ToString()));
    }
}
