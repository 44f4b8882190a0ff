using System.Text.Json;
using ComplianceConsole.Core.Auditing;
using ComplianceConsole.Data.Capture;
using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore;

namespace ComplianceConsole.Data.Tests;

/// <summary>Another team's context, unrelated to the console's, audited through the documented opt-in.</summary>
public sealed class OptInTests
{
    public sealed class Invoice
    {
        public int Id { get; set; }
        public string Number { get; set; } = "";

        [AuditRedact]
        public string? Iban { get; set; }
    }

    public sealed class BillingContext(DbContextOptions<BillingContext> options) : DbContext(options)
    {
        public DbSet<Invoice> Invoices => Set<Invoice>();
    }

    [Fact]
    public async Task Any_context_that_calls_UseAuditTrail_is_captured_chained_and_attributed()
    {
        var file = Path.Combine(Path.GetTempPath(), $"cc-optin-{Guid.NewGuid():N}.db");
        var accessor = new AuditContextAccessor(AuditContext.ForJob("invoice-import"));
        var options = new DbContextOptionsBuilder<BillingContext>().UseSqlite($"Data Source={file}").UseAuditTrail(accessor).Options;
        try
        {
            await using (var db = new BillingContext(options))
            {
                await db.Database.EnsureCreatedAsync(); // their own schema; the audit store comes with the model
                await db.Database.InstallAuditCaptureAsync(new AuditOptions());
                db.Invoices.Add(new Invoice { Number = "INV-1", Iban = "DE00 SECRET" });
                await db.SaveChangesAsync();
                await db.Invoices.ExecuteUpdateAsync(s => s.SetProperty(i => i.Number, "INV-1b"));
            }

            await using (var db = new BillingContext(options))
            {
                var entries = await db.Set<AuditEntry>().Where(e => e.TableName == "Invoices").OrderBy(e => e.Seq).ToListAsync();
                Assert.Equal([AuditOperations.Insert, AuditOperations.Update], entries.Select(e => e.Operation));
                Assert.All(entries, e => Assert.Equal("system:invoice-import", e.ActorId));
                Assert.All(entries, e => Assert.Equal("job:invoice-import", e.Origin));
                Assert.Equal(AuditRedaction.Placeholder, JsonDocument.Parse(entries[0].NewValues!).RootElement.GetProperty("Iban").GetString());
                var report = await db.VerifyAuditChainAsync();
                Assert.True(report.IsValid, report.Describe());
            }
        }
        finally
        {
            SqliteConnection.ClearAllPools();
            File.Delete(file);
        }
    }
}
