using System.Globalization;
using System.Text.Json;
using Fluid;
using IdentityHub.Core;
using IdentityHub.Data.Inbound;
using IdentityHub.Provisioning.Connectors.Rest;

namespace IdentityHub.Provisioning.Inbound.Rest;

/// <summary>One list with its templates parsed once: the URL, each field, the cursor.</summary>
public sealed record RestSourceCompiledList(
    string Name, RestSourceList List, IFluidTemplate Url, IReadOnlyDictionary<string, IFluidTemplate> Fields, IFluidTemplate? Cursor);

/// <summary>
/// A REST source's settings parsed and checked, every template parsed and rendered against a sample, so what would fail a
/// run fails at registration; <see cref="Errors"/> name the fields as the API reports them (<c>settings.people.url</c>).
/// </summary>
public sealed class RestSourceCompiled
{
    private const string Prefix = "settings.";
    private readonly Dictionary<string, List<string>> _errors = new(StringComparer.Ordinal);

    private RestSourceCompiled(RestSourceSettings settings)
    {
        Settings = settings;
        // No value maps for a source: the connector's filters (json) without its maps.
        Options = RestTemplates.OptionsFor(new RestConnectorSettings());
    }

    public RestSourceSettings Settings { get; }

    public TemplateOptions Options { get; }

    public RestSourceCompiledList? Departments { get; private set; }

    public RestSourceCompiledList? People { get; private set; }

    public RestSourceCompiledList? Deletions { get; private set; }

    public IReadOnlyDictionary<string, List<string>> Errors => _errors;

    public bool IsValid => _errors.Count == 0;

    public string DescribeErrors() =>
        "The REST source's settings are invalid: " + string.Join(" ", _errors.Select(e => $"{e.Key}: {string.Join(" ", e.Value)}"));

    public static RestSourceCompiled Compile(string json)
    {
        RestSourceSettings? settings;
        try
        {
            settings = JsonSerializer.Deserialize<RestSourceSettings>(string.IsNullOrWhiteSpace(json) ? "{}" : json, RestSourceSettings.Json);
        }
        catch (JsonException ex)
        {
            var failed = new RestSourceCompiled(new RestSourceSettings());
            failed.Add(ex.Path is { Length: > 2 } path ? path[2..] : "", $"Not valid here: {ex.Message}");
            return failed;
        }

        var compiled = new RestSourceCompiled(settings ?? new RestSourceSettings());
        compiled.Check();
        return compiled;
    }

    /// <summary>A URL rendered from a list's template (values URL-escaped), resolved against <c>baseUrl</c>.</summary>
    public Uri RenderUrl(RestSourceCompiledList list, string? cursor, int page, string? pageToken)
    {
        ArgumentNullException.ThrowIfNull(list);
        var model = new Dictionary<string, object?>
        {
            ["cursor"] = cursor ?? "",
            ["page"] = page,
            ["pageToken"] = pageToken ?? "",
            ["pageSize"] = list.List.PageSize,
        };
        var url = RestTemplates.RenderUrl(list.Url, model, Options).Trim();
        return Resolve(url) ?? throw new RestTemplateException($"{Prefix}{list.Name}.url", $"The URL template renders \"{url}\", which is not a usable URL.");
    }

    /// <summary>An absolute URL as given, or a relative one joined to <c>baseUrl</c>; null when neither works.</summary>
    public Uri? Resolve(string url)
    {
        ArgumentNullException.ThrowIfNull(url);
        if (url.StartsWith("https://", StringComparison.OrdinalIgnoreCase) || url.StartsWith("http://", StringComparison.OrdinalIgnoreCase))
        {
            return Uri.TryCreate(url, UriKind.Absolute, out var absolute) ? absolute : null;
        }

        return Settings.BaseUrl is { IsAbsoluteUri: true } baseUrl
            && Uri.TryCreate(baseUrl.AbsoluteUri.TrimEnd('/') + "/" + url.TrimStart('/'), UriKind.Absolute, out var combined) ? combined : null;
    }

    /// <summary>The fields of one item: each template rendered over <c>item</c>, trimmed, empty as null.</summary>
    public IReadOnlyDictionary<string, string?> Map(RestSourceCompiledList list, object? item)
    {
        ArgumentNullException.ThrowIfNull(list);
        var model = new Dictionary<string, object?> { ["item"] = item };
        var values = new Dictionary<string, string?>(StringComparer.Ordinal);
        foreach (var (field, template) in list.Fields)
        {
            string text;
            try
            {
                text = RestTemplates.RenderText(template, model, Options).Trim();
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                throw new RestTemplateException($"{Prefix}{list.Name}.fields.{field}", $"The template of {field} does not render: {ex.Message}");
            }

            values[field] = text.Length == 0 ? null : text;
        }

        if (list.Cursor is { } cursor)
        {
            var text = RestTemplates.RenderText(cursor, model, Options).Trim();
            values[CursorKey] = text.Length == 0 ? null : text;
        }

        return values;
    }

    /// <summary>Where <see cref="Map"/> puts the item's cursor value.</summary>
    public const string CursorKey = "$cursor";

    private void Add(string field, string message)
    {
        var key = field.Length == 0 ? "settings" : Prefix + field;
        if (!_errors.TryGetValue(key, out var list))
        {
            _errors[key] = list = [];
        }

        list.Add(message);
    }

    private void Check()
    {
        var s = Settings;
        if (s.BaseUrl is null)
        {
            Add("baseUrl", "The source API's base URL is required, for example https://oa.example.com/api.");
        }
        else if (RestCompiledSettings.UrlProblem(s.BaseUrl) is { } problem)
        {
            Add("baseUrl", problem);
        }
        else if (!string.IsNullOrEmpty(s.BaseUrl.UserInfo))
        {
            Add("baseUrl", "The base URL must not carry a user name or password; authentication goes in auth and the source's secret.");
        }

        RestCompiledSettings.CheckAuth(s.Auth, Add);
        if (s.People is null)
        {
            Add("people", "Required: how the people are listed (url, items, fields).");
        }

        Departments = CompileList("departments", s.Departments, RestSourceSettings.DepartmentFields, required: ["name"]);
        People = CompileList("people", s.People, RestSourceSettings.PersonFields, required: []);
        Deletions = CompileList("deletions", s.Deletions, RestSourceSettings.DeletionFields, required: []);
        if (s.People is { } people && !people.Fields.Keys.Any(k => k is "externalId" or "employeeNumber" or "userName"))
        {
            Add("people.fields", "Map at least one of externalId, employeeNumber, userName: how a person is recognised.");
        }

        if (s.Deletions is { } deletions && !deletions.Fields.Keys.Any(k => k is "externalId" or "employeeNumber"))
        {
            Add("deletions.fields", "Map externalId or employeeNumber: how the person who left is recognised.");
        }

        if (s.IntervalMinutes is < 1 or > 1440)
        {
            Add("intervalMinutes", "Between 1 and 1440 minutes.");
        }

        if (!TimeSpan.TryParseExact(s.ReconcileAt, @"hh\:mm", CultureInfo.InvariantCulture, out var at) || at >= TimeSpan.FromDays(1))
        {
            Add("reconcileAt", "A UTC time of day as HH:mm, for example 02:00.");
        }

        if (s.MaxPages is < 1 or > 100_000)
        {
            Add("maxPages", "Between 1 and 100000.");
        }

        if (s.MaxItems is < 1 or > 10_000_000)
        {
            Add("maxItems", "Between 1 and 10000000.");
        }

        if (s.TimeoutSeconds is < 1 or > 300)
        {
            Add("timeoutSeconds", "Between 1 and 300 seconds.");
        }

        if (IsValid)
        {
            RenderSamples();
        }
    }

    private RestSourceCompiledList? CompileList(string name, RestSourceList? list, IReadOnlyList<string> allowed, IReadOnlyList<string> required)
    {
        if (list is null)
        {
            return null;
        }

        IFluidTemplate? url = null;
        if (string.IsNullOrWhiteSpace(list.Url))
        {
            Add($"{name}.url", "A URL template is required (relative to baseUrl, or absolute), for example people?updatedSince={{ cursor }}&page={{ page }}.");
        }
        else
        {
            url = Parse($"{name}.url", list.Url);
        }

        if (!string.IsNullOrEmpty(list.Items) && RestJsonPath.Problem(list.Items) is { } itemsProblem)
        {
            Add($"{name}.items", itemsProblem);
        }

        if (list.Paging == RestSourcePaging.Token && RestJsonPath.Problem(list.NextPage ?? "") is { } nextProblem)
        {
            Add($"{name}.nextPage", nextProblem);
        }

        if (list.PageSize is < 1 or > 10_000)
        {
            Add($"{name}.pageSize", "Between 1 and 10000.");
        }

        if (list.FirstPage is < 0 or > 1)
        {
            Add($"{name}.firstPage", "0 or 1.");
        }

        var fields = new Dictionary<string, IFluidTemplate>(StringComparer.Ordinal);
        foreach (var (field, source) in list.Fields)
        {
            if (!allowed.Contains(field))
            {
                Add($"{name}.fields.{field}", $"Not a field of {name}; use {string.Join(", ", allowed)}.");
            }
            else if (Parse($"{name}.fields.{field}", source ?? "") is { } template)
            {
                fields[field] = template;
            }
        }

        foreach (var missing in required.Where(r => !list.Fields.ContainsKey(r)))
        {
            Add($"{name}.fields.{missing}", $"Required: a template of {missing}, for example {{{{ item.{missing} }}}}.");
        }

        var cursor = list.Cursor is null ? null : Parse($"{name}.cursor", list.Cursor);
        return url is null ? null : new RestSourceCompiledList(name, list, url, fields, cursor);
    }

    private IFluidTemplate? Parse(string field, string source)
    {
        var template = RestTemplates.Parse(source, out var error);
        if (template is null)
        {
            Add(field, $"The Liquid template does not parse: {error}");
        }

        return template;
    }

    /// <summary>Every URL rendered for a first and a later page, every field over a sample item: an unknown filter or a bad URL fails now.</summary>
    private void RenderSamples()
    {
        var item = new Dictionary<string, object?> { ["id"] = "sample", ["updatedAt"] = "2026-01-01T00:00:00Z" };
        foreach (var list in new[] { Departments, People, Deletions }.OfType<RestSourceCompiledList>())
        {
            try
            {
                var url = RenderUrl(list, "2026-01-01T00:00:00Z", list.List.FirstPage + 1, "sample-token");
                if (RestCompiledSettings.UrlProblem(url) is { } problem)
                {
                    Add($"{list.Name}.url", problem);
                }

                Map(list, item);
            }
            catch (RestTemplateException ex)
            {
                var field = ex.Field.StartsWith(Prefix, StringComparison.Ordinal) ? ex.Field[Prefix.Length..] : ex.Field;
                Add(field, ex.Message);
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                Add($"{list.Name}.cursor", $"The template does not render: {ex.Message}");
            }
        }
    }
}

/// <summary>Checks a REST source's settings when it is registered or changed; every error names its field.</summary>
public sealed class RestSourceSettingsCheck(RestSourceCompilerCache compiler) : IInboundSettingsCheck
{
    public InboundSourceKind Kind => InboundSourceKind.Rest;

    public void Check(JsonElement settings, bool hasSecret, FieldErrors errors)
    {
        ArgumentNullException.ThrowIfNull(errors);
        var compiled = compiler.Compile(settings.ValueKind == JsonValueKind.Undefined ? "{}" : settings.GetRawText());
        foreach (var (field, messages) in compiled.Errors)
        {
            foreach (var message in messages)
            {
                errors.Add(field, message);
            }
        }

        if (compiled.Settings.Auth.Type != RestAuthType.None && !hasSecret)
        {
            errors.Add("secret", compiled.Settings.Auth.Type switch
            {
                RestAuthType.Hmac => "The source's App Secret is required to sign requests.",
                RestAuthType.Oauth2 => "The OAuth 2.0 client secret is required.",
                RestAuthType.Bearer => "The bearer token is required.",
                _ => "The API key is required.",
            });
        }
    }
}

/// <summary>Compiled source settings per settings text: templates parsed once per change, not per run.</summary>
public sealed class RestSourceCompilerCache() : Connectors.Rest.CompiledSettingsCache<RestSourceCompiled>(128, RestSourceCompiled.Compile);
