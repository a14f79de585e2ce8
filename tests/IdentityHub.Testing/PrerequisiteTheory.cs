using Xunit;
using Xunit.Abstractions;
using Xunit.Sdk;

namespace IdentityHub.Testing;

/// <summary>
/// A theory (cases that differ only in data) that honours <see cref="RequiresAttribute"/> like
/// <see cref="PrerequisiteFactAttribute"/>: outside strict mode a missing prerequisite skips it with the reason.
/// </summary>
[XunitTestCaseDiscoverer("IdentityHub.Testing.PrerequisiteTheoryDiscoverer", "IdentityHub.Testing")]
[AttributeUsage(AttributeTargets.Method)]
public sealed class PrerequisiteTheoryAttribute : TheoryAttribute;

public sealed class PrerequisiteTheoryDiscoverer(IMessageSink diagnosticMessageSink) : TheoryDiscoverer(diagnosticMessageSink)
{
    private readonly IMessageSink _sink = diagnosticMessageSink;

    public override IEnumerable<IXunitTestCase> Discover(
        ITestFrameworkDiscoveryOptions discoveryOptions, ITestMethod testMethod, IAttributeInfo theoryAttribute)
    {
        var reason = TestEnvironment.Strict ? null : PrerequisiteFactDiscoverer.FindMissing(testMethod);
        if (reason is null)
        {
            return base.Discover(discoveryOptions, testMethod, theoryAttribute);
        }

        return
        [
            new XunitSkippedDataRowTestCase(
                _sink, discoveryOptions.MethodDisplayOrDefault(), discoveryOptions.MethodDisplayOptionsOrDefault(), testMethod, reason),
        ];
    }
}
