using ComplianceConsole.Core.Auditing;
using ComplianceConsole.Data;
using ComplianceConsole.Data.Capture;
using ComplianceConsole.Data.Domain;

// A second process for the cross-process concurrency test: ConcurrentWriter <sqlite file> <writes> <actor>.
// Each write is one SaveChanges of a new customer named "<actor>-<i>", attributed to <actor>.
var (file, writes, actorName) = (args[0], int.Parse(args[1]), args[2]);
var settings = new DatabaseSettings(DatabaseProvider.Sqlite, $"Data Source={file};Default Timeout=60");
var accessor = new AuditContextAccessor(new AuditContext(new AuditActor(actorName, actorName, ["Operator"]), "test:concurrent-writer", Guid.NewGuid().ToString("N")));
for (var i = 0; i < writes; i++)
{
    await using var db = ConsoleDbContextFactory.Create(settings, b => b.UseAuditTrail(accessor));
    db.Customers.Add(new Customer { Name = $"{actorName}-{i}", Email = $"{actorName}{i}@example.test", CreatedAt = DateTimeOffset.UtcNow });
    await db.SaveChangesAsync();
}
