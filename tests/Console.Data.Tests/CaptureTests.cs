using System.Text.Json;
using ComplianceConsole.Core.Auditing;
using ComplianceConsole.Data.Capture;
using ComplianceConsole.Data.Domain;
using Microsoft.EntityFrameworkCore;

namespace ComplianceConsole.Data.Tests;

/// <summary>The capture promises, run on each provider: <see cref="SqliteCaptureTests"/>, <see cref="SqlServerCaptureTests"/>.</summary>
public abstract class CaptureTests
{
    protected abstract Task<TestDatabase> CreateStoreAsync(AuditOptions? options = null);

    private static Customer NewCustomer(string name = "Ada Lovelace") => new()
    {
        Name = name,
        Email = "ada@example.test",
        Risk = RiskRating.Medium,
        TaxId = "DE-SECRET-123",
        CreatedAt = new DateTimeOffset(2026, 1, 2, 3, 4, 5, TimeSpan.FromHours(1)),
        Address = new Address { Street = "1 Main St", City = "Berlin", PostalCode = "10115", Country = "DE" },
    };

    private static JsonElement Json(string? text) => JsonDocument.Parse(text ?? "null").RootElement;

    // SQLite stores a decimal as text (EF's mapping), SQL Server as a number: either way the value must be exact.
    private static decimal Decimal(JsonElement value) =>
        value.ValueKind == JsonValueKind.String ? decimal.Parse(value.GetString()!, System.Globalization.CultureInfo.InvariantCulture) : value.GetDecimal();

    [ProviderFact]
    public async Task Insert_records_the_real_identity_key_actor_and_new_values()
    {
        await using var store = await CreateStoreAsync();
        await using (var db = store.Audited())
        {
            db.Customers.Add(NewCustomer());
            db.Customers.Add(NewCustomer("Grace Hopper"));
            await db.SaveChangesAsync();
        }

        var entries = await store.ChangesAsync("Customers");
        Assert.Equal(2, entries.Count);
        Assert.Equal(["{\"Id\":1}", "{\"Id\":2}"], entries.Select(e => e.RecordKey));
        var first = entries[0];
        Assert.Equal(AuditOperations.Insert, first.Operation);
        Assert.Equal("u-alice", first.ActorId);
        Assert.Equal("alice@example.test", first.ActorName);
        Assert.Equal("Operator", first.ActorRoles);
        Assert.Equal("page:/customers", first.Origin);
        Assert.Equal("corr-alice", first.CorrelationId);
        Assert.Equal("10.0.0.1", first.IpAddress);
        Assert.Equal("Firefox", first.UserAgent);
        Assert.False(first.OutOfBand);
        Assert.Equal(entries[0].TransactionId, entries[1].TransactionId);
        Assert.Null(first.OldValues);
        var values = Json(first.NewValues);
        Assert.Equal("Ada Lovelace", values.GetProperty("Name").GetString());
        Assert.Equal("Medium", values.GetProperty("Risk").GetString());
        Assert.Equal("Berlin", values.GetProperty("Address_City").GetString()); // complex type, same table
    }

    [ProviderFact]
    public async Task Update_records_old_and_new_values_of_changed_columns_only()
    {
        await using var store = await CreateStoreAsync();
        await using (var db = store.Audited())
        {
            db.Customers.Add(NewCustomer());
            await db.SaveChangesAsync();
        }

        await using (var db = store.Audited())
        {
            var customer = await db.Customers.SingleAsync();
            customer.Risk = RiskRating.High;
            customer.Address.City = "Munich";
            await db.SaveChangesAsync();
        }

        var update = (await store.ChangesAsync("Customers")).Single(e => e.Operation == AuditOperations.Update);
        Assert.Equal(["Address_City", "Risk"], JsonSerializer.Deserialize<string[]>(update.ChangedColumns!)!.Order(StringComparer.Ordinal));
        Assert.Equal("Medium", Json(update.OldValues).GetProperty("Risk").GetString());
        Assert.Equal("High", Json(update.NewValues).GetProperty("Risk").GetString());
        Assert.Equal("Berlin", Json(update.OldValues).GetProperty("Address_City").GetString());
        Assert.False(Json(update.NewValues).TryGetProperty("Name", out _));
    }

    [ProviderFact]
    public async Task Full_record_mode_keeps_the_whole_row_on_update()
    {
        await using var store = await CreateStoreAsync(new AuditOptions { Mode = AuditValueMode.FullRecord });
        await using (var db = store.Audited())
        {
            db.Customers.Add(NewCustomer());
            await db.SaveChangesAsync();
            var customer = await db.Customers.SingleAsync();
            customer.Name = "Ada King";
            await db.SaveChangesAsync();
        }

        var update = (await store.ChangesAsync("Customers")).Single(e => e.Operation == AuditOperations.Update);
        Assert.Equal("Ada Lovelace", Json(update.OldValues).GetProperty("Name").GetString());
        Assert.Equal("Berlin", Json(update.NewValues).GetProperty("Address_City").GetString());
        Assert.Equal("[\"Name\"]", update.ChangedColumns);
    }

    [ProviderFact]
    public async Task Delete_records_the_values_that_were_stored()
    {
        await using var store = await CreateStoreAsync();
        await using (var db = store.Audited())
        {
            db.Customers.Add(NewCustomer());
            await db.SaveChangesAsync();
        }

        await store.ExecuteRawAsync("UPDATE Customers SET Name = 'Changed behind EF' WHERE Id = 1");
        await using (var db = store.Audited())
        {
            // The tracked entity still says "Ada Lovelace"; the entry must say what the database held.
            var stale = new Customer { Id = 1 };
            db.Customers.Attach(stale);
            db.Customers.Remove(stale);
            await db.SaveChangesAsync();
        }

        var delete = (await store.ChangesAsync("Customers")).Single(e => e.Operation == AuditOperations.Delete);
        Assert.Equal("{\"Id\":1}", delete.RecordKey);
        Assert.Equal("Changed behind EF", Json(delete.OldValues).GetProperty("Name").GetString());
        Assert.Null(delete.NewValues);
    }

    [ProviderFact]
    public async Task Composite_guid_tph_and_many_to_many_rows_map_to_their_table_and_key()
    {
        await using var store = await CreateStoreAsync();
        var accountId = Guid.Parse("6f1f7d52-8d3a-4e51-9d0e-1b2c3d4e5f60");
        var documentId = Guid.Parse("00000000-0000-0000-0000-0000000000d1");
        await using (var db = store.Audited())
        {
            var customer = NewCustomer();
            customer.Tags.Add(new Tag { Name = "pep" });
            db.Customers.Add(customer);
            await db.SaveChangesAsync();
            db.Accounts.Add(new Account { Id = accountId, CustomerId = customer.Id, Iban = "DE89370400440532013000", Balance = 1234.56m, Currency = new CurrencyCode("EUR"), OpenedAt = new DateTimeOffset(2026, 3, 1, 9, 30, 0, TimeSpan.FromHours(2)) });
            db.AccountSignatories.Add(new AccountSignatory { AccountId = accountId, CustomerId = customer.Id, Role = SignatoryRole.Owner, GrantedAt = DateTimeOffset.UnixEpoch });
            db.Documents.Add(new KycDocument { Id = documentId, CustomerId = customer.Id, Title = "Passport", DocumentNumber = "X123", ExpiresOn = new DateOnly(2031, 12, 31), ContentHash = [0xAB, 0xCD], UploadedAt = DateTimeOffset.UnixEpoch });
            db.Payments.Add(new Payment { AccountId = accountId, Amount = 99.95m, Reference = "INV-1", Beneficiary = "ACME", CreatedAt = DateTimeOffset.UnixEpoch });
            await db.SaveChangesAsync();
        }

        var link = Assert.Single(await store.ChangesAsync("CustomerTags"));
        Assert.Equal("{\"CustomersId\":1,\"TagsId\":1}", link.RecordKey);

        var signatory = Assert.Single(await store.ChangesAsync("AccountSignatories"));
        Assert.Equal(accountId, Guid.Parse(Json(signatory.RecordKey).GetProperty("AccountId").GetString()!));
        Assert.Equal(1, Json(signatory.RecordKey).GetProperty("CustomerId").GetInt32());

        var account = Assert.Single(await store.ChangesAsync("Accounts"));
        Assert.Equal(1234.56m, Decimal(Json(account.NewValues).GetProperty("Balance")));
        Assert.Equal("EUR", Json(account.NewValues).GetProperty("Currency").GetString());
        Assert.Equal("Open", Json(account.NewValues).GetProperty("Status").GetString());
        Assert.Equal(JsonValueKind.Null, Json(account.NewValues).GetProperty("ClosedAt").ValueKind);
        var openedAt = DateTimeOffset.Parse(Json(account.NewValues).GetProperty("OpenedAt").GetString()!, System.Globalization.CultureInfo.InvariantCulture);
        Assert.Equal(new DateTimeOffset(2026, 3, 1, 9, 30, 0, TimeSpan.FromHours(2)), openedAt);
        Assert.Equal(TimeSpan.FromHours(2), openedAt.Offset); // DateTimeOffset keeps its offset

        var document = Assert.Single(await store.ChangesAsync("Documents"));
        Assert.Equal("Kyc", Json(document.NewValues).GetProperty("Kind").GetString());
        Assert.Equal("X123", Json(document.NewValues).GetProperty("DocumentNumber").GetString());
        Assert.Equal("abcd", Json(document.NewValues).GetProperty("ContentHash").GetString());
        Assert.Equal("2031-12-31", Json(document.NewValues).GetProperty("ExpiresOn").GetString());

        var payment = Assert.Single(await store.ChangesAsync("Payments"));
        Assert.Equal("{\"Id\":1}", payment.RecordKey);
    }

    [ProviderFact]
    public async Task Rolled_back_transaction_leaves_no_entry_and_no_data()
    {
        await using var store = await CreateStoreAsync();
        await using (var db = store.Audited())
        {
            await using var transaction = await db.Database.BeginTransactionAsync();
            db.Customers.Add(NewCustomer());
            await db.SaveChangesAsync();
            await db.Database.ExecuteSqlRawAsync("UPDATE Customers SET Name = 'x'");
            await transaction.RollbackAsync();
        }

        Assert.Empty(await store.EntriesAsync());
        await using var check = store.Unaudited();
        Assert.Equal(0, await check.Customers.CountAsync());
        Assert.Equal(0, await check.AuditPending.CountAsync());
    }

    [ProviderFact]
    public async Task Failed_save_leaves_no_entry()
    {
        await using var store = await CreateStoreAsync();
        await using (var db = store.Audited())
        {
            db.Tags.Add(new Tag { Name = "dup" });
            await db.SaveChangesAsync();
        }

        await using (var db = store.Audited())
        {
            db.Customers.Add(NewCustomer());
            db.Tags.Add(new Tag { Name = "dup" }); // unique index violation: the whole save fails
            await Assert.ThrowsAsync<DbUpdateException>(() => db.SaveChangesAsync());
        }

        var entries = await store.EntriesAsync();
        Assert.Single(entries);
        Assert.Equal("Tags", entries[0].TableName);
        await using var check = store.Unaudited();
        Assert.Equal(0, await check.Customers.CountAsync());
    }

    [ProviderFact]
    public async Task When_the_audit_entry_cannot_be_written_the_change_fails_with_a_clear_error()
    {
        await using var store = await CreateStoreAsync();
        await store.BreakAuditStoreAsync("disk says no");
        await using (var db = store.Audited())
        {
            db.Customers.Add(NewCustomer());
            var error = await Assert.ThrowsAsync<AuditCaptureException>(() => db.SaveChangesAsync());
            Assert.Contains("not saved", error.Message);
            Assert.Contains("disk says no", error.Message);
        }

        await using var check = store.Unaudited();
        Assert.Equal(0, await check.Customers.CountAsync());
        Assert.Equal(0, await check.AuditPending.CountAsync());
    }

    [ProviderFact]
    public async Task ExecuteDelete_writes_one_entry_per_row_with_before_values()
    {
        await using var store = await CreateStoreAsync();
        await using (var db = store.Audited())
        {
            for (var i = 0; i < 5; i++)
            {
                db.Tags.Add(new Tag { Name = $"tag-{i}" });
            }

            await db.SaveChangesAsync();
            var deleted = await db.Tags.Where(t => t.Id > 2).ExecuteDeleteAsync();
            Assert.Equal(3, deleted);
        }

        var deletes = (await store.ChangesAsync("Tags")).Where(e => e.Operation == AuditOperations.Delete).ToList();
        Assert.Equal(["tag-2", "tag-3", "tag-4"], deletes.Select(d => Json(d.OldValues).GetProperty("Name").GetString()));
        Assert.All(deletes, d => Assert.Equal("u-alice", d.ActorId));
        Assert.Single(deletes.Select(d => d.TransactionId).Distinct());
    }

    [ProviderFact]
    public async Task ExecuteUpdate_writes_before_and_after_for_each_row()
    {
        await using var store = await CreateStoreAsync();
        await using (var db = store.Audited())
        {
            db.Tags.AddRange(new Tag { Name = "a" }, new Tag { Name = "b" });
            await db.SaveChangesAsync();
            await db.Tags.ExecuteUpdateAsync(s => s.SetProperty(t => t.Name, t => t.Name + "-renamed"));
        }

        var updates = (await store.ChangesAsync("Tags")).Where(e => e.Operation == AuditOperations.Update).ToList();
        Assert.Equal(2, updates.Count);
        Assert.Equal("a", Json(updates[0].OldValues).GetProperty("Name").GetString());
        Assert.Equal("a-renamed", Json(updates[0].NewValues).GetProperty("Name").GetString());
    }

    [ProviderFact]
    public async Task Raw_sql_from_outside_the_app_is_captured_as_out_of_band_with_the_actor_unknown()
    {
        await using var store = await CreateStoreAsync();
        await store.ExecuteRawAsync("INSERT INTO Tags (Name) VALUES ('from-sqlite3-shell')");
        await using (var db = store.Audited())
        {
            // SQLite: the app's next write seals the waiting out-of-band change first, then its own. SQL Server: a write seals
            // only its own rows, so a DBA's bulk change never stalls a user's save; the sealing run takes the rest.
            db.Tags.Add(new Tag { Name = "from-app" });
            await db.SaveChangesAsync();
            Assert.Equal(AppSealsOnlyItsOwnRows ? 1 : 0, await db.Database.SealOutOfBandAsync());
        }

        var entries = await store.ChangesAsync("Tags");
        Assert.Equal(2, entries.Count);
        var outside = Assert.Single(entries, e => e.OutOfBand);
        Assert.Equal("unknown", outside.ActorId);
        Assert.Equal("out-of-band", outside.Origin);
        Assert.Equal("from-sqlite3-shell", Json(outside.NewValues).GetProperty("Name").GetString());
        var inside = Assert.Single(entries, e => !e.OutOfBand);
        Assert.Equal("u-alice", inside.ActorId);
        Assert.Equal(AppSealsOnlyItsOwnRows ? 0 : 1, entries.IndexOf(inside));
    }

    /// <summary>SQL Server: an app transaction seals only its own pending rows; the background sealer takes the others.</summary>
    protected virtual bool AppSealsOnlyItsOwnRows => false;

    [ProviderFact]
    public async Task Trailing_spaces_trailing_zero_bytes_case_and_offsets_are_changes_and_a_no_op_update_is_not()
    {
        await using var store = await CreateStoreAsync();
        int customer;
        Guid document;
        await using (var db = store.Audited())
        {
            var c = NewCustomer("pep");
            db.Customers.Add(c);
            var d = new Domain.KycDocument { Customer = c, Title = "passport", ContentHash = [1, 2] };
            db.Add(d);
            await db.SaveChangesAsync();
            (customer, document) = (c.Id, d.Id);
        }

        await using (var db = store.Audited())
        {
            var c = await db.Customers.SingleAsync(x => x.Id == customer);
            c.Name = "pep "; // = pads with spaces: only a length-aware comparison sees it
            await db.SaveChangesAsync();
            c.Name = "Pep "; // case
            await db.SaveChangesAsync();
            c.CreatedAt = c.CreatedAt.ToOffset(TimeSpan.Zero); // the same instant, another offset
            await db.SaveChangesAsync();
            var d = await db.Set<Domain.Document>().SingleAsync(x => x.Id == document);
            d.ContentHash = [1, 2, 0]; // = pads binary with zero bytes
            await db.SaveChangesAsync();
            await db.Database.ExecuteSqlRawAsync("UPDATE Customers SET Name = Name, Email = Email"); // changes nothing
        }

        var changes = (await store.EntriesAsync()).Where(e => e.Operation == AuditOperations.Update).ToList();
        Assert.Equal(4, changes.Count);
        Assert.Equal("pep ", Json(changes[0].NewValues).GetProperty("Name").GetString());
        Assert.Equal("Pep ", Json(changes[1].NewValues).GetProperty("Name").GetString());
        Assert.Equal(["CreatedAt"], JsonSerializer.Deserialize<string[]>(changes[2].ChangedColumns!)!);
        Assert.Equal("Documents", changes[3].TableName);
        Assert.Equal("010200", Json(changes[3].NewValues).GetProperty("ContentHash").GetString());
    }

    [ProviderFact]
    public async Task Values_longer_than_the_store_keeps_are_cut_visibly_and_never_fail_the_write()
    {
        await using var store = await CreateStoreAsync();
        var email = new string('x', 290) + "@example.test"; // typed at sign-in: 303 characters
        var actor = new AuditContext(new AuditActor("u-long", email, ["Operator"]), "page:/customers", "corr", "10.0.0.1", new string('F', 700));
        await using (var db = store.Audited(actor))
        {
            db.Tags.Add(new Tag { Name = "long" });
            await db.SaveChangesAsync();
            await db.Database.RecordAuditEventAsync(new AuditEventRequest(AuditEventNames.LoginFailed, email + new string('y', 200), Actor: new AuditActor("anonymous", email, [])));
        }

        var entries = await store.EntriesAsync();
        var change = Assert.Single(entries, e => e.TableName == "Tags");
        Assert.Equal(AuditFieldLimits.ActorName, change.ActorName!.Length);
        Assert.True(AuditFieldLimits.WasCut(change.ActorName));
        Assert.StartsWith(email[..200], change.ActorName);
        Assert.Equal(AuditFieldLimits.UserAgent, change.UserAgent!.Length);
        var failed = Assert.Single(entries, e => e.EventName == AuditEventNames.LoginFailed);
        Assert.Equal(AuditFieldLimits.Target, failed.Target!.Length);
        Assert.True(AuditFieldLimits.WasCut(failed.Target));
        Assert.Equal(change.ActorName, failed.ActorName); // the same value cuts the same way
        await using var verify = store.Unaudited();
        Assert.True((await verify.VerifyAuditChainAsync()).IsValid); // what is stored is what was hashed
    }

    [ProviderFact]
    public async Task A_serializable_transaction_commits_with_its_entries()
    {
        await using var store = await CreateStoreAsync();
        await using (var db = store.Audited())
        {
            await using var transaction = await db.Database.BeginTransactionAsync(System.Data.IsolationLevel.Serializable);
            db.Tags.Add(new Tag { Name = "serializable" });
            await db.SaveChangesAsync();
            await transaction.CommitAsync();
        }

        Assert.Equal("u-alice", Assert.Single(await store.ChangesAsync("Tags")).ActorId);
    }

    [ProviderFact]
    public async Task Inside_a_TransactionScope_an_audited_write_is_refused_and_nothing_changes()
    {
        await using var store = await CreateStoreAsync();
        await using (var db = store.Audited())
        {
            using var scope = new System.Transactions.TransactionScope(System.Transactions.TransactionScopeAsyncFlowOption.Enabled);
            db.Tags.Add(new Tag { Name = "scoped" });
            var refused = await Assert.ThrowsAsync<AuditCaptureException>(() => db.SaveChangesAsync());
            Assert.Contains("Use DbContext.Database.BeginTransaction", refused.Message);
        }

        await using var check = store.Unaudited();
        Assert.False(await check.Tags.AnyAsync(t => t.Name == "scoped"));
        Assert.Empty(await store.ChangesAsync("Tags"));
    }

    [ProviderFact]
    public async Task Out_of_band_changes_are_sealed_by_the_sealing_run_when_the_app_is_idle()
    {
        await using var store = await CreateStoreAsync();
        await store.ExecuteRawAsync("UPDATE Tags SET Name = 'none'; INSERT INTO Tags (Name) VALUES ('x'); DELETE FROM Tags WHERE Name = 'x';");
        await using (var db = store.Unaudited())
        {
            Assert.Equal(2, await db.Database.SealOutOfBandAsync());
            var report = await db.VerifyAuditChainAsync();
            Assert.True(report.IsValid, report.Describe());
        }

        Assert.Equal([AuditOperations.Insert, AuditOperations.Delete], (await store.EntriesAsync()).Select(e => e.Operation));
    }

    [ProviderFact]
    public async Task Raw_sql_through_an_audited_context_is_attributed_to_the_actor()
    {
        await using var store = await CreateStoreAsync();
        await using (var db = store.Audited())
        {
            await db.Database.ExecuteSqlRawAsync("INSERT INTO Tags (Name) VALUES ('raw-in-app')");
        }

        var entry = Assert.Single(await store.EntriesAsync());
        Assert.False(entry.OutOfBand);
        Assert.Equal("u-alice", entry.ActorId);
    }

    [ProviderFact]
    public async Task Redacted_values_never_reach_the_store_but_their_changes_are_recorded()
    {
        await using var store = await CreateStoreAsync();
        await using (var db = store.Audited())
        {
            db.Customers.Add(NewCustomer());
            await db.SaveChangesAsync();
            var customer = await db.Customers.SingleAsync();
            customer.TaxId = "DE-SECRET-456";
            await db.SaveChangesAsync();
            await db.Customers.ExecuteUpdateAsync(s => s.SetProperty(c => c.TaxId, "DE-SECRET-789"));
        }

        await store.ExecuteRawAsync("UPDATE Customers SET TaxId = 'DE-SECRET-000'");
        await using (var db = store.Unaudited())
        {
            // Even a write from outside the app, waiting to be sealed, holds only the placeholder.
            var pending = Assert.Single(await db.AuditPending.ToListAsync());
            Assert.DoesNotContain("SECRET", pending.OldValues + pending.NewValues);
            await db.Database.SealOutOfBandAsync();
        }

        var entries = await store.EntriesAsync();
        Assert.Equal(4, entries.Count(e => e.TableName == "Customers"));
        foreach (var entry in entries)
        {
            Assert.DoesNotContain("SECRET", JsonSerializer.Serialize(entry));
        }

        var update = entries.First(e => e.Operation == AuditOperations.Update);
        Assert.Equal("[\"TaxId\"]", update.ChangedColumns);
        Assert.Equal(AuditRedaction.Placeholder, Json(update.OldValues).GetProperty("TaxId").GetString());
        Assert.Equal(AuditRedaction.ChangedPlaceholder, Json(update.NewValues).GetProperty("TaxId").GetString());
    }

    [ProviderFact]
    public async Task A_change_to_an_ignored_property_alone_makes_no_entry()
    {
        await using var store = await CreateStoreAsync();
        await using (var db = store.Audited())
        {
            db.Customers.Add(NewCustomer());
            await db.SaveChangesAsync();
            var customer = await db.Customers.SingleAsync();
            customer.LastViewedAt = DateTimeOffset.UtcNow;
            await db.SaveChangesAsync();
        }

        var entries = await store.ChangesAsync("Customers");
        Assert.Single(entries);
        Assert.False(Json(entries[0].NewValues).TryGetProperty("LastViewedAt", out _));
    }

    [ProviderFact]
    public async Task Excluded_entities_are_not_audited()
    {
        await using var store = await CreateStoreAsync();
        await using (var db = store.Audited())
        {
            db.UserPreferences.Add(new UserPreference { UserId = "u1", Theme = "dark" });
            await db.SaveChangesAsync();
        }

        Assert.Empty(await store.EntriesAsync());
    }

    [ProviderFact]
    public async Task Configuration_can_redact_ignore_and_exclude_by_name()
    {
        await using var store = await CreateStoreAsync(new AuditOptions
        {
            RedactedProperties = ["Payment.Beneficiary"],
            IgnoredProperties = ["Tags.Name"],
            ExcludedEntities = ["AccountSignatory"],
        });
        await using (var db = store.Audited())
        {
            var policy = AuditPolicyResolver.Resolve(db.Model, new AuditOptions { RedactedProperties = ["Payment.Beneficiary"], IgnoredProperties = ["Tags.Name"], ExcludedEntities = ["AccountSignatory"] });
            Assert.Contains("AccountSignatories", policy.ExcludedTables);
            Assert.Equal(ColumnTreatment.Redact, policy.Find("Payments")!.Columns.Single(c => c.Name == "Beneficiary").Treatment);
            Assert.Equal(ColumnTreatment.Redact, policy.Find("AspNetUsers")!.Columns.Single(c => c.Name == "PasswordHash").Treatment);

            db.Tags.Add(new Tag { Name = "t" });
            await db.SaveChangesAsync();
            await db.Tags.ExecuteUpdateAsync(s => s.SetProperty(t => t.Name, "u")); // ignored column only: no entry
        }

        var entries = (await store.EntriesAsync()).Where(e => e.Operation != AuditOperations.Event).ToList();
        var insert = Assert.Single(entries);
        Assert.Equal("{\"Id\":1}", insert.NewValues);
    }

    [ProviderFact]
    public async Task Events_are_appended_to_the_same_chain()
    {
        await using var store = await CreateStoreAsync();
        await using (var db = store.Audited())
        {
            await db.Database.RecordAuditEventAsync(new AuditEventRequest("report.exported", "Customers", new Dictionary<string, string?> { ["rows"] = "12", ["format"] = "csv" }, "acme"));
            await db.Database.RecordAuditEventAsync(new AuditEventRequest(AuditEventNames.LoginFailed, "mallory@example.test", Actor: new AuditActor("anonymous", "mallory@example.test", [])));
            await Assert.ThrowsAsync<ArgumentException>(() => db.Database.RecordAuditEventAsync(new AuditEventRequest("Not An Event")));
        }

        var entries = await store.EntriesAsync();
        Assert.Equal(2, entries.Count);
        Assert.Equal("report.exported", entries[0].EventName);
        Assert.Equal("{\"format\":\"csv\",\"rows\":\"12\"}", entries[0].Metadata);
        Assert.Equal("acme", entries[0].Tenant);
        Assert.Equal("u-alice", entries[0].ActorId);
        Assert.Equal("mallory@example.test", entries[1].ActorName);
        Assert.Null(entries[1].ActorRoles);
    }
}

public sealed class SqliteCaptureTests : CaptureTests
{
    protected override async Task<TestDatabase> CreateStoreAsync(AuditOptions? options = null) => await SqliteTestDatabase.CreateAsync(options);
}

[RequiresSqlServer]
public sealed class SqlServerCaptureTests : CaptureTests
{
    protected override bool AppSealsOnlyItsOwnRows => true;

    protected override async Task<TestDatabase> CreateStoreAsync(AuditOptions? options = null) => await SqlServerTestDatabase.CreateAsync(options);
}
