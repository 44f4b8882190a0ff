using System.Text.Json;
using ComplianceConsole.Core.Auditing;
using ComplianceConsole.Data.Capture;
using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore;

namespace ComplianceConsole.Data.Tests;

/// <summary>
/// Every SQL form that changes rows of an audited table is captured with its true before and after values, run
/// through a plain SQLite connection with none of the app's settings (what the sqlite3 shell or another tool is).
/// </summary>
public sealed class RawSqlCaptureTests : IAsyncLifetime
{
    public sealed class Owner
    {
        public int Id { get; set; }
        public string Name { get; set; } = "";
        public string? Code { get; set; }
        public List<Item> Items { get; set; } = [];
    }

    public sealed class Item
    {
        public int Id { get; set; }
        public int OwnerId { get; set; }
        public string Label { get; set; } = "";
    }

    public sealed class Note
    {
        public int Id { get; set; }
        public int? OwnerId { get; set; }
        public Owner? Owner { get; set; }
        public string Text { get; set; } = "";
    }

    public sealed class ModuleContext(DbContextOptions<ModuleContext> options) : DbContext(options)
    {
        protected override void OnModelCreating(ModelBuilder b)
        {
            b.Entity<Owner>().HasIndex(o => o.Name).IsUnique();
            b.Entity<Owner>().HasIndex(o => o.Code).IsUnique();
            b.Entity<Owner>().HasMany(o => o.Items).WithOne().HasForeignKey(i => i.OwnerId).OnDelete(DeleteBehavior.Cascade);
            b.Entity<Note>().HasOne(n => n.Owner).WithMany().HasForeignKey(n => n.OwnerId).OnDelete(DeleteBehavior.SetNull);
        }
    }

    private readonly TempSqliteFile _db = new("raw");

    private DbContextOptions<ModuleContext> Options => new DbContextOptionsBuilder<ModuleContext>().UseSqlite(_db.ConnectionString)
        .UseAuditTrail(new AuditContextAccessor(AuditContext.ForJob("module"))).Options;

    public async Task InitializeAsync()
    {
        await using var db = new ModuleContext(Options);
        await db.Database.EnsureCreatedAsync();
        await db.Database.InstallAuditCaptureAsync(new AuditOptions());
        await RawAsync("""
            INSERT INTO Owner (Id, Name, Code) VALUES (1, 'alpha', 'A'), (2, 'beta', 'B'), (3, 'gamma', 'C');
            INSERT INTO Item (Id, OwnerId, Label) VALUES (10, 1, 'a-1'), (11, 1, 'a-2'), (20, 2, 'b-1');
            INSERT INTO Note (Id, OwnerId, Text) VALUES (100, 2, 'about beta');
            """);
        await SealAsync();
    }

    public Task DisposeAsync()
    {
        _db.Dispose();
        return Task.CompletedTask;
    }

    /// <summary>A plain connection: no EF, no interceptor, no pragmas of the app.</summary>
    private Task RawAsync(string sql) => _db.RawAsync(sql);

    private async Task SealAsync()
    {
        await using var db = new ModuleContext(Options);
        await db.Database.SealOutOfBandAsync();
    }

    private long _seen;

    /// <summary>The entries the last statement made: operation, table, key and one value.</summary>
    private async Task<List<string>> NewEntriesAsync(string valueColumn = "Name")
    {
        await SealAsync();
        await using var db = new ModuleContext(Options);
        var entries = await db.Set<AuditEntry>().Where(e => e.Seq > _seen && e.Operation != AuditOperations.Event).OrderBy(e => e.Seq).ToListAsync();
        _seen = await db.Set<AuditEntry>().MaxAsync(e => e.Seq);
        Assert.True((await db.VerifyAuditChainAsync()).IsValid);
        Assert.Equal(0, await db.Set<AuditStashRow>().CountAsync()); // no note is ever left to be sealed
        return entries.Select(e => $"{e.Operation} {e.TableName} {e.RecordKey} {Value(e.OldValues, valueColumn)}->{Value(e.NewValues, valueColumn)}").ToList();
    }

    private static string Value(string? json, string column) =>
        json is null ? "" : JsonDocument.Parse(json).RootElement.TryGetProperty(column, out var v) ? v.ToString() : "";

    private async Task<List<string>> OwnerEntriesAsync() => (await NewEntriesAsync()).Where(e => e.Contains(" Owner ", StringComparison.Ordinal)).ToList();

    private async Task StartAsync() => _ = await NewEntriesAsync();

    [Fact]
    public async Task Insert_or_replace_on_the_key_records_the_implicit_delete_with_the_old_values()
    {
        await StartAsync();
        await RawAsync("INSERT OR REPLACE INTO Owner (Id, Name, Code) VALUES (1, 'alpha-2', 'A')");
        // This connection enforces foreign keys (Microsoft.Data.Sqlite's default), so the implicit delete cascades to
        // alpha's items, and those deletes are captured too.
        Assert.Equal(["delete Item {\"Id\":10} a-1->", "delete Item {\"Id\":11} a-2->", "delete Owner {\"Id\":1} ->", "insert Owner {\"Id\":1} ->"],
            await NewEntriesAsync("Label"));
        await RawAsync("INSERT OR REPLACE INTO Owner (Id, Name, Code) VALUES (1, 'alpha-3', 'A')");
        Assert.Equal(["delete Owner {\"Id\":1} alpha-2->", "insert Owner {\"Id\":1} ->alpha-3"], await NewEntriesAsync());
    }

    [Fact]
    public async Task Replace_on_a_unique_index_records_the_other_row_it_deleted()
    {
        await StartAsync();
        await RawAsync("REPLACE INTO Owner (Id, Name, Code) VALUES (7, 'beta', 'Z')"); // takes beta's name: beta (Id 2) goes
        Assert.Equal(["delete Owner {\"Id\":2} beta->", "insert Owner {\"Id\":7} ->beta"], await OwnerEntriesAsync());
    }

    [Fact]
    public async Task Replace_that_conflicts_on_two_indexes_records_both_deleted_rows()
    {
        await StartAsync();
        await RawAsync("INSERT OR REPLACE INTO Owner (Id, Name, Code) VALUES (1, 'beta', 'C')"); // key of alpha, name of beta, code of gamma
        var entries = await OwnerEntriesAsync();
        Assert.Equal(4, entries.Count);
        Assert.Equal(["delete Owner {\"Id\":1} alpha->", "delete Owner {\"Id\":2} beta->", "delete Owner {\"Id\":3} gamma->"], entries.Take(3).Order(StringComparer.Ordinal));
        Assert.Equal("insert Owner {\"Id\":1} ->beta", entries[3]);
    }

    [Fact]
    public async Task Multi_row_replace_records_each_row()
    {
        await StartAsync();
        await RawAsync("REPLACE INTO Owner (Id, Name, Code) VALUES (1, 'one', 'A'), (8, 'eight', 'H'), (3, 'three', 'C')");
        Assert.Equal(
            ["delete Owner {\"Id\":1} alpha->", "insert Owner {\"Id\":1} ->one", "insert Owner {\"Id\":8} ->eight", "delete Owner {\"Id\":3} gamma->", "insert Owner {\"Id\":3} ->three"],
            await OwnerEntriesAsync());
    }

    [Fact]
    public async Task Upsert_do_update_is_an_update_and_do_nothing_or_ignore_records_nothing()
    {
        await StartAsync();
        await RawAsync("INSERT INTO Owner (Id, Name, Code) VALUES (1, 'x', 'A') ON CONFLICT (Id) DO UPDATE SET Name = 'alpha-upserted'");
        Assert.Equal(["update Owner {\"Id\":1} alpha->alpha-upserted"], await NewEntriesAsync());
        await RawAsync("INSERT INTO Owner (Id, Name, Code) VALUES (2, 'y', 'B') ON CONFLICT DO NOTHING");
        await RawAsync("INSERT OR IGNORE INTO Owner (Id, Name, Code) VALUES (3, 'z', 'C')");
        Assert.Empty(await NewEntriesAsync());
        // An ignored row leaves no note behind that a later delete could turn into a second entry.
        await RawAsync("DELETE FROM Item WHERE OwnerId = 3; DELETE FROM Owner WHERE Id = 3; INSERT INTO Owner (Id, Name, Code) VALUES (9, 'nine', 'N')");
        Assert.Equal(["delete Owner {\"Id\":3} gamma->", "insert Owner {\"Id\":9} ->nine"], await NewEntriesAsync());
    }

    [Fact]
    public async Task Update_or_replace_records_the_row_it_pushed_out_and_the_update()
    {
        await StartAsync();
        await RawAsync("UPDATE OR REPLACE Owner SET Name = 'gamma' WHERE Id = 1"); // gamma (Id 3) is deleted to make room
        Assert.Equal(["delete Owner {\"Id\":3} gamma->", "update Owner {\"Id\":1} alpha->gamma"], await NewEntriesAsync());
    }

    [Fact]
    public async Task Cascading_deletes_and_set_null_are_captured_on_the_child_tables()
    {
        await StartAsync();
        await RawAsync("PRAGMA foreign_keys = ON; DELETE FROM Owner WHERE Id = 1; DELETE FROM Owner WHERE Id = 2;");
        var entries = await NewEntriesAsync("Label");
        Assert.Contains("delete Item {\"Id\":10} a-1->", entries);
        Assert.Contains("delete Item {\"Id\":11} a-2->", entries);
        Assert.Contains("delete Item {\"Id\":20} b-1->", entries);
        await using var db = new ModuleContext(Options);
        var setNull = await db.Set<AuditEntry>().SingleAsync(e => e.TableName == "Note" && e.Operation == AuditOperations.Update);
        Assert.Equal(AuditOperations.Update, setNull.Operation);
        Assert.Equal("{\"OwnerId\":2}", setNull.OldValues);
        Assert.Equal("{\"OwnerId\":null}", setNull.NewValues);
    }

    [Fact]
    public async Task A_replace_made_through_the_app_is_captured_and_attributed_the_same_way()
    {
        await StartAsync();
        await using (var db = new ModuleContext(Options))
        {
            await db.Database.ExecuteSqlRawAsync("INSERT OR REPLACE INTO Owner (Id, Name, Code) VALUES (2, 'beta-2', 'B')");
        }

        Assert.Equal(["delete Owner {\"Id\":2} beta->", "insert Owner {\"Id\":2} ->beta-2"], await OwnerEntriesAsync());
        await using var check = new ModuleContext(Options);
        Assert.All(await check.Set<AuditEntry>().Where(e => e.TableName == "Owner").OrderByDescending(e => e.Seq).Take(2).ToListAsync(),
            e => Assert.Equal("system:module", e.ActorId));
    }

    // ---- The store refuses every way of rewriting it ----

    [Theory]
    [InlineData("INSERT OR REPLACE INTO AuditEntries SELECT * FROM AuditEntries WHERE Seq = 2")]
    [InlineData("REPLACE INTO AuditEntries SELECT * FROM AuditEntries WHERE Seq = 2")]
    [InlineData("INSERT INTO AuditEntries SELECT * FROM AuditEntries WHERE Seq = 2 ON CONFLICT (Seq) DO UPDATE SET ActorName = 'mallory'")]
    [InlineData("INSERT INTO AuditEntries SELECT * FROM AuditEntries WHERE Seq = 2 ON CONFLICT DO NOTHING")]
    [InlineData("UPDATE OR REPLACE AuditEntries SET Seq = 1 WHERE Seq = 2")]
    [InlineData("UPDATE AuditEntries SET ActorName = 'mallory' WHERE Seq = 2")]
    [InlineData("DELETE FROM AuditEntries WHERE Seq = (SELECT max(Seq) FROM AuditEntries)")]
    [InlineData("INSERT INTO AuditEntries (Seq, Version, OccurredAtUtc, Operation, Origin, OutOfBand, PayloadHash, RowHash) SELECT max(Seq) + 5, 1, '2026-01-01', 'event', 'x', 0, '', '' FROM AuditEntries")]
    public async Task The_store_refuses_each_form_of_rewriting_it(string sql)
    {
        await StartAsync();
        await using var before = new ModuleContext(Options);
        var entries = await before.Set<AuditEntry>().AsNoTracking().OrderBy(e => e.Seq).ToListAsync();

        var error = await Assert.ThrowsAsync<SqliteException>(() => RawAsync(sql));
        Assert.Contains("append-only", error.Message);

        await using var after = new ModuleContext(Options);
        Assert.Equal(entries, await after.Set<AuditEntry>().AsNoTracking().OrderBy(e => e.Seq).ToListAsync());
        Assert.True((await after.VerifyAuditChainAsync()).IsValid);
    }

    [Fact]
    public async Task Only_entries_inside_a_removed_range_with_an_anchor_after_them_can_be_deleted()
    {
        await StartAsync();
        await using (var db = new ModuleContext(Options))
        {
            var items = await db.Set<AuditEntry>().Where(e => e.TableName == "Item").OrderBy(e => e.Seq).ToListAsync();
            await RawAsync($"INSERT INTO AuditRemovedRanges (FirstSeq, ThroughSeq, LastRowHash, RunId) VALUES ({items[0].Seq}, {items[^1].Seq}, '{items[^1].RowHash}', 'run-1')");
        }

        // A removed range alone is not enough: the anchor must follow in the chain.
        var early = await Assert.ThrowsAsync<SqliteException>(() => RawAsync("DELETE FROM AuditEntries WHERE TableName = 'Item'"));
        Assert.Contains("retention purge", early.Message);
        await using (var db = new ModuleContext(Options))
        {
            await db.Database.RecordAuditEventAsync(new AuditEventRequest(AuditEventNames.RetentionPurged, "retention/run-1",
                new Dictionary<string, string?> { ["runId"] = "run-1" }));
        }

        await RawAsync("DELETE FROM AuditEntries WHERE TableName = 'Item'"); // inside the range, anchored: allowed
        var error = await Assert.ThrowsAsync<SqliteException>(() => RawAsync("DELETE FROM AuditEntries WHERE TableName = 'Owner'"));
        Assert.Contains("retention purge", error.Message);
        await using var check = new ModuleContext(Options);
        Assert.Equal(0, await check.Set<AuditEntry>().CountAsync(e => e.TableName == "Item"));
        Assert.Equal(3, await check.Set<AuditEntry>().CountAsync(e => e.TableName == "Owner"));
    }
}
