using System.Text.Json;
using ComplianceConsole.Core.Auditing;
using ComplianceConsole.Core.Diff;
using ComplianceConsole.Core.History;
using ComplianceConsole.Data.Capture;
using ComplianceConsole.Data.Domain;
using ComplianceConsole.Data.History;
using ComplianceConsole.Data.Queries;
using ComplianceConsole.Data.Tests.Queries;
using Microsoft.EntityFrameworkCore;

namespace ComplianceConsole.Data.Tests.History;

/// <summary>The state the trail rebuilds equals the live row, at the latest version and at every earlier one.</summary>
public abstract class RecordHistoryTests
{
    protected abstract Task<TestDatabase> CreateStoreAsync();

    private static readonly AuditContext Bob = QueryTestData.Bob;

    private static RecordHistoryQuery History() => new(new AuditSearchService(new AuditVocabulary(), TimeProvider.System));

    /// <summary>Every live row of a table as the capture triggers would write it: key JSON to values JSON.</summary>
    internal static async Task<Dictionary<string, string>> LiveAsync(DbContext db, string table)
    {
        var plan = AuditPolicyResolver.Resolve(db.Model, new AuditOptions()).Find(table)!;
        var sqlite = db.Database.IsSqlite();
        var (key, values) = sqlite ? SqliteAuditSql.RowJson(plan, "s") : SqlServerAuditSql.RowJson(plan, "s");
        var rows = new Dictionary<string, string>(StringComparer.Ordinal);
        await db.Database.OpenConnectionAsync();
        try
        {
            await using var command = db.Database.GetDbConnection().CreateCommand();
            command.CommandText = $"SELECT {key}, {values} FROM {(sqlite ? SqliteAuditSql.Quote(table) : SqlServerAuditSql.Quote(table))} AS s";
            await using var reader = await command.ExecuteReaderAsync();
            while (await reader.ReadAsync())
            {
                rows[reader.GetString(0)] = reader.GetString(1);
            }
        }
        finally
        {
            await db.Database.CloseConnectionAsync();
        }

        return rows;
    }

    /// <summary>The rebuilt state has every live column with the same value; a redacted column is only known to be set.</summary>
    internal static void AssertSame(RecordState state, string live, string what)
    {
        Assert.True(state.Exists, $"{what}: the trail says the record does not exist, but it does: {live}");
        using var doc = JsonDocument.Parse(live);
        foreach (var column in doc.RootElement.EnumerateObject())
        {
            var rebuilt = state[column.Name];
            Assert.True(rebuilt is not null, $"{what}: the trail has no value for {column.Name} (live: {column.Value.GetRawText()})");
            if (EntryDiff.IsRedacted(column.Value) || EntryDiff.IsRedacted(rebuilt))
            {
                Assert.True(EntryDiff.IsRedacted(column.Value) && EntryDiff.IsRedacted(rebuilt), $"{what}: {column.Name} is redacted on one side only: live {column.Value.GetRawText()}, rebuilt {rebuilt!.Value.GetRawText()}");
                continue;
            }

            Assert.True(JsonElement.DeepEquals(column.Value, rebuilt!.Value), $"{what}: {column.Name} is {rebuilt.Value.GetRawText()} in the trail but {column.Value.GetRawText()} live");
        }
    }

    private static readonly string[] Tables = ["Customers", "CustomerTags", "Tags", "Accounts", "AccountSignatories", "Payments", "Documents"];

    [ProviderFact]
    public async Task The_rebuilt_state_equals_every_live_row_for_every_mapping_shape_after_every_kind_of_write()
    {
        await using var store = await CreateStoreAsync();
        var history = History();
        int customerId, otherId;
        Guid accountId;
        await using (var db = store.Audited())
        {
            // A complex type (Address), many-to-many (Tags), TPH (two kinds of document), a converter (Currency), a composite key (signatory).
            var customer = QueryTestData.NewCustomer("Ada Lovelace");
            var other = QueryTestData.NewCustomer("Grace Hopper");
            customer.Tags.Add(new Tag { Name = "vip" });
            customer.Tags.Add(new Tag { Name = "eu" });
            db.Customers.AddRange(customer, other);
            await db.SaveChangesAsync();
            (customerId, otherId) = (customer.Id, other.Id);
            var account = new Account { Id = Guid.NewGuid(), CustomerId = customerId, Iban = "DE89370400440532013000", Balance = 100.50m, OpenedAt = DateTimeOffset.UnixEpoch };
            account.Signatories.Add(new AccountSignatory { CustomerId = otherId, Role = SignatoryRole.Signatory, GrantedAt = DateTimeOffset.UnixEpoch });
            db.Accounts.Add(account);
            db.Documents.Add(new KycDocument { Id = Guid.NewGuid(), CustomerId = customerId, Title = "Passport", DocumentNumber = "X1", ExpiresOn = new DateOnly(2030, 1, 1), ContentHash = [1, 2, 3] });
            db.Documents.Add(new Contract { Id = Guid.NewGuid(), CustomerId = customerId, Title = "Loan", SignedOn = new DateOnly(2026, 1, 2), ContractValue = 2500m });
            for (var i = 0; i < 3; i++)
            {
                db.Payments.Add(new Payment { AccountId = account.Id, Amount = 10 + i, Reference = $"INV-{i}", Beneficiary = "ACME", CreatedAt = DateTimeOffset.UnixEpoch });
            }

            await db.SaveChangesAsync();
            accountId = account.Id;
        }

        await using (var db = store.Audited(Bob))
        {
            var customer = await db.Customers.Include(c => c.Tags).SingleAsync(c => c.Id == customerId);
            customer.Name = "Ada King";
            customer.Address.City = "London";
            customer.TaxId = "GB2";
            customer.Tags.Remove(customer.Tags.First(t => t.Name == "eu"));
            customer.Tags.Add(new Tag { Name = "uk" });
            var signatory = await db.Set<AccountSignatory>().SingleAsync();
            signatory.Role = SignatoryRole.Owner;
            await db.SaveChangesAsync();

            // Bulk: one entry per row.
            await db.Payments.Where(p => p.Amount > 10).ExecuteUpdateAsync(s => s.SetProperty(p => p.Status, PaymentStatus.Settled));
            await db.Documents.OfType<Contract>().ExecuteDeleteAsync();
        }

        // Raw SQL outside the app, sealed as out-of-band.
        await store.ExecuteRawAsync($"UPDATE Customers SET Email = 'grace@navy.test', Risk = 'High' WHERE Id = {otherId}");
        await store.ExecuteRawAsync("INSERT INTO Tags (Name) VALUES ('outside')");
        await using (var db = store.Unaudited())
        {
            await db.Database.SealOutOfBandAsync();
        }

        // Out of band and not sealed yet: reconciliation counts it as captured.
        await store.ExecuteRawAsync("UPDATE Accounts SET Balance = 99.99");
        await using (var db = store.Unaudited())
        {
            var pending = await Reconciler.RunAsync(db, new AuditOptions());
            Assert.True(pending.Clean, string.Join("\n", pending.Mismatches.Select(m => m.Describe())));
            Assert.Equal(1, await db.AuditPending.CountAsync());
            await db.Database.SealOutOfBandAsync();
        }

        await using (var db = store.Unaudited())
        {
            var checkedRows = 0;
            foreach (var table in Tables)
            {
                foreach (var (key, live) in await LiveAsync(db, table))
                {
                    AssertSame(await history.StateAtAsync(db, new RecordRef(table, key), long.MaxValue), live, $"{table} {key}");
                    checkedRows++;
                }
            }

            Assert.True(checkedRows >= 14, $"only {checkedRows} rows were compared");
            var report = await Reconciler.RunAsync(db, new AuditOptions());
            Assert.True(report.Clean, string.Join("\n", report.Mismatches.Select(m => m.Describe())));

            // The deleted contract is in the trail as it was, and not live: its state says deleted, with its last values.
            var contract = await db.AuditEntries.AsNoTracking().SingleAsync(e => e.TableName == "Documents" && e.Operation == AuditOperations.Delete);
            var gone = await history.StateAtAsync(db, new RecordRef("Documents", contract.RecordKey!), long.MaxValue);
            Assert.False(gone.Exists);
            Assert.Equal("Loan", gone["Title"]!.Value.GetString());
        }
    }

    [ProviderFact]
    public async Task As_of_at_every_version_of_a_record_edited_200_times_equals_the_row_as_it_was_then()
    {
        await using var store = await CreateStoreAsync();
        var clock = new TestClock(new DateTimeOffset(2026, 3, 1, 8, 0, 0, TimeSpan.Zero));
        var history = History();
        var random = new Random(20261201);
        int id;
        await using (var db = store.Audited(TestDatabase.Alice, clock))
        {
            var customer = QueryTestData.NewCustomer("Edited Many");
            db.Customers.Add(customer);
            await db.SaveChangesAsync();
            id = customer.Id;
        }

        var record = new RecordRef("Customers", $"{{\"Id\":{id}}}");
        var snapshots = new List<(DateTime At, string Live)>();
        var versions = 0;
        async Task SnapshotIfChangedAsync()
        {
            await using var db = store.Unaudited();
            var count = await db.AuditEntries.CountAsync(e => e.TableName == "Customers" && e.RecordKey == record.Key);
            if (count > versions)
            {
                versions = count;
                snapshots.Add((clock.GetUtcNow().UtcDateTime, (await LiveAsync(db, "Customers"))[record.Key]));
            }
        }

        await SnapshotIfChangedAsync();
        for (var edit = 0; edit < 200; edit++)
        {
            clock.Now = clock.Now.AddMinutes(1 + random.Next(90));
            await using var db = store.Audited(random.Next(2) == 0 ? TestDatabase.Alice : Bob, clock);
            if (random.Next(5) == 0)
            {
                // A bulk update: the entry is written by the trigger, its old values read from the row.
                await db.Customers.Where(c => c.Id == id).ExecuteUpdateAsync(s => s.SetProperty(c => c.Name, c => c.Name + "+"));
            }
            else
            {
                var customer = await db.Customers.SingleAsync(c => c.Id == id);
                switch (random.Next(6))
                {
                    case 0: customer.Name = $"Name {edit}"; break;
                    case 1: customer.Risk = (RiskRating)random.Next(3); break;
                    case 2: customer.Address.City = $"City {random.Next(5)}"; break;
                    case 3: customer.KycVerifiedAt = random.Next(3) == 0 ? null : clock.GetUtcNow(); break;
                    case 4: customer.TaxId = random.Next(3) == 0 ? null : $"T{edit}"; break;
                    default: customer.Email = $"e{edit}@example.test"; customer.Address.Street = $"{edit} Main Street"; break;
                }

                await db.SaveChangesAsync();
            }

            await SnapshotIfChangedAsync();
        }

        await using (var db = store.Unaudited())
        {
            var entries = await db.AuditEntries.AsNoTracking().Where(e => e.TableName == "Customers" && e.RecordKey == record.Key).OrderBy(e => e.Seq).ToListAsync();
            Assert.True(entries.Count >= 150, $"only {entries.Count} versions were recorded");
            Assert.Equal(snapshots.Count, entries.Count);
            for (var i = 0; i < entries.Count; i++)
            {
                Assert.Equal(snapshots[i].At, entries[i].OccurredAtUtc);
                AssertSame(await history.StateAtAsync(db, record, entries[i].Seq), snapshots[i].Live, $"version {i} (#{entries[i].Seq})");
                AssertSame(await history.AsOfAsync(db, record, snapshots[i].At), snapshots[i].Live, $"as of version {i}'s time");
                // Between two versions (they are a minute or more apart) the record is as the earlier one left it.
                AssertSame(await history.AsOfAsync(db, record, snapshots[i].At.AddSeconds(30)), snapshots[i].Live, $"30 s after version {i}");
            }

            var before = await history.AsOfAsync(db, record, snapshots[0].At.AddSeconds(-1));
            Assert.False(before.Exists);
            Assert.Null(before.AsOfSeq);
        }
    }

    [ProviderFact]
    public async Task The_timeline_pages_without_gaps_and_holds_the_link_rows_and_the_label_after_a_delete()
    {
        await using var store = await CreateStoreAsync();
        var history = History();
        Guid accountId;
        int customerId;
        await using (var db = store.Audited())
        {
            var customer = QueryTestData.NewCustomer("Linked Customer");
            customer.Tags.Add(new Tag { Name = "gold" });
            db.Customers.Add(customer);
            await db.SaveChangesAsync();
            customerId = customer.Id;
            var account = new Account { Id = Guid.NewGuid(), CustomerId = customer.Id, Iban = "FR7630006000011234567890189", OpenedAt = DateTimeOffset.UnixEpoch };
            db.Accounts.Add(account);
            await db.SaveChangesAsync();
            accountId = account.Id;
            for (var i = 0; i < 30; i++)
            {
                db.Payments.Add(new Payment { AccountId = account.Id, Amount = i, Reference = $"P-{i}", Beneficiary = "B", CreatedAt = DateTimeOffset.UnixEpoch });
                await db.SaveChangesAsync();
            }

            for (var i = 0; i < 40; i++)
            {
                account.Balance += 1;
                await db.SaveChangesAsync();
            }

            // One payment deleted: it stays in the account's history.
            db.Payments.Remove(await db.Payments.OrderBy(p => p.Id).FirstAsync());
            await db.SaveChangesAsync();
        }

        await using (var db = store.Unaudited())
        {
            var record = (await RecordHistoryQuery.ResolveAsync(db, "Accounts", accountId.ToString().ToLowerInvariant()))!;
            Assert.Equal($"{{\"Id\":\"{accountId.ToString().ToUpperInvariant()}\"}}", record.Key);
            var overview = await history.OverviewAsync(db, record);
            // The first pass finds the live payments; the second also the deleted one, through the text index.
            Assert.Equal(29, overview.Links.Count(l => l.Table == "Payments"));
            overview = overview with { Links = await history.LinkedRecordsAsync(db, record, includeGone: true) };
            Assert.Equal(30, overview.Links.Count(l => l.Table == "Payments"));
            Assert.Equal("FR7630006000011234567890189", overview.Label);
            Assert.Equal(41, overview.Versions);

            var seen = new List<long>();
            long? cursor = null;
            do
            {
                var page = await history.TimelineAsync(db, record, overview.Links, cursor, size: 16);
                seen.AddRange(page.Items.Select(i => i.Entry.Seq));
                cursor = page.OlderCursor;
            }
            while (cursor is not null);

            var expected = await db.AuditEntries.AsNoTracking()
                .Where(e => (e.TableName == "Accounts" && e.RecordKey == record.Key) || e.TableName == "Payments")
                .OrderByDescending(e => e.Seq).Select(e => e.Seq).ToListAsync();
            Assert.Equal(expected, seen);

            // The customer's history holds its tag link and its account; the customer's label outlives the customer.
            var customer = new RecordRef("Customers", $"{{\"Id\":{customerId}}}");
            var links = await history.LinkedRecordsAsync(db, customer);
            Assert.Contains(links, l => l.Table == "CustomerTags");
            Assert.Contains(links, l => l.Table == "Accounts");
        }

        await using (var db = store.Audited())
        {
            await db.Payments.ExecuteDeleteAsync();
            await db.Accounts.ExecuteDeleteAsync();
            await db.Database.ExecuteSqlRawAsync("DELETE FROM CustomerTags");
            await db.Customers.Where(c => c.Id == customerId).ExecuteDeleteAsync();
        }

        await using (var db = store.Unaudited())
        {
            var customer = new RecordRef("Customers", $"{{\"Id\":{customerId}}}");
            var overview = await history.OverviewAsync(db, customer);
            Assert.False(overview.Exists);
            Assert.Equal("Linked Customer", overview.Label);
            Assert.Contains(overview.Links, l => l.Table == "CustomerTags"); // keyed by the customer: found in the first pass
            Assert.DoesNotContain(overview.Links, l => l.Table == "Accounts");
            overview = overview with { Links = await history.LinkedRecordsAsync(db, customer, includeGone: true) };
            Assert.Contains(overview.Links, l => l.Table == "Accounts");
            var page = await history.TimelineAsync(db, customer, overview.Links);
            Assert.Contains(page.Items, i => i.Link?.Table == "CustomerTags" && i.Entry.Operation == AuditOperations.Delete && i.LinkLabel == "Linked Customer ↔ gold");
        }
    }

    [ProviderFact]
    public async Task Two_versions_compare_column_by_column_and_the_related_records_are_those_of_the_same_transactions()
    {
        await using var store = await CreateStoreAsync();
        var history = History();
        int id;
        await using (var db = store.Audited())
        {
            var customer = QueryTestData.NewCustomer("Compare Me");
            db.Customers.Add(customer);
            await db.SaveChangesAsync();
            id = customer.Id;
            customer.Name = "Compared";
            await db.SaveChangesAsync();
            customer.Address.City = "Cork";
            customer.Tags.Add(new Tag { Name = "same-transaction" });
            await db.SaveChangesAsync();
        }

        await using (var db = store.Unaudited())
        {
            var record = new RecordRef("Customers", $"{{\"Id\":{id}}}");
            var seqs = await db.AuditEntries.Where(e => e.TableName == "Customers" && e.RecordKey == record.Key).OrderBy(e => e.Seq).Select(e => e.Seq).ToListAsync();
            var (older, newer, diff) = await history.CompareAsync(db, record, seqs[2], seqs[0]);
            Assert.Equal(seqs[0], older.AsOfSeq);
            Assert.Equal(seqs[2], newer.AsOfSeq);
            Assert.Equal(["Address_City", "Name"], diff.Where(r => r.Kind == DiffKind.Changed).Select(r => r.Column).Order(StringComparer.Ordinal));
            Assert.Equal("Compare Me", diff.Single(r => r.Column == "Name").Before!.Value.GetString());
            Assert.Equal("Compared", diff.Single(r => r.Column == "Name").After!.Value.GetString());

            var related = await history.RelatedAsync(db, record, []);
            Assert.Contains(related, r => r.Table == "Tags" && r.Label == "same-transaction");
            Assert.Contains(related, r => r.Table == "CustomerTags");
            var withLinks = await history.RelatedAsync(db, record, await history.LinkedRecordsAsync(db, record));
            Assert.DoesNotContain(withLinks, r => r.Table == "CustomerTags");
        }
    }
}

public sealed class SqliteRecordHistoryTests : RecordHistoryTests
{
    protected override async Task<TestDatabase> CreateStoreAsync() => await SqliteTestDatabase.CreateAsync();
}

[RequiresSqlServer]
public sealed class SqlServerRecordHistoryTests : RecordHistoryTests
{
    protected override async Task<TestDatabase> CreateStoreAsync() => await SqlServerTestDatabase.CreateAsync();
}
