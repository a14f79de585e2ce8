using Microsoft.OpenApi;
using Scalar.AspNetCore;

namespace IdentityHub.Server.AdminApi;

/// <summary>The admin API described as OpenAPI, and the Scalar reference UI that renders it at <see cref="BasePath"/>.</summary>
public static class ApiDocs
{
    public const string BasePath = "/api/docs";
    public const string DocumentName = "v1";
    public const string DocumentPattern = BasePath + "/openapi/{documentName}.json";
    private const string BearerScheme = "bearer";

    /// <summary>The sidebar footer's "Powered by Scalar" link points at scalar.com with a powered-by campaign.</summary>
    public const string PoweredByHidden = ".darklight-reference a[href*=\"utm_source=powered-by\"], a[href^=\"https://scalar.com/?utm_source=powered-by\"] { display: none !important; }";

    public static void AddIdentityHubApiDocs(this IServiceCollection services) =>
        services.AddOpenApi(DocumentName, options =>
        {
            // The document describes the admin API only: the protocol endpoints have their own specs (discovery).
            options.ShouldInclude = description =>
                ("/" + description.RelativePath).StartsWith(AdminApiSetup.BasePath + "/", StringComparison.OrdinalIgnoreCase)
                || ("/" + description.RelativePath).Equals(AdminApiSetup.BasePath, StringComparison.OrdinalIgnoreCase);
            options.AddDocumentTransformer((document, _, _) =>
            {
                document.Info = new OpenApiInfo
                {
                    Title = "IdentityHub admin API",
                    Version = DocumentName,
                    Description = "Users, departments, applications, permissions, roles, assignments, separation of duty and audit. "
                        + "Authenticate with an IdentityHub bearer token (scope identityhub.admin) or the console cookie.",
                };
                // Automation calls with an IdentityHub access token (client credentials, scope identityhub.admin).
                document.Components ??= new OpenApiComponents();
                document.Components.SecuritySchemes ??= new Dictionary<string, IOpenApiSecurityScheme>();
                document.Components.SecuritySchemes[BearerScheme] = new OpenApiSecurityScheme
                {
                    Type = SecuritySchemeType.Http,
                    Scheme = "bearer",
                    BearerFormat = "JWT",
                    Description = "An access token from /connect/token with scope identityhub.admin.",
                };
                document.Security = [new OpenApiSecurityRequirement { [new OpenApiSecuritySchemeReference(BearerScheme, document)] = [] }];
                return Task.CompletedTask;
            });
            options.AddDocumentTransformer(ConnectorSettingsSchemas.TransformAsync);
        });

    public static void MapIdentityHubApiDocs(this IEndpointRouteBuilder endpoints)
    {
        endpoints.MapOpenApi(DocumentPattern).AllowAnonymous();
        endpoints.MapScalarApiReference(BasePath, Configure).AllowAnonymous().WithSecurityHeadersPolicy(Hosting.SecurityHeadersSetup.ApiDocsPolicy);
    }

    /// <summary>
    /// The reference without the docs tool's own business: no document download button, no "client" button, no developer
    /// tools toolbar (configure, share, deploy), no AI agent or MCP offers, no telemetry or fonts from its CDN, and no
    /// "Powered by" link (which has no option of its own, so a rule of the custom CSS hides it).
    /// </summary>
    public static void Configure(ScalarOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        options
            .WithTitle("IdentityHub admin API")
            .WithOpenApiRoutePattern(DocumentPattern)
            .HideDocumentDownload()
            .HideClientButton()
            .HideDeveloperTools()
            .DisableAgent()
            .DisableMcp()
            .DisableTelemetry()
            .DisableDefaultFonts()
            .WithCustomCss(PoweredByHidden);
    }
}
