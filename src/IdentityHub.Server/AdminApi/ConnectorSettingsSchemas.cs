using IdentityHub.Provisioning.Connectors;
using Microsoft.AspNetCore.OpenApi;
using Microsoft.OpenApi;

namespace IdentityHub.Server.AdminApi;

/// <summary>
/// Describes a connector's <c>settings</c> in the OpenAPI document as one of the installed kinds' typed settings records
/// (<see cref="IConnectorKind.SettingsType"/>), while the API keeps carrying it as the raw JSON object it stores. A kind
/// registered in DI appears here by itself.
/// </summary>
internal static class ConnectorSettingsSchemas
{
    private const string SettingsProperty = "settings";

    /// <summary>The component schemas whose <c>settings</c> property is a connector's settings object.</summary>
    private static readonly string[] Carriers = [nameof(ConnectorRequest), nameof(ConnectorDto)];

    public static async Task TransformAsync(OpenApiDocument document, OpenApiDocumentTransformerContext context, CancellationToken cancellationToken)
    {
        var kinds = context.ApplicationServices.GetRequiredService<ConnectorKinds>();
        var choices = new List<IOpenApiSchema>();
        foreach (var kind in kinds.All)
        {
            var schema = await context.GetOrCreateSchemaAsync(kind.SettingsType, parameterDescription: null, cancellationToken);
            schema.Description = $"The settings of a \"{kind.Name}\" connector (kind \"{kind.Name}\").";
            var id = kind.SettingsType.Name;
            document.AddComponent<IOpenApiSchema>(id, schema);
            choices.Add(new OpenApiSchemaReference(id, document));
        }

        foreach (var carrier in Carriers)
        {
            if (document.Components?.Schemas is { } schemas && schemas.TryGetValue(carrier, out var found)
                && found is OpenApiSchema { Properties: { } properties } && properties.ContainsKey(SettingsProperty))
            {
                properties[SettingsProperty] = new OpenApiSchema
                {
                    Description = $"The settings object of the connector's kind: {kinds.Choices()}. Never a secret.",
                    OneOf = choices,
                };
            }
        }
    }
}
