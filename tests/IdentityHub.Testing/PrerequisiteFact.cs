using Xunit;
using Xunit.Abstractions;
using Xunit.Sdk;

namespace IdentityHub.Testing;

/// <summary>Marks a test class or method as needing something the machine may lack.</summary>
[AttributeUsage(AttributeTargets.Class | AttributeTargets.Method, AllowMultiple = true, Inherited = true)]
public sealed class RequiresAttribute(Prerequisite prerequisite) : Attribute
{
    public Prerequisite Prerequisite { get; } = prerequisite;
}

/// <summary>
/// A fact that honours <see cref="RequiresAttribute"/> on its method or its (derived) class: outside
/// strict mode a missing prerequisite skips it with the reason; in strict mode it runs and fails.
/// </summary>
[XunitTestCaseDiscoverer("IdentityHub.Testing.PrerequisiteFactDiscoverer", "IdentityHub.Testing")]
[AttributeUsage(AttributeTargets.Method)]
public sealed class PrerequisiteFactAttribute : FactAttribute;

public sealed class PrerequisiteFactDiscoverer(IMessageSink diagnosticMessageSink) : FactDiscoverer(diagnosticMessageSink)
{
    private readonly IMessageSink _sink = diagnosticMessageSink;

    public override IEnumerable<IXunitTestCase> Discover(
        ITestFrameworkDiscoveryOptions discoveryOptions, ITestMethod testMethod, IAttributeInfo factAttribute)
    {
        var reason = TestEnvironment.Strict ? null : FindMissing(testMethod);
        if (reason is null)
        {
            return base.Discover(discoveryOptions, testMethod, factAttribute);
        }

        return
        [
            new XunitSkippedDataRowTestCase(
                _sink, discoveryOptions.MethodDisplayOrDefault(), discoveryOptions.MethodDisplayOptionsOrDefault(), testMethod, reason),
        ];
    }

    internal static string? FindMissing(ITestMethod testMethod) =>
        testMethod.Method.GetCustomAttributes(typeof(RequiresAttribute))
            .Concat(testMethod.TestClass.Class.GetCustomAttributes(typeof(RequiresAttribute)))
            .Select(a => TestEnvironment.MissingReason(a.GetNamedArgument<Prerequisite>(nameof(RequiresAttribute.Prerequisite))))
            .FirstOrDefault(reason => reason is not null);
}

