using System.Text.Json;
using IdentityHub.Data.Provisioning;
using IdentityHub.Provisioning.Connectors;
using IdentityHub.Provisioning.Connectors.Rest;
using IdentityHub.Provisioning.Connectors.Scim;
using IdentityHub.Provisioning.Connectors.Webhooks;

namespace IdentityHub.Provisioning.Tests;

/// <summary>What each registered kind says about its settings: which are valid, which name a field, and who it provisions.</summary>
public sealed class ConnectorKindsTests
{
    private const string Rest = """{"baseUrl":"https://open.vendor.example/api","operations":{"upsertUser":{"method":"PUT","url":"employees/{{ user.employeeNumber }}","body":"{\"name\": {{ user.displayName | json }}}"},"disableUser":{"method":"DELETE","url":"employees/{{ user.employeeNumber }}"}}}""";

    private static readonly ConnectorKinds Kinds = new([new ScimKind(), new WebhookKind(), new RestKind(new RestCompiler(), new RestPresets())]);

    [Theory]
    [InlineData("webhook", """{"url":"https://hooks.example/identityhub"}""", null, false)]
    [InlineData("webhook", """{"url":"http://127.0.0.1:8080/hooks"}""", null, false)]
    [InlineData("webhook", """{"url":"http://localhost:8080/hooks"}""", null, false)]
    [InlineData("scim", """{"baseUrl":"https://scim.example/v2"}""", "token", false)]
    [InlineData("scim", """{"baseUrl":"https://scim.example/v2"}""", null, true)]
    [InlineData("scim", """{"baseUrl":"https://scim.example/v2","authentication":"clientCredentials","tokenEndpoint":"https://idp.example/token","clientId":"ih"}""", "s", false)]
    [InlineData("scim", """{"baseUrl":"https://scim.example/v2","userName":"userName","deprovisioning":"deactivate","groupsMode":true}""", "token", false)]
    [InlineData("rest", Rest, null, false)]
    [InlineData("rest", """{"baseUrl":"http://127.0.0.1:5000/api","auth":{"type":"bearer"},"operations":{"upsertUser":{"method":"PUT","url":"e/{{ user.id }}"},"disableUser":{"method":"DELETE","url":"e/{{ user.id }}"}}}""", null, true)]
    public void Validate_GoodSettings_NoError(string kind, string settings, string? secret, bool hasStoredSecret) =>
        Assert.Empty(Kinds.Find(kind)!.Validate(Json(settings), secret, hasStoredSecret));

    [Theory]
    [InlineData("webhook", "{}", null, false, "settings.url")]
    [InlineData("webhook", """{"url":42}""", null, false, "settings.url")]
    [InlineData("webhook", """{"url":"hooks.example/relative"}""", null, false, "settings.url")]
    [InlineData("webhook", """{"url":"http://hooks.example.com/plain"}""", null, false, "settings.url")]
    [InlineData("webhook", """{"url":"https://hooks.example/x#fragment"}""", null, false, "settings.url")]
    [InlineData("webhook", """{"url":"https://hooks.example/x"}""", "mine", false, "secret")]
    [InlineData("scim", "{}", "token", false, "settings.baseUrl")]
    [InlineData("scim", """{"baseUrl":"mailto:scim@example.com"}""", "token", false, "settings.baseUrl")]
    [InlineData("scim", """{"baseUrl":"https://scim.example/v2"}""", null, false, "secret")]
    [InlineData("scim", """{"baseUrl":"https://scim.example/v2","authentication":"clientCredentials","clientId":"ih"}""", "s", false, "settings.tokenEndpoint")]
    [InlineData("scim", """{"baseUrl":"https://scim.example/v2","authentication":"clientCredentials","tokenEndpoint":"https://idp.example/token"}""", "s", false, "settings.clientId")]
    [InlineData("scim", """{"baseUrl":"https://scim.example/v2","authentication":2}""", "token", false, "settings.authentication")]
    [InlineData("scim", """{"baseUrl":"https://scim.example/v2","timeoutSeconds":301}""", "token", false, "settings.timeoutSeconds")]
    [InlineData("rest", "{}", null, false, "settings.baseUrl")]
    [InlineData("rest", "{}", null, false, "settings.operations.upsertUser")]
    [InlineData("rest", """{"baseUrl":"https://open.vendor.example/api","auth":{"type":"hmac","appKey":"k"},"operations":{"upsertUser":{"method":"PUT","url":"e"},"disableUser":{"method":"DELETE","url":"e"}}}""", null, false, "secret")]
    [InlineData("rest", """{"baseUrl":"https://open.vendor.example/api","unknown":1}""", null, false, "settings.unknown")]
    public void Validate_BadSettingsOrSecret_NamesTheField(string kind, string settings, string? secret, bool hasStoredSecret, string field) =>
        Assert.Contains(field, Kinds.Find(kind)!.Validate(Json(settings), secret, hasStoredSecret).Keys);

    [Theory]
    [InlineData("scim", """{"baseUrl":"https://scim.example/v2","allUsers":true}""", true)]
    [InlineData("scim", """{"baseUrl":"https://scim.example/v2","AllUsers":true}""", true)]
    [InlineData("scim", """{"baseUrl":"https://scim.example/v2"}""", false)]
    [InlineData("scim", "not json", false)]
    [InlineData("webhook", """{"url":"https://hooks.example/x","allUsers":true}""", false)]
    [InlineData("rest", Rest, false)]
    public void ProvisionsEveryone_Settings_OnlyScimAllUsers(string kind, string settings, bool everyone) =>
        Assert.Equal(everyone, Kinds.Find(kind)!.ProvisionsEveryone(settings));

    [Theory]
    [InlineData("SCIM", ConnectorKind.Scim)]
    [InlineData(" webhook ", ConnectorKind.Webhook)]
    [InlineData("REST", ConnectorKind.Rest)]
    public void Find_WireNameAnyCase_FindsTheKind(string name, ConnectorKind kind) => Assert.Equal(kind, Kinds.Find(name)!.Kind);

    [Theory]
    [InlineData("ftp")]
    [InlineData("")]
    [InlineData(null)]
    public void Find_UnknownName_IsNull(string? name) => Assert.Null(Kinds.Find(name));

    [Fact]
    public void Describe_ScimSettings_NamesEachSettingWithoutQuotes()
    {
        var described = Kinds.Find(ConnectorKind.Scim)!.Describe("""{"baseUrl":"https://scim.example/v2","groupsMode":true}""");

        Assert.Equal([new ConnectorSetting("baseUrl", "https://scim.example/v2"), new ConnectorSetting("groupsMode", "true")], described);
    }

    [Fact]
    public void GenerateSecret_WebhookOnly_IsAStandardWebhooksSecret()
    {
        Assert.StartsWith(WebhookSignature.SecretPrefix, Kinds.Find(ConnectorKind.Webhook)!.GenerateSecret(), StringComparison.Ordinal);
        Assert.Null(Kinds.Find(ConnectorKind.Scim)!.GenerateSecret());
    }

    [Fact]
    public void SettingsType_EachKind_IsItsTypedSettingsRecord()
    {
        Assert.Equal(typeof(ScimSettings), Kinds.Find(ConnectorKind.Scim)!.SettingsType);
        Assert.Equal(typeof(WebhookSettings), Kinds.Find(ConnectorKind.Webhook)!.SettingsType);
        Assert.Equal(typeof(RestConnectorSettings), Kinds.Find(ConnectorKind.Rest)!.SettingsType);
    }

    [Fact]
    public void Presets_RestOnly_TheShippedFilesEachValidOnceFilledIn()
    {
        Assert.Equal([("rest", "attendance"), ("rest", "expense")], Kinds.Presets.Select(p => (p.Kind, p.Name)));
        foreach (var preset in Kinds.Presets)
        {
            var filled = preset.Apply(Json("""{"baseUrl":"https://vendor.example/api","auth":{"appKey":"k","tokenUrl":"https://vendor.example/token","clientId":"c"}}"""));

            Assert.Empty(Kinds.Find(preset.Kind)!.Validate(filled, "secret", hasStoredSecret: false));
        }
    }

    [Fact]
    public void Choices_EveryKind_ListedForTheMessage() => Assert.Equal("\"rest\", \"scim\" or \"webhook\"", Kinds.Choices());

    private static JsonElement Json(string json)
    {
        using var document = JsonDocument.Parse(json);
        return document.RootElement.Clone();
    }
}
