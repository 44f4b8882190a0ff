using ComplianceConsole.Core.Auditing;
using ComplianceConsole.Data.Domain;

namespace ComplianceConsole.Data.Tests.Queries;

/// <summary>The people, clock and records the read-side tests write with.</summary>
internal static class QueryTestData
{
    public static readonly AuditContext Bob = new(new AuditActor("u-bob", "Bob.Builder@example.test", ["Operator"]), "page:/customers/1", "corr-bob", "10.0.0.2", "Chrome");

    public static Customer NewCustomer(string name) => new()
    {
        Name = name, Email = name.Replace(' ', '.').ToLowerInvariant() + "@example.test", Risk = RiskRating.Low, TaxId = "DE1",
        CreatedAt = DateTimeOffset.UnixEpoch, Address = new Address { Street = "1 Harbour Road", City = "Dublin", PostalCode = "D02", Country = "IE" },
    };
}

/// <summary>A clock the test moves by hand, so that entries fall in known hours.</summary>
internal sealed class TestClock(DateTimeOffset now) : TimeProvider
{
    public DateTimeOffset Now { get; set; } = now;

    public override DateTimeOffset GetUtcNow() => Now;
}
