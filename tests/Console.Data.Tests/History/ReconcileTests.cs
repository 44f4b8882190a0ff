using ComplianceConsole.Core.Auditing;
using ComplianceConsole.Data.Capture;
using ComplianceConsole.Data.Domain;
using ComplianceConsole.Data.History;
using ComplianceConsole.Data.Queries;
using ComplianceConsole.Data.Tests.Queries;
using Microsoft.EntityFrameworkCore;

namespace ComplianceConsole.Data.Tests.History;

/// <summary>Reconciliation finds every change that bypassed capture, and nothing on a clean database; the baseline makes rows older than capture count.</summary>
public abstract class ReconcileTests
{
    protected abstract Task<TestDatabase> CreateStoreAsync();

    protected abstract Task<TestDatabase> CreateUncapturedStoreAsync();

    private static readonly RecordHistoryQuery History = new(new AuditSearchService(new AuditVocabulary(), TimeProvider.System));

    private static async Task<(int First, int Second, int Third)> ThreeCustomersAsync(TestDatabase store)
    {
        await using var db = store.Audited();
        var customers = new[] { QueryTestData.NewCustomer("First"), QueryTestData.NewCustomer("Second"), QueryTestData.NewCustomer("Third") };
        customers[0].Tags.Add(new Tag { Name = "t1" });
        db.Customers.AddRange(customers);
        await db.SaveChangesAsync();
        customers[1].Name = "Second, renamed";
        await db.SaveChangesAsync();
        return (customers[0].Id, customers[1].Id, customers[2].Id);
    }

    [ProviderFact]
    public async Task It_finds_a_row_changed_one_inserted_and_one_deleted_without_capture_and_the_chain_cannot_tell()
    {
        await using var store = await CreateStoreAsync();
        var (first, second, third) = await ThreeCustomersAsync(store);
        await using (var db = store.Unaudited())
        {
            var clean = await Reconciler.RunAsync(db, new AuditOptions());
            Assert.True(clean.Clean, string.Join("\n", clean.Mismatches.Select(m => m.Describe())));
            Assert.Equal(3, clean.Tables.Single(t => t.Table == "Customers").Rows);
        }

        await store.BypassCaptureAsync("Customers", $"UPDATE Customers SET Name = 'Mallory', Risk = 'High' WHERE Id = {second}");
        await store.BypassCaptureAsync("Customers", $"DELETE FROM CustomerTags WHERE CustomersId = {third}; DELETE FROM Customers WHERE Id = {third}");
        await store.BypassCaptureAsync("Tags", "INSERT INTO Tags (Name) VALUES ('planted')");

        await using (var db = store.Unaudited())
        {
            // The chain is whole: the changes simply never reached it.
            var chain = await db.VerifyAuditChainAsync();
            Assert.True(chain.IsValid, chain.Describe());

            var report = await Reconciler.RunAsync(db, new AuditOptions());
            Assert.Equal(3, report.MismatchCount);
            var changed = Assert.Single(report.Mismatches, m => m.Kind == MismatchKind.Differs);
            Assert.Equal(("Customers", $"{{\"Id\":{second}}}"), (changed.Table, changed.Key));
            Assert.Equal(["Name", "Risk"], changed.Columns.Order(StringComparer.Ordinal));
            var missing = Assert.Single(report.Mismatches, m => m.Kind == MismatchKind.Missing);
            Assert.Equal(("Customers", $"{{\"Id\":{third}}}"), (missing.Table, missing.Key));
            var untracked = Assert.Single(report.Mismatches, m => m.Kind == MismatchKind.Untracked);
            Assert.Equal("Tags", untracked.Table);
            Assert.Contains("no record of it", untracked.Describe());

            // One table only: only its mismatches.
            var tags = await Reconciler.RunAsync(db, new AuditOptions(), "tags");
            Assert.Equal(["Tags"], tags.Tables.Select(t => t.Table));
            Assert.Equal(1, tags.MismatchCount);
            await Assert.ThrowsAsync<ArgumentException>(() => Reconciler.RunAsync(db, new AuditOptions(), "NoSuchTable"));

            // The outcome is an event of the chain, a failure until a clean run follows.
            await Reconciler.RecordAsync(db.Database, report, AuditContext.ForJob("reconcile"));
            var recorded = await db.AuditEntries.AsNoTracking().OrderByDescending(e => e.Seq).FirstAsync();
            Assert.Equal(AuditEventNames.ReconcileMismatch, recorded.EventName);
            Assert.True(AuditEventNames.IsFailure(recorded.EventName));
            Assert.Contains("\"mismatches\":\"3\"", recorded.Metadata);
        }

        // A verifier never writes: the reconciliation itself left no entry (only RecordAsync did).
        await using (var db = store.Unaudited())
        {
            var head = await db.AuditEntries.MaxAsync(e => e.Seq);
            await Reconciler.RunAsync(db, new AuditOptions());
            Assert.Equal(head, await db.AuditEntries.MaxAsync(e => e.Seq));
        }
    }

    [ProviderFact]
    public async Task Rows_older_than_capture_are_recorded_as_its_baseline_once_and_a_trigger_put_back_does_not_hide_what_it_missed()
    {
        await using var store = await CreateUncapturedStoreAsync();
        await using (var db = store.Unaudited())
        {
            var customer = QueryTestData.NewCustomer("Before Capture");
            customer.Tags.Add(new Tag { Name = "legacy" });
            db.Customers.Add(customer);
            db.Customers.Add(QueryTestData.NewCustomer("Also Before"));
            await db.SaveChangesAsync();
        }

        await using (var db = store.Unaudited())
        {
            await db.Database.InstallAuditCaptureAsync(new AuditOptions());
            var baseline = await db.AuditEntries.AsNoTracking().Where(e => e.EventName == AuditEventNames.CaptureBaseline).ToListAsync();
            Assert.Equal(["CustomerTags", "Customers", "Customers", "Tags"], baseline.Select(e => e.TableName!).Order(StringComparer.Ordinal));
            Assert.All(baseline, e => Assert.Equal("system:capture-install", e.ActorId));
            var completed = await db.AuditEntries.AsNoTracking().Where(e => e.EventName == AuditEventNames.CaptureBaselineCompleted).Select(e => e.Target).ToListAsync();
            Assert.Equal(["CustomerTags", "Customers", "Tags"], completed.Order(StringComparer.Ordinal));

            var report = await Reconciler.RunAsync(db, new AuditOptions());
            Assert.True(report.Clean, string.Join("\n", report.Mismatches.Select(m => m.Describe())));
            var chain = await db.VerifyAuditChainAsync();
            Assert.True(chain.IsValid, chain.Describe());
        }

        // A change after capture began replays on top of the baseline.
        await using (var db = store.Audited())
        {
            var customer = await db.Customers.SingleAsync(c => c.Name == "Before Capture");
            customer.Address.City = "Galway";
            await db.SaveChangesAsync();
            var state = await History.StateAtAsync(db, new RecordRef("Customers", $"{{\"Id\":{customer.Id}}}"), long.MaxValue);
            RecordHistoryTests.AssertSame(state, (await RecordHistoryTests.LiveAsync(db, "Customers"))[$"{{\"Id\":{customer.Id}}}"], "after the baseline");
            Assert.Equal("Before Capture", state["Name"]!.Value.GetString()); // known from the baseline only
        }

        // A second start-up takes no second baseline; a trigger dropped and restored does not either.
        await store.BypassCaptureAsync("Tags", "INSERT INTO Tags (Name) VALUES ('while-unwatched')");
        await using (var db = store.Unaudited())
        {
            await store.ExecuteRawAsync(db.Database.IsSqlite() ? "DROP TRIGGER audit_capture_Tags_insert" : "DROP TRIGGER [audit_capture_Tags]");
            var before = await db.AuditEntries.CountAsync(e => e.EventName == AuditEventNames.CaptureBaseline);
            await db.Database.InstallAuditCaptureAsync(new AuditOptions());
            Assert.Equal(before, await db.AuditEntries.CountAsync(e => e.EventName == AuditEventNames.CaptureBaseline));
            Assert.True(await db.AuditEntries.AnyAsync(e => e.EventName == AuditEventNames.CaptureRestored));
            var report = await Reconciler.RunAsync(db, new AuditOptions());
            var untracked = Assert.Single(report.Mismatches);
            Assert.Equal((MismatchKind.Untracked, "Tags"), (untracked.Kind, untracked.Table));
        }
    }

    [ProviderFact]
    public async Task A_large_tables_baseline_is_taken_in_chunks_and_rows_await_it_rather_than_mismatch()
    {
        await using var store = await CreateUncapturedStoreAsync();
        await using (var db = store.Unaudited())
        {
            for (var i = 0; i < 7; i++)
            {
                db.Tags.Add(new Tag { Name = $"old-{i}" });
            }

            await db.SaveChangesAsync();
        }

        var options = new AuditOptions { BaselineInlineRows = 3 };
        await using (var db = store.Unaudited())
        {
            await db.Database.InstallAuditCaptureAsync(options);
            Assert.Equal(["Tags"], await AuditBaseline.OpenAsync(db.Database));
            Assert.Equal(0, await db.AuditEntries.CountAsync(e => e.EventName == AuditEventNames.CaptureBaseline));
            var waiting = await Reconciler.RunAsync(db, options);
            Assert.True(waiting.Clean);
            Assert.Equal(7, waiting.Tables.Single(t => t.Table == "Tags").AwaitingBaseline);
        }

        // Changed between the install and its chunk: the snapshot follows the change, and the replay is exact.
        await using (var db = store.Audited())
        {
            var tag = await db.Tags.SingleAsync(t => t.Name == "old-6");
            tag.Name = "old-6, renamed";
            await db.SaveChangesAsync();
        }

        await using (var db = store.Unaudited())
        {
            var chunks = 0;
            while (await AuditBaseline.OpenAsync(db.Database) is { Count: > 0 })
            {
                Assert.True(await AuditBaseline.ContinueAsync(db.Database, options, chunk: 2) <= 2);
                Assert.True(++chunks < 10, "the baseline never completed");
            }

            Assert.Equal(4, chunks); // 2 + 2 + 2 + 1
            Assert.Equal(7, await db.AuditEntries.CountAsync(e => e.EventName == AuditEventNames.CaptureBaseline));
            var report = await Reconciler.RunAsync(db, options);
            Assert.True(report.Clean, string.Join("\n", report.Mismatches.Select(m => m.Describe())));
            Assert.Equal(0, report.Tables.Single(t => t.Table == "Tags").AwaitingBaseline);
            foreach (var (key, live) in await RecordHistoryTests.LiveAsync(db, "Tags"))
            {
                RecordHistoryTests.AssertSame(await History.StateAtAsync(db, new RecordRef("Tags", key), long.MaxValue), live, key);
            }

            var chain = await db.VerifyAuditChainAsync();
            Assert.True(chain.IsValid, chain.Describe());
        }
    }
}

public sealed class SqliteReconcileTests : ReconcileTests
{
    protected override async Task<TestDatabase> CreateStoreAsync() => await SqliteTestDatabase.CreateAsync();

    protected override async Task<TestDatabase> CreateUncapturedStoreAsync() => await SqliteTestDatabase.CreateUncapturedAsync();
}

[RequiresSqlServer]
public sealed class SqlServerReconcileTests : ReconcileTests
{
    protected override async Task<TestDatabase> CreateStoreAsync() => await SqlServerTestDatabase.CreateAsync();

    protected override async Task<TestDatabase> CreateUncapturedStoreAsync() => await SqlServerTestDatabase.CreateUncapturedAsync();
}
