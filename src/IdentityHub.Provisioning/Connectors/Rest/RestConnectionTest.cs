using System.Diagnostics;
using IdentityHub.Data.Provisioning;

namespace IdentityHub.Provisioning.Connectors.Rest;

/// <summary>
/// "Test connection" for REST: authenticates as a delivery would (signature, token, key) and calls the list operation for
/// one user, or getUser for an employee number nobody has; the answer is read through the response mapping. Nothing is written.
/// </summary>
public sealed class RestConnectionTest(RestCompiler compiler, RestTransport transport) : IConnectionTest
{
    private const string ProbeEmployeeNumber = "identityhub-connection-test";

    public ConnectorKind Kind => ConnectorKind.Rest;

    public async Task<ConnectionTestResult> TestAsync(Connector connector, string? secret, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(connector);
        var compiled = compiler.Compile(connector.Settings);
        if (!compiled.IsValid)
        {
            return new ConnectionTestResult(ConnectionTestResult.Failed, compiled.DescribeErrors(), null, 0);
        }

        var (operation, model) = compiled.Operation(RestOperationNames.ListUsers) is { } list
            ? (list, RestTemplateModel.ForPage(compiled.Settings.Operations.ListUsers!.FirstPage, 1, null))
            : (compiled.Operation(RestOperationNames.GetUser), RestTemplateModel.ForProbe(ProbeEmployeeNumber));
        if (operation is null)
        {
            return new ConnectionTestResult(ConnectionTestResult.NotAvailable,
                "A test connection calls listUsers (or getUser), and this connector has neither: deliveries show whether the vendor accepts them.", null, 0);
        }

        RestRequest request;
        try
        {
            request = compiled.Render(operation, model);
        }
        catch (RestTemplateException failure)
        {
            return new ConnectionTestResult(ConnectionTestResult.Failed, $"settings.{failure.Field}: {failure.Message}", null, 0, operation.Name);
        }

        var started = Stopwatch.GetTimestamp();
        int Elapsed() => (int)Stopwatch.GetElapsedTime(started).TotalMilliseconds;
        try
        {
            var verdict = await transport.SendAsync(compiled, connector.Id, request, secret, cancellationToken);
            // For getUser, "no such employee" proves the call was authenticated and understood.
            var succeeded = verdict.Kind == RestVerdictKind.Success || (verdict.Kind == RestVerdictKind.NotFound && request.Operation == RestOperationNames.GetUser);
            return new ConnectionTestResult(succeeded ? ConnectionTestResult.Succeeded : ConnectionTestResult.Failed, verdict.Describe(request), verdict.Status, Elapsed(),
                request.Operation);
        }
        catch (ConnectorCallException failure)
        {
            return new ConnectionTestResult(ConnectionTestResult.Failed, ConnectionTestResult.Describe(failure), null, Elapsed(), request.Operation);
        }
    }
}
