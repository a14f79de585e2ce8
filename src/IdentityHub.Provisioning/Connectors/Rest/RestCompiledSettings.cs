using System.Net;
using System.Text.Json;
using System.Text.RegularExpressions;
using Fluid;

namespace IdentityHub.Provisioning.Connectors.Rest;

/// <summary>The names of the operations, as the settings and the error fields spell them.</summary>
public static class RestOperationNames
{
    public const string UpsertUser = "upsertUser";
    public const string CreateUser = "createUser";
    public const string DisableUser = "disableUser";
    public const string DeleteUser = "deleteUser";
    public const string UpsertDepartment = "upsertDepartment";
    public const string DeleteDepartment = "deleteDepartment";
    public const string GetUser = "getUser";
    public const string ListUsers = "listUsers";
}

/// <summary>One request, rendered and ready to sign and send (or to show in a dry-run preview).</summary>
public sealed record RestRequest(string Operation, HttpMethod Method, Uri Url, IReadOnlyList<KeyValuePair<string, string>> Headers, string? Body);

/// <summary>An operation with its templates parsed once.</summary>
public sealed record RestCompiledOperation(
    string Name, RestOperation Operation, HttpMethod Method, IFluidTemplate Url, IFluidTemplate? Body, IReadOnlyList<KeyValuePair<string, IFluidTemplate>> Headers);

/// <summary>
/// A REST connector's settings parsed, checked and with every template parsed: built once per settings text (see
/// <see cref="RestCompiler"/>), so deliveries only render. <see cref="Errors"/> name the fields (<c>operations.upsertUser.url</c>).
/// </summary>
public sealed partial class RestCompiledSettings
{
    private static readonly HashSet<string> Methods = new(StringComparer.Ordinal) { "GET", "POST", "PUT", "PATCH", "DELETE" };

    private readonly Dictionary<string, RestCompiledOperation> _operations = new(StringComparer.Ordinal);
    private readonly Dictionary<string, IFluidTemplate> _compare = new(StringComparer.Ordinal);
    private readonly Dictionary<string, string[]> _errors = new(StringComparer.Ordinal);

    private RestCompiledSettings(RestConnectorSettings settings)
    {
        Settings = settings;
        Options = RestTemplates.OptionsFor(settings);
    }

    public RestConnectorSettings Settings { get; }

    public TemplateOptions Options { get; }

    public IReadOnlyDictionary<string, string[]> Errors => _errors;

    public bool IsValid => _errors.Count == 0;

    /// <summary>The errors in one sentence, for a delivery, test or check that finds the stored settings invalid.</summary>
    public string DescribeErrors() =>
        "The REST connector's settings are invalid: " + string.Join(" ", _errors.Select(e => $"settings.{e.Key}: {string.Join(" ", e.Value)}"));

    /// <summary>The drift check's comparisons: field name → the template of what IdentityHub expects.</summary>
    public IReadOnlyDictionary<string, IFluidTemplate> Compare => _compare;

    public RestCompiledOperation? Operation(string name) => _operations.GetValueOrDefault(name);

    /// <summary>Parses, checks and compiles; then renders every template against a sample state, so a template that fails fails now.</summary>
    public static RestCompiledSettings Compile(string json)
    {
        RestConnectorSettings? settings;
        try
        {
            settings = JsonSerializer.Deserialize<RestConnectorSettings>(string.IsNullOrWhiteSpace(json) ? "{}" : json, RestConnectorSettings.Json);
        }
        catch (JsonException ex)
        {
            var compiled = new RestCompiledSettings(new RestConnectorSettings());
            var field = ex.Path is { Length: > 2 } path ? path[2..] : "";
            compiled.Add(field, $"Not valid here: {ex.Message}");
            return compiled;
        }

        var result = new RestCompiledSettings(settings ?? new RestConnectorSettings());
        result.Check();
        result.CompileTemplates();
        if (result.IsValid)
        {
            result.RenderSamples();
        }

        return result;
    }

    /// <summary>Renders one operation: the URL resolved against <c>baseUrl</c>, the extra headers, the body checked to be JSON.</summary>
    public RestRequest Render(RestCompiledOperation operation, object model)
    {
        ArgumentNullException.ThrowIfNull(operation);
        var field = "operations." + operation.Name;
        string url;
        try
        {
            url = RestTemplates.RenderUrl(operation.Url, model, Options);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            throw new RestTemplateException(field + ".url", $"The URL template does not render: {ex.Message}");
        }

        var target = Resolve(url.Trim()) ?? throw new RestTemplateException(field + ".url", $"The URL template renders \"{url}\", which is not a usable URL.");
        if (UrlProblem(target) is { } problem)
        {
            throw new RestTemplateException(field + ".url", problem);
        }

        var headers = new List<KeyValuePair<string, string>>();
        foreach (var (name, template) in operation.Headers)
        {
            string value;
            try
            {
                value = RestTemplates.RenderText(template, model, Options);
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                throw new RestTemplateException($"{field}.headers.{name}", $"The header template does not render: {ex.Message}");
            }

            // RFC 9110 §5.5: a field value never holds CR or LF (that would be header injection).
            if (value.Contains('\r', StringComparison.Ordinal) || value.Contains('\n', StringComparison.Ordinal))
            {
                throw new RestTemplateException($"{field}.headers.{name}", "The header renders a line break.");
            }

            headers.Add(new(name, value.Trim()));
        }

        string? body = null;
        if (operation.Body is { } bodyTemplate)
        {
            try
            {
                body = RestTemplates.RenderBody(bodyTemplate, model, Options).Trim();
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                throw new RestTemplateException(field + ".body", $"The body template does not render: {ex.Message}");
            }

            try
            {
                using var _ = JsonDocument.Parse(body);
            }
            catch (JsonException ex)
            {
                throw new RestTemplateException(field + ".body", $"The body template renders text that is not JSON ({ex.Message}); write values with the json filter: {{{{ user.displayName | json }}}}.");
            }
        }

        return new RestRequest(operation.Name, operation.Method, target, headers, body);
    }

    /// <summary>https, or http only to this machine (loopback), as for every other outbound URL IdentityHub is given.</summary>
    public static string? UrlProblem(Uri url)
    {
        ArgumentNullException.ThrowIfNull(url);
        if (!url.IsAbsoluteUri || (url.Scheme != Uri.UriSchemeHttps && url.Scheme != Uri.UriSchemeHttp))
        {
            return "An absolute https URL is required.";
        }

        var loopback = url.IsLoopback || (IPAddress.TryParse(url.Host.Trim('[', ']'), out var ip) && IPAddress.IsLoopback(ip));
        return url.Scheme == Uri.UriSchemeHttp && !loopback ? "https is required (http only for a loopback address such as 127.0.0.1)." : null;
    }

    private Uri? Resolve(string url)
    {
        if (url.StartsWith("https://", StringComparison.OrdinalIgnoreCase) || url.StartsWith("http://", StringComparison.OrdinalIgnoreCase))
        {
            return Uri.TryCreate(url, UriKind.Absolute, out var absolute) ? absolute : null;
        }

        if (Settings.BaseUrl is not { IsAbsoluteUri: true } baseUrl)
        {
            return null;
        }

        return Uri.TryCreate(baseUrl.AbsoluteUri.TrimEnd('/') + "/" + url.TrimStart('/'), UriKind.Absolute, out var combined) ? combined : null;
    }

    private void Add(string field, string message)
    {
        _errors[field] = _errors.TryGetValue(field, out var existing) ? [.. existing, message] : [message];
    }

    private void Check()
    {
        var s = Settings;
        if (s.BaseUrl is null)
        {
            Add("baseUrl", "The vendor API's base URL is required, for example https://open.vendor.example/api/v1.");
        }
        else if (UrlProblem(s.BaseUrl) is { } problem)
        {
            Add("baseUrl", problem);
        }

        CheckAuth(s.Auth, Add);
        CheckResponses(s.Responses);
        var operations = s.Operations;
        if (operations.UpsertUser is null)
        {
            Add("operations.upsertUser", "Required: how a user is created or updated at the vendor.");
        }

        if (s.Deprovisioning == RestDeprovisioning.Disable && operations.DisableUser is null)
        {
            Add("operations.disableUser", "Required with deprovisioning \"disable\": how someone who lost access is disabled at the vendor.");
        }

        if (s.Deprovisioning == RestDeprovisioning.Delete && operations.DeleteUser is null)
        {
            Add("operations.deleteUser", "Required with deprovisioning \"delete\": how someone who lost access is removed at the vendor.");
        }

        if (operations.DeleteDepartment is not null && operations.UpsertDepartment is null)
        {
            Add("operations.upsertDepartment", "Required with deleteDepartment: departments are deleted only after they were pushed.");
        }

        if (operations.ListUsers is { } list)
        {
            CheckPath("operations.listUsers.items", list.Items);
            CheckPath("operations.listUsers.employeeNumber", list.EmployeeNumber);
            if (list.Id is not null)
            {
                CheckPath("operations.listUsers.id", list.Id);
            }

            if (list.Paging == RestPaging.Cursor)
            {
                CheckPath("operations.listUsers.nextCursor", list.NextCursor);
            }

            if (list.PageSize is < 1 or > 1000)
            {
                Add("operations.listUsers.pageSize", "Between 1 and 1000.");
            }

            foreach (var (name, compare) in list.Compare)
            {
                CheckPath($"operations.listUsers.compare.{name}.path", compare.Path);
                if (string.IsNullOrWhiteSpace(compare.Expected))
                {
                    Add($"operations.listUsers.compare.{name}.expected", "A template of the expected value is required, for example {{ user.roles | json }}.");
                }
            }
        }

        foreach (var (name, map) in s.ValueMaps)
        {
            foreach (var (key, value) in map)
            {
                if (value.ValueKind is JsonValueKind.Object or JsonValueKind.Array or JsonValueKind.Undefined)
                {
                    Add($"valueMaps.{name}.{key}", "A value map gives a string, a number, true, false or null.");
                }
            }
        }

        if (!string.IsNullOrEmpty(s.IdempotencyKeyHeader) && !IsToken(s.IdempotencyKeyHeader))
        {
            Add("idempotencyKeyHeader", "Not a valid header name.");
        }

        if (s.TimeoutSeconds is < 1 or > 300)
        {
            Add("timeoutSeconds", "Between 1 and 300 seconds.");
        }
    }

    /// <summary>The auth block's checks, field by field (<c>auth.appKey</c>...): shared with the pull sources, which authenticate alike.</summary>
    internal static void CheckAuth(RestAuth auth, Action<string, string> add)
    {
        ArgumentNullException.ThrowIfNull(auth);
        ArgumentNullException.ThrowIfNull(add);
        switch (auth.Type)
        {
            case RestAuthType.Hmac:
                if (string.IsNullOrWhiteSpace(auth.AppKey))
                {
                    add("auth.appKey", "The vendor's App Key is required for HMAC signing (the App Secret is the connector's secret).");
                }

                if (auth.StringToSign.Count == 0)
                {
                    add("auth.stringToSign", "Name the parts of the string to sign, in order: appKey, timestamp, nonce, method, pathAndQuery, body.");
                }

                foreach (var (field, header) in new[] { ("auth.appKeyHeader", auth.AppKeyHeader), ("auth.timestampHeader", auth.TimestampHeader), ("auth.nonceHeader", auth.NonceHeader), ("auth.signatureHeader", auth.SignatureHeader) })
                {
                    if (!IsToken(header))
                    {
                        add(field, "Not a valid header name.");
                    }
                }

                break;
            case RestAuthType.Oauth2:
                if (auth.TokenUrl is null)
                {
                    add("auth.tokenUrl", "OAuth 2.0 client credentials need the token endpoint's URL.");
                }
                else if (UrlProblem(auth.TokenUrl) is { } problem)
                {
                    add("auth.tokenUrl", problem);
                }

                if (string.IsNullOrWhiteSpace(auth.ClientId))
                {
                    add("auth.clientId", "OAuth 2.0 client credentials need a client id.");
                }

                break;
            case RestAuthType.ApiKey when auth.HeaderName is null || !IsToken(auth.HeaderName):
                add("auth.headerName", "The header that carries the API key is required, for example X-Api-Key.");
                break;
        }
    }

    private void CheckResponses(RestResponseMapping responses)
    {
        if (responses.CodeSource == RestCodeSource.Body)
        {
            CheckPath("responses.codePath", responses.CodePath);
        }

        foreach (var (field, path) in new[] { ("responses.messagePath", responses.MessagePath), ("responses.vendorIdPath", responses.VendorIdPath) })
        {
            if (path is not null)
            {
                CheckPath(field, path);
            }
        }

        if (responses.Success.Count == 0)
        {
            Add("responses.success", "Name at least one code that means success.");
        }
    }

    private void CheckPath(string field, string? path)
    {
        if (RestJsonPath.Problem(path ?? "") is { } problem)
        {
            Add(field, problem);
        }
    }

    private void CompileTemplates()
    {
        var operations = Settings.Operations;
        foreach (var (name, operation) in new (string, RestOperation?)[]
        {
            (RestOperationNames.UpsertUser, operations.UpsertUser), (RestOperationNames.CreateUser, operations.CreateUser),
            (RestOperationNames.DisableUser, operations.DisableUser), (RestOperationNames.DeleteUser, operations.DeleteUser),
            (RestOperationNames.UpsertDepartment, operations.UpsertDepartment), (RestOperationNames.DeleteDepartment, operations.DeleteDepartment),
            (RestOperationNames.GetUser, operations.GetUser), (RestOperationNames.ListUsers, operations.ListUsers),
        })
        {
            if (operation is not null && CompileOperation(name, operation) is { } compiled)
            {
                _operations[name] = compiled;
            }
        }

        foreach (var (name, compare) in operations.ListUsers?.Compare ?? new Dictionary<string, RestCompareField>())
        {
            if (!string.IsNullOrWhiteSpace(compare.Expected) && ParseField($"operations.listUsers.compare.{name}.expected", compare.Expected) is { } template)
            {
                _compare[name] = template;
            }
        }
    }

    private RestCompiledOperation? CompileOperation(string name, RestOperation operation)
    {
        var field = "operations." + name;
        var method = operation.Method?.Trim().ToUpperInvariant();
        if (method is null || !Methods.Contains(method))
        {
            Add(field + ".method", "One of GET, POST, PUT, PATCH, DELETE.");
        }

        IFluidTemplate? url = null;
        if (string.IsNullOrWhiteSpace(operation.Url))
        {
            Add(field + ".url", "A URL template is required (relative to baseUrl, or absolute).");
        }
        else
        {
            url = ParseField(field + ".url", operation.Url);
        }

        var body = operation.Body is null ? null : ParseField(field + ".body", operation.Body);
        var headers = new List<KeyValuePair<string, IFluidTemplate>>();
        foreach (var (header, value) in operation.Headers)
        {
            if (!IsToken(header))
            {
                Add($"{field}.headers.{header}", "Not a valid header name.");
            }
            else if (ParseField($"{field}.headers.{header}", value ?? "") is { } template)
            {
                headers.Add(new(header, template));
            }
        }

        return url is null || method is null || !Methods.Contains(method) || (operation.Body is not null && body is null)
            ? null
            : new RestCompiledOperation(name, operation, new HttpMethod(method), url, body, headers);
    }

    private IFluidTemplate? ParseField(string field, string source)
    {
        var template = RestTemplates.Parse(source, out var error);
        if (template is null)
        {
            Add(field, $"The Liquid template does not parse: {error}");
        }

        return template;
    }

    /// <summary>Every template rendered against a full sample: an unknown filter or value map, a body that is not JSON, a bad URL fail at registration.</summary>
    private void RenderSamples()
    {
        var (state, context) = RestTemplateModel.Sample();
        var user = RestTemplateModel.ForUser(state, context, "upsert");
        var department = RestTemplateModel.ForDepartment(context.DepartmentChain[^1], "sample-key");
        foreach (var operation in _operations.Values)
        {
            object model = operation.Name switch
            {
                RestOperationNames.UpsertDepartment or RestOperationNames.DeleteDepartment => department,
                RestOperationNames.ListUsers => RestTemplateModel.ForPage(1, Settings.Operations.ListUsers!.PageSize, "sample-cursor"),
                _ => user,
            };
            try
            {
                Render(operation, model);
            }
            catch (RestTemplateException ex)
            {
                Add(ex.Field, ex.Message);
            }
        }

        foreach (var (name, template) in _compare)
        {
            var field = $"operations.listUsers.compare.{name}.expected";
            try
            {
                using var _ = JsonDocument.Parse(RestTemplates.RenderBody(template, user, Options));
            }
            catch (JsonException ex)
            {
                Add(field, $"The expected value does not render as JSON ({ex.Message}); use the json filter.");
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                Add(field, $"The template does not render: {ex.Message}");
            }
        }
    }

    internal static bool IsToken(string? name) => name is { Length: > 0 } && Token().IsMatch(name);

    // RFC 9110 §5.6.2: a header name is a token.
    [GeneratedRegex("^[!#$%&'*+.^_`|~0-9A-Za-z-]+$")]
    private static partial Regex Token();
}

/// <summary>The REST connector's compiled settings per settings text: templates are parsed once per settings change, not per delivery.</summary>
public sealed class RestCompiler() : CompiledSettingsCache<RestCompiledSettings>(256, RestCompiledSettings.Compile);

/// <summary>
/// Compiled settings per settings text (keyed by its hash), so templates are parsed once per settings change. Settings of
/// deleted or edited connectors and sources fall out when the cache starts over at <paramref name="maxEntries"/>.
/// </summary>
public abstract class CompiledSettingsCache<T>(int maxEntries, Func<string, T> compile)
{
    private readonly System.Collections.Concurrent.ConcurrentDictionary<string, Lazy<T>> _cache = new(StringComparer.Ordinal);

    public T Compile(string settingsJson)
    {
        ArgumentNullException.ThrowIfNull(settingsJson);
        var key = Convert.ToBase64String(System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(settingsJson)));
        if (_cache.Count > maxEntries)
        {
            _cache.Clear();
        }

        return _cache.GetOrAdd(key, _ => new Lazy<T>(() => compile(settingsJson))).Value;
    }
}
