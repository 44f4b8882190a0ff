using Xunit.Abstractions;
using Xunit.Sdk;

namespace ComplianceConsole.Data.Tests;

/// <summary>Marks a test class whose tests need the SQL Server named by <see cref="SqlServerTestDatabase.EnvironmentVariable"/>.</summary>
[AttributeUsage(AttributeTargets.Class)]
public sealed class RequiresSqlServerAttribute : Attribute;

/// <summary>
/// A fact of the shared data tests, which run once per provider. In a class marked
/// <see cref="RequiresSqlServerAttribute"/> it is reported as skipped, with the reason, when no SQL Server is
/// configured: never silently passed.
/// </summary>
[XunitTestCaseDiscoverer("ComplianceConsole.Data.Tests.ProviderFactDiscoverer", "ComplianceConsole.Data.Tests")]
[AttributeUsage(AttributeTargets.Method)]
public sealed class ProviderFactAttribute : FactAttribute;

public sealed class ProviderFactDiscoverer(IMessageSink diagnosticMessageSink) : FactDiscoverer(diagnosticMessageSink)
{
    protected override IXunitTestCase CreateTestCase(ITestFrameworkDiscoveryOptions discoveryOptions, ITestMethod testMethod, IAttributeInfo factAttribute)
    {
        var needsSqlServer = testMethod.TestClass.Class.GetCustomAttributes(typeof(RequiresSqlServerAttribute)).Any();
        if (needsSqlServer && SqlServerTestDatabase.ServerConnectionString is null)
        {
            return new XunitSkippedDataRowTestCase(DiagnosticMessageSink, discoveryOptions.MethodDisplayOrDefault(), discoveryOptions.MethodDisplayOptionsOrDefault(), testMethod,
                $"No SQL Server: set {SqlServerTestDatabase.EnvironmentVariable} to a connection string whose login may create databases, to run this test against SQL Server.");
        }

        return base.CreateTestCase(discoveryOptions, testMethod, factAttribute);
    }
}
