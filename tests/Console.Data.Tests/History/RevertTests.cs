using ComplianceConsole.Core.Auditing;
using ComplianceConsole.Data.Capture;
using ComplianceConsole.Data.Domain;
using ComplianceConsole.Data.History;
using ComplianceConsole.Data.Queries;
using ComplianceConsole.Data.Tests.Queries;
using Microsoft.EntityFrameworkCore;

namespace ComplianceConsole.Data.Tests.History;

/// <summary>A revert restores exactly the version asked for, as an ordinary audited change; or refuses, saying why, and changes nothing.</summary>
public abstract class RevertTests
{
    protected abstract Task<TestDatabase> CreateStoreAsync();

    private static readonly AuditOptions Options = new();
    private static readonly RecordHistoryQuery History = new(new AuditSearchService(new AuditVocabulary(), TimeProvider.System));
    private static readonly RecordReverter Reverter = new(History, Options);

    /// <summary>The Admin reverting: what the history page attributes a revert to.</summary>
    private static readonly AuditContext Admin = new(new AuditActor("u-admin", "admin@example.test", ["Admin"]), AuditContext.RevertOrigin, "corr-revert", "10.0.0.9", "Chromium");

    private static RecordRef Customer(int id) => new("Customers", $"{{\"Id\":{id}}}");

    private static async Task<(int Id, List<long> Versions)> EditedCustomerAsync(TestDatabase store, string? taxId = "DE1")
    {
        await using var db = store.Audited();
        var customer = QueryTestData.NewCustomer("Version One");
        customer.TaxId = taxId;
        db.Customers.Add(customer);
        await db.SaveChangesAsync();
        customer.Name = "Version Two";
        customer.Risk = RiskRating.High;
        await db.SaveChangesAsync();
        customer.Address.City = "Version Three City";
        customer.Email = "three@example.test";
        await db.SaveChangesAsync();
        var versions = await db.AuditEntries.Where(e => e.TableName == "Customers" && e.RecordKey == Customer(customer.Id).Key).OrderBy(e => e.Seq).Select(e => e.Seq).ToListAsync();
        return (customer.Id, versions);
    }

    private static async Task AssertCleanAsync(TestDatabase store)
    {
        await using var db = store.Unaudited();
        var report = await Reconciler.RunAsync(db, Options);
        Assert.True(report.Clean, string.Join("\n", report.Mismatches.Select(m => m.Describe())));
        var chain = await db.VerifyAuditChainAsync();
        Assert.True(chain.IsValid, chain.Describe());
    }

    [ProviderFact]
    public async Task A_record_restored_to_an_earlier_version_is_an_audited_change_with_its_reason_and_the_version_it_restored()
    {
        await using var store = await CreateStoreAsync();
        var (id, versions) = await EditedCustomerAsync(store);
        RevertPlan plan;
        await using (var db = store.Unaudited())
        {
            plan = await Reverter.PlanAsync(db, Customer(id), versions[0]);
            var step = Assert.Single(plan.Steps);
            Assert.True(plan.CanApply, string.Join(" ", plan.Refusals));
            Assert.Equal(["Address_City", "Email", "Name", "Risk"], step.Columns.Order(StringComparer.Ordinal));
        }

        await using (var db = store.Audited(Admin))
        {
            Assert.False((await Reverter.ApplyAsync(db, plan, "  ")).Done); // a reason is required
            var result = await Reverter.ApplyAsync(db, plan, "Renamed by mistake");
            Assert.True(result.Done, result.Message);
            var customer = await db.Customers.AsNoTracking().SingleAsync(c => c.Id == id);
            Assert.Equal(("Version One", RiskRating.Low, "Dublin", "version.one@example.test", "DE1"), (customer.Name, customer.Risk, customer.Address.City, customer.Email, customer.TaxId));
        }

        await using (var db = store.Unaudited())
        {
            var revert = await db.AuditEntries.AsNoTracking().Where(e => e.TableName == "Customers").OrderByDescending(e => e.Seq).FirstAsync();
            Assert.Equal((AuditOperations.Update, AuditContext.RevertOrigin, "admin@example.test"), (revert.Operation, revert.Origin, revert.ActorName));
            var recorded = await db.AuditEntries.AsNoTracking().SingleAsync(e => e.EventName == AuditEventNames.RecordReverted);
            Assert.Equal(revert.TransactionId, recorded.TransactionId);
            var metadata = EventSummary.Metadata(recorded.Metadata);
            Assert.Equal("Renamed by mistake", metadata["reason"]);
            Assert.Equal(versions[0].ToString(System.Globalization.CultureInfo.InvariantCulture), metadata["restoredSeq"]);

            // The revert shows in the timeline, with its reason.
            var page = await History.TimelineAsync(db, Customer(id), []);
            Assert.Equal(revert.Seq, page.Items[0].Entry.Seq);
            Assert.Equal("Renamed by mistake", page.Items[0].Revert?.Reason);
            Assert.Equal(versions[0], page.Items[0].Revert?.RestoredSeq);
        }

        await AssertCleanAsync(store);
    }

    [ProviderFact]
    public async Task Chosen_columns_only_and_an_undelete_where_the_key_and_the_trail_allow_it()
    {
        await using var store = await CreateStoreAsync();
        var (id, versions) = await EditedCustomerAsync(store, taxId: null);
        await using (var db = store.Audited(Admin))
        {
            var plan = await Reverter.PlanAsync(db, Customer(id), versions[0], ["Name"]);
            Assert.True((await Reverter.ApplyAsync(db, plan, "Only the name")).Done);
            var customer = await db.Customers.AsNoTracking().SingleAsync(c => c.Id == id);
            Assert.Equal(("Version One", RiskRating.High, "Version Three City"), (customer.Name, customer.Risk, customer.Address.City));
        }

        long deleteSeq;
        await using (var db = store.Audited())
        {
            db.Customers.Remove(await db.Customers.SingleAsync(c => c.Id == id));
            await db.SaveChangesAsync();
            deleteSeq = await db.AuditEntries.MaxAsync(e => e.Seq);
        }

        await using (var db = store.Audited(Admin))
        {
            var before = await db.AuditEntries.Where(e => e.TableName == "Customers" && e.RecordKey == Customer(id).Key && e.Seq < deleteSeq).MaxAsync(e => e.Seq);
            var plan = await Reverter.PlanAsync(db, Customer(id), before);
            Assert.True(plan.Steps[0].Undelete);
            var result = await Reverter.ApplyAsync(db, plan, "Deleted the wrong customer");
            Assert.True(result.Done, result.Message);
            var customer = await db.Customers.AsNoTracking().SingleAsync(c => c.Id == id);
            Assert.Equal(("Version One", "Version Three City"), (customer.Name, customer.Address.City));
            var insert = await db.AuditEntries.AsNoTracking().OrderByDescending(e => e.Seq).FirstAsync(e => e.TableName == "Customers");
            Assert.Equal((AuditOperations.Insert, AuditContext.RevertOrigin), (insert.Operation, insert.Origin));
        }

        await AssertCleanAsync(store);
    }

    [ProviderFact]
    public async Task It_refuses_when_the_record_changed_since_the_plan_a_chosen_column_is_redacted_or_a_constraint_would_break()
    {
        await using var store = await CreateStoreAsync();
        var (id, versions) = await EditedCustomerAsync(store);
        async Task<long> HeadAsync()
        {
            await using var db = store.Unaudited();
            return await db.AuditEntries.MaxAsync(e => e.Seq);
        }

        // Changed since the page was opened.
        RevertPlan stale;
        await using (var db = store.Unaudited())
        {
            stale = await Reverter.PlanAsync(db, Customer(id), versions[0]);
        }

        await using (var db = store.Audited())
        {
            var customer = await db.Customers.SingleAsync(c => c.Id == id);
            customer.Name = "Changed meanwhile";
            await db.SaveChangesAsync();
        }

        var head = await HeadAsync();
        await using (var db = store.Audited(Admin))
        {
            var result = await Reverter.ApplyAsync(db, stale, "too late");
            Assert.False(result.Done);
            Assert.Contains("changed since this page was opened", result.Message);
            Assert.Equal("Changed meanwhile", (await db.Customers.AsNoTracking().SingleAsync(c => c.Id == id)).Name);
        }

        Assert.Equal(head, await HeadAsync());

        // A redacted column: its old value is not in the trail. Chosen, it is refused; in a whole revert it is left as it is.
        await using (var db = store.Audited())
        {
            var customer = await db.Customers.SingleAsync(c => c.Id == id);
            customer.TaxId = "FR9";
            await db.SaveChangesAsync();
        }

        await using (var db = store.Unaudited())
        {
            var chosen = await Reverter.PlanAsync(db, Customer(id), versions[0], ["TaxId"]);
            Assert.Contains(chosen.Refusals, r => r.Contains("TaxId is redacted", StringComparison.Ordinal));
            var whole = await Reverter.PlanAsync(db, Customer(id), versions[0]);
            Assert.True(whole.CanApply, string.Join(" ", whole.Refusals));
            Assert.Contains("TaxId", whole.Steps[0].LeftAsTheyAre);
            Assert.DoesNotContain("TaxId", whole.Steps[0].Columns);
        }

        // A constraint: a tag renamed, another tag takes its old name, and the first is reverted to it (names are unique).
        int tagId;
        await using (var db = store.Audited())
        {
            var tag = new Tag { Name = "kyc-pending" };
            db.Tags.Add(tag);
            await db.SaveChangesAsync();
            tag.Name = "kyc-done";
            await db.SaveChangesAsync();
            db.Tags.Add(new Tag { Name = "kyc-pending" });
            await db.SaveChangesAsync();
            tagId = tag.Id;
        }

        head = await HeadAsync();
        await using (var db = store.Audited(Admin))
        {
            var first = await db.AuditEntries.Where(e => e.TableName == "Tags" && e.RecordKey == $"{{\"Id\":{tagId}}}").MinAsync(e => e.Seq);
            var plan = await Reverter.PlanAsync(db, new RecordRef("Tags", $"{{\"Id\":{tagId}}}"), first);
            Assert.True(plan.CanApply);
            var result = await Reverter.ApplyAsync(db, plan, "back to pending");
            Assert.False(result.Done);
            Assert.Contains("constraint", result.Message);
            Assert.Equal("kyc-done", (await db.Tags.AsNoTracking().SingleAsync(t => t.Id == tagId)).Name);
        }

        Assert.Equal(head, await HeadAsync());
        await AssertCleanAsync(store);
    }

    [ProviderFact]
    public async Task It_refuses_a_version_whose_columns_are_not_the_tables_now()
    {
        await using var store = await CreateStoreAsync();
        int tagId;
        await using (var db = store.Audited())
        {
            var tag = new Tag { Name = "old-shape" };
            db.Tags.Add(tag);
            await db.SaveChangesAsync();
            tagId = tag.Id;
        }

        // A version written when the table had another shape: a Colour column, and no Name yet. (Sealed from the pending table, as the triggers of that schema would have written it.)
        await store.ExecuteRawAsync($$"""INSERT INTO AuditPending (TableName, Operation, RecordKey, OldValues, NewValues, ChangedColumns, CapturedAtUtc) VALUES ('Tags', 'update', '{"Id":{{tagId}}}', '{"Id":{{tagId}},"Name":"old-shape"}', '{"Id":{{tagId}},"Colour":"red"}', '["Colour"]', '2026-01-01 00:00:00')""");
        await using (var db = store.Unaudited())
        {
            await db.Database.SealOutOfBandAsync();
        }

        await using (var db = store.Audited())
        {
            var tag = await db.Tags.SingleAsync(t => t.Id == tagId);
            tag.Name = "new-shape";
            await db.SaveChangesAsync();
        }

        await using (var db = store.Unaudited())
        {
            var odd = await db.AuditEntries.Where(e => e.TableName == "Tags" && e.ChangedColumns == "[\"Colour\"]").Select(e => e.Seq).SingleAsync();
            var plan = await Reverter.PlanAsync(db, new RecordRef("Tags", $"{{\"Id\":{tagId}}}"), odd);
            Assert.False(plan.CanApply);
            Assert.Contains(plan.Refusals, r => r.Contains("shape changed", StringComparison.Ordinal) && r.Contains("Colour", StringComparison.Ordinal));
        }
    }

    [ProviderFact]
    public async Task A_whole_transaction_is_reverted_together_and_refused_when_a_record_changed_after_it()
    {
        await using var store = await CreateStoreAsync();
        int id;
        Guid documentId;
        await using (var db = store.Audited())
        {
            var customer = QueryTestData.NewCustomer("Before The Batch");
            customer.TaxId = null;
            db.Customers.Add(customer);
            var document = new KycDocument { Id = Guid.NewGuid(), Customer = customer, Title = "Passport", DocumentNumber = "P1" };
            db.Documents.Add(document);
            await db.SaveChangesAsync();
            (id, documentId) = (customer.Id, document.Id);
        }

        // One transaction: an update, an insert with its link row, a delete.
        string transactionId;
        await using (var db = store.Audited())
        {
            var customer = await db.Customers.Include(c => c.Tags).SingleAsync(c => c.Id == id);
            customer.Name = "After The Batch";
            customer.Tags.Add(new Tag { Name = "batch" });
            db.Documents.Remove(await db.Documents.SingleAsync(d => d.Id == documentId));
            await db.SaveChangesAsync();
            transactionId = (await db.AuditEntries.Where(e => e.TableName == "Customers").OrderByDescending(e => e.Seq).FirstAsync()).TransactionId!;
        }

        await using (var db = store.Audited(Admin))
        {
            var plan = await Reverter.PlanTransactionAsync(db, transactionId);
            Assert.Equal(4, plan.Steps.Count); // customer, tag, link, document
            Assert.True(plan.CanApply, string.Join(" ", plan.Refusals));
            var result = await Reverter.ApplyAsync(db, plan, "The batch ran against the wrong customer");
            Assert.True(result.Done, result.Message);
        }

        await using (var db = store.Unaudited())
        {
            var customer = await db.Customers.Include(c => c.Tags).AsNoTracking().SingleAsync(c => c.Id == id);
            Assert.Equal("Before The Batch", customer.Name);
            Assert.Empty(customer.Tags);
            Assert.False(await db.Tags.AnyAsync(t => t.Name == "batch"));
            Assert.Equal("P1", (await db.Documents.OfType<KycDocument>().AsNoTracking().SingleAsync(d => d.Id == documentId)).DocumentNumber);
            var recorded = await db.AuditEntries.AsNoTracking().SingleAsync(e => e.EventName == AuditEventNames.RecordReverted);
            Assert.Equal(transactionId, EventSummary.Metadata(recorded.Metadata)["transaction"]);
        }

        await AssertCleanAsync(store);

        // Reverting it twice: the records changed after it (by the revert), so it is refused.
        await using (var db = store.Unaudited())
        {
            var again = await Reverter.PlanTransactionAsync(db, transactionId);
            Assert.False(again.CanApply);
            Assert.Contains(again.Refusals, r => r.Contains("changed after this transaction", StringComparison.Ordinal));
        }
    }
}

public sealed class SqliteRevertTests : RevertTests
{
    protected override async Task<TestDatabase> CreateStoreAsync() => await SqliteTestDatabase.CreateAsync();
}

[RequiresSqlServer]
public sealed class SqlServerRevertTests : RevertTests
{
    protected override async Task<TestDatabase> CreateStoreAsync() => await SqlServerTestDatabase.CreateAsync();
}
