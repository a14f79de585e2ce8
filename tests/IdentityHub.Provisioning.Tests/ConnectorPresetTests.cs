using System.Text.Json;
using System.Text.Json.Nodes;
using IdentityHub.Provisioning.Connectors;

namespace IdentityHub.Provisioning.Tests;

/// <summary>How a preset's settings and the administrator's meet: objects field by field, anything else replaced by what was given.</summary>
public sealed class ConnectorPresetTests
{
    private static readonly ConnectorPreset Preset = new("rest", "p", new Dictionary<string, string>(), new Dictionary<string, string>(),
        JsonSerializer.SerializeToElement(JsonNode.Parse("""{"baseUrl":"https://preset.example","auth":{"type":"hmac","appKey":"KEY"},"codes":["0","1"],"operations":{"deleteUser":{"method":"DELETE"}}}""")));

    [Theory]
    [InlineData("""{"auth":{"appKey":"mine"}}""", """{"baseUrl":"https://preset.example","auth":{"type":"hmac","appKey":"mine"},"codes":["0","1"],"operations":{"deleteUser":{"method":"DELETE"}}}""")]
    [InlineData("""{"codes":["9"]}""", """{"baseUrl":"https://preset.example","auth":{"type":"hmac","appKey":"KEY"},"codes":["9"],"operations":{"deleteUser":{"method":"DELETE"}}}""")]
    [InlineData("""{"operations":{"deleteUser":null},"extra":true}""", """{"baseUrl":"https://preset.example","auth":{"type":"hmac","appKey":"KEY"},"codes":["0","1"],"operations":{"deleteUser":null},"extra":true}""")]
    [InlineData("""{"auth":"none"}""", """{"baseUrl":"https://preset.example","auth":"none","codes":["0","1"],"operations":{"deleteUser":{"method":"DELETE"}}}""")]
    public void Apply_GivenSettings_LaidOverThePresets(string given, string expected) =>
        Assert.True(JsonNode.DeepEquals(JsonNode.Parse(expected), JsonNode.Parse(Preset.Apply(JsonDocument.Parse(given).RootElement.Clone()).GetRawText())),
            Preset.Apply(JsonDocument.Parse(given).RootElement.Clone()).GetRawText());

    [Fact]
    public void Apply_NothingGiven_ThePresetsSettings() =>
        Assert.True(JsonNode.DeepEquals(JsonNode.Parse(Preset.Settings.GetRawText()), JsonNode.Parse(Preset.Apply(default).GetRawText())));
}
