using System.Security.Cryptography.X509Certificates;
using IdentityHub.Saml.Metadata;

namespace IdentityHub.Server.Saml;

public static class SamlSetup
{
    public static void AddIdentityHubSaml(this WebApplicationBuilder builder)
    {
        var services = builder.Services;
        services.AddSingleton(SamlSettings.From(builder.Configuration));
        services.AddSingleton<SamlSigningCertificate>();
        services.AddScoped<SamlReplayCache>();
        services.AddScoped<SamlLoginIssuer>();
        services.AddScoped<SamlFrontChannelLogout>();
    }

    public static void MapIdentityHubSaml(this IEndpointRouteBuilder endpoints)
    {
        endpoints.MapGet(SamlIdpEndpoints.MetadataPath, MetadataAsync);
        endpoints.MapSamlSso();
        endpoints.MapSamlSlo();
    }

    /// <summary>Metadata §2.4.3: the IdP's EntityDescriptor with the certificate that signs.</summary>
    private static async Task<IResult> MetadataAsync(HttpContext context, SamlSigningCertificate signing, SamlSettings settings)
    {
        var idp = SamlIdpEndpoints.Of(context, settings);
        var certificate = await signing.GetAsync(context.RequestAborted);
        using var publicOnly = X509CertificateLoader.LoadCertificate(certificate.RawData);
        var document = IdpMetadata.Build(idp.EntityId, idp.SingleSignOn, idp.SingleLogout, [publicOnly], settings.RequireSignedAuthnRequests);
        return Results.Content(document.OuterXml, "application/samlmetadata+xml; charset=utf-8");
    }
}
