using ComplianceConsole.Core.Auditing;
using ComplianceConsole.Data.Capture;
using ComplianceConsole.Data.Domain;
using ComplianceConsole.Data.Interceptors;
using Microsoft.EntityFrameworkCore;

namespace ComplianceConsole.Data.Tests;

public sealed class NeverBlockTests : IDisposable
{
    private readonly string _spoolPath = Path.Combine(Path.GetTempPath(), $"cc-spool-{Guid.NewGuid():N}", "audit-spool.jsonl");
    private static readonly DateTime CommittedAt = new(2026, 5, 6, 7, 8, 9, DateTimeKind.Utc);

    private sealed class FixedClock : TimeProvider
    {
        public override DateTimeOffset GetUtcNow() => new(CommittedAt);
    }

    private static Task BreakTheStoreAsync(SqliteTestDatabase store) =>
        store.ExecuteRawAsync("CREATE TRIGGER test_break_store BEFORE INSERT ON AuditEntries BEGIN SELECT RAISE(ABORT, 'store is full'); END");

    private static ConsoleDbContext NeverBlocking(SqliteTestDatabase store, AuditSpool spool) =>
        ConsoleDbContextFactory.Create(store.Settings, b => b.UseAuditTrail(new AuditContextAccessor(SqliteTestDatabase.Alice), new FixedClock(), spool));

    /// <summary>One committed change per tag name, with the store broken: one spool line each.</summary>
    private static async Task SpoolTagsAsync(SqliteTestDatabase store, AuditSpool spool, params string[] names)
    {
        foreach (var name in names)
        {
            await using var db = NeverBlocking(store, spool);
            db.Tags.Add(new Tag { Name = name });
            await db.SaveChangesAsync();
        }
    }

    private static async Task<List<string?>> TagNamesInTheChainAsync(SqliteTestDatabase store) =>
        (await store.ChangesAsync("Tags")).Select(e => System.Text.Json.JsonDocument.Parse(e.NewValues!).RootElement.GetProperty("Name").GetString()).ToList();

    [Fact]
    public async Task The_change_commits_its_entries_are_spooled_and_replay_puts_them_in_the_chain_with_their_actor()
    {
        await using var store = await SqliteTestDatabase.CreateAsync();
        var spool = new AuditSpool(_spoolPath);
        await BreakTheStoreAsync(store);
        await using (var db = NeverBlocking(store, spool))
        {
            db.Tags.AddRange(new Tag { Name = "kept-1" }, new Tag { Name = "kept-2" });
            await db.SaveChangesAsync(); // does not throw
        }

        await using (var db = store.Unaudited())
        {
            Assert.Equal(2, await db.Tags.CountAsync());
            Assert.Equal(0, await db.AuditPending.CountAsync()); // not left behind to be sealed as out-of-band
        }

        Assert.Empty(await store.ChangesAsync("Tags"));
        var record = Assert.Single(spool.ReadAll());
        Assert.Equal(2, record.Rows.Count);
        Assert.Contains("store is full", record.Error);
        Assert.Equal("u-alice", record.Context.Actor.Id);

        await store.ExecuteRawAsync("DROP TRIGGER test_break_store");
        await using (var db = store.Unaudited())
        {
            Assert.Equal(1, (await db.Database.ReplaySpoolAsync(spool)).Replayed);
            Assert.Equal(0, (await db.Database.ReplaySpoolAsync(spool)).Replayed);
            var report = await db.VerifyAuditChainAsync();
            Assert.True(report.IsValid, report.Describe());
        }

        var entries = await store.ChangesAsync("Tags");
        Assert.Equal(2, entries.Count);
        Assert.All(entries, e => Assert.Equal("u-alice", e.ActorId));
        Assert.All(entries, e => Assert.Equal(CommittedAt, DateTime.SpecifyKind(e.OccurredAtUtc, DateTimeKind.Utc)));
        Assert.All(entries, e => Assert.Equal(record.Id, e.TransactionId));
        Assert.Empty(spool.ReadAll());
    }

    [Fact]
    public async Task A_record_already_in_the_chain_is_not_sealed_twice_after_a_crash_before_clean_up()
    {
        await using var store = await SqliteTestDatabase.CreateAsync();
        var spool = new AuditSpool(_spoolPath);
        await BreakTheStoreAsync(store);
        await using (var db = NeverBlocking(store, spool))
        {
            db.Tags.Add(new Tag { Name = "once" });
            await db.SaveChangesAsync();
        }

        var record = Assert.Single(spool.ReadAll());
        await store.ExecuteRawAsync("DROP TRIGGER test_break_store");
        await using (var db = store.Unaudited())
        {
            await db.Database.ReplaySpoolAsync(spool);
            spool.Append(record); // the crash: the spool still held the record after its entries committed
            var again = await db.Database.ReplaySpoolAsync(spool);
            Assert.Equal(0, again.Replayed);
            Assert.Empty(again.Quarantined);
        }

        Assert.Single(await store.ChangesAsync("Tags"));
        Assert.Empty(spool.ReadAll());
    }

    [Fact]
    public async Task When_the_spool_cannot_be_written_either_the_change_fails()
    {
        await using var store = await SqliteTestDatabase.CreateAsync();
        var blocker = Path.Combine(Path.GetTempPath(), $"cc-file-{Guid.NewGuid():N}");
        await File.WriteAllTextAsync(blocker, "a file where the spool folder should be");
        var spool = new AuditSpool(Path.Combine(blocker, "audit-spool.jsonl"));
        await BreakTheStoreAsync(store);
        try
        {
            await using (var db = NeverBlocking(store, spool))
            {
                db.Tags.Add(new Tag { Name = "lost?" });
                var error = await Assert.ThrowsAsync<AuditCaptureException>(() => db.SaveChangesAsync());
                Assert.Contains("nor spooled", error.Message);
            }

            await using var check = store.Unaudited();
            Assert.Equal(0, await check.Tags.CountAsync());
        }
        finally
        {
            File.Delete(blocker);
        }
    }

    [Fact]
    public async Task A_torn_last_line_is_quarantined_with_its_place_the_good_lines_replay_and_the_next_append_starts_a_fresh_line()
    {
        await using var store = await SqliteTestDatabase.CreateAsync();
        var spool = new AuditSpool(_spoolPath);
        await BreakTheStoreAsync(store);
        await SpoolTagsAsync(store, spool, "good-1", "good-2", "good-3");
        var first = (await File.ReadAllLinesAsync(_spoolPath))[0];
        var torn = first[..(first.Length / 2)];
        await File.AppendAllTextAsync(_spoolPath, torn); // a crash during an append: half a line, no newline
        await SpoolTagsAsync(store, spool, "after-crash");

        var lines = await File.ReadAllLinesAsync(_spoolPath);
        Assert.Equal(5, lines.Length);
        Assert.Equal(torn, lines[3]); // the next record did not glue itself to the torn half
        Assert.Equal(4, spool.ReadAll().Count);

        await store.ExecuteRawAsync("DROP TRIGGER test_break_store");
        await using (var db = store.Unaudited())
        {
            var result = await db.Database.ReplaySpoolAsync(spool);
            Assert.Equal(4, result.Replayed);
            var quarantined = Assert.Single(result.Quarantined);
            Assert.Equal($"{_spoolPath}:4", quarantined.Where);
            Assert.Equal(torn, quarantined.Text); // not lost silently: the raw text is kept
            var report = await db.VerifyAuditChainAsync();
            Assert.True(report.IsValid, report.Describe());
        }

        Assert.Equal(["good-1", "good-2", "good-3", "after-crash"], await TagNamesInTheChainAsync(store));
        Assert.Empty(spool.ReadLines());
        var summary = spool.Summarize();
        Assert.Equal(0, summary.SpooledTransactions);
        Assert.Equal(1, summary.QuarantinedLines);
        Assert.Contains($"{_spoolPath}:4", summary.Describe());
        Assert.Contains("cut off by a crash", summary.NewestQuarantineReason);

        await using (var db = store.Unaudited())
        {
            Assert.Empty((await db.Database.ReplaySpoolAsync(spool)).Quarantined); // quarantined once, and kept
        }

        Assert.Equal(1, spool.Summarize().QuarantinedLines);
    }

    [Fact]
    public async Task A_record_the_store_refuses_is_quarantined_the_others_replay_and_the_current_error_is_shown()
    {
        await using var store = await SqliteTestDatabase.CreateAsync();
        var spool = new AuditSpool(_spoolPath);
        await BreakTheStoreAsync(store);
        await SpoolTagsAsync(store, spool, "before", "poison", "after");
        var records = spool.ReadAll();
        // Valid JSON, but a row without an operation breaks a NOT NULL constraint of the store.
        var poison = records[1] with { Rows = [records[1].Rows[0] with { Operation = null! }] };
        await File.WriteAllLinesAsync(_spoolPath, new[] { records[0], poison, records[2] }.Select(r => System.Text.Json.JsonSerializer.Serialize(r)));
        Assert.Contains("store is full", spool.Summarize().Describe()); // the error from when they were spooled

        await store.ExecuteRawAsync("DROP TRIGGER test_break_store");
        await using (var db = store.Unaudited())
        {
            var result = await db.Database.ReplaySpoolAsync(spool);
            Assert.Equal(2, result.Replayed);
            Assert.Null(result.StoppedBy);
            var quarantined = Assert.Single(result.Quarantined);
            Assert.Equal(2, quarantined.Line);
            Assert.Equal(poison.Id, quarantined.RecordId);
            Assert.Contains("NOT NULL constraint failed", quarantined.Reason);
        }

        Assert.Equal(["before", "after"], await TagNamesInTheChainAsync(store));
        var summary = spool.Summarize();
        Assert.Equal(0, summary.SpooledTransactions);
        Assert.Contains("NOT NULL constraint failed", summary.Describe());
        Assert.DoesNotContain("store is full", summary.Describe());
        Assert.Equal(poison, System.Text.Json.JsonSerializer.Deserialize<SpoolRecord>(summary.Quarantined[0].Text)!, new SpoolRecordComparer());
    }

    [Fact]
    public async Task While_the_store_refuses_every_entry_replay_quarantines_nothing_keeps_the_spool_and_shows_the_current_error()
    {
        await using var store = await SqliteTestDatabase.CreateAsync();
        var spool = new AuditSpool(_spoolPath);
        await BreakTheStoreAsync(store);
        await SpoolTagsAsync(store, spool, "waiting-1", "waiting-2");
        await store.ExecuteRawAsync("DROP TRIGGER test_break_store");
        await store.ExecuteRawAsync("CREATE TRIGGER test_break_store BEFORE INSERT ON AuditEntries BEGIN SELECT RAISE(ABORT, 'disk quota exceeded'); END");

        await using (var db = store.Unaudited())
        {
            var result = await db.Database.ReplaySpoolAsync(spool);
            Assert.Equal(0, result.Replayed);
            Assert.Empty(result.Quarantined);
            Assert.Contains("disk quota exceeded", result.StoppedBy);
        }

        var summary = spool.Summarize();
        Assert.Equal(2, summary.SpooledTransactions);
        Assert.Equal(0, summary.QuarantinedLines);
        Assert.Contains("disk quota exceeded", summary.LastError);

        await store.ExecuteRawAsync("DROP TRIGGER test_break_store");
        await using (var db = store.Unaudited())
        {
            Assert.Equal(2, (await db.Database.ReplaySpoolAsync(spool)).Replayed);
        }

        Assert.True(spool.Summarize().IsEmpty);
        Assert.Null(spool.ReplayError);
    }

    [Fact]
    public async Task Summarize_reports_spooled_unreadable_and_quarantined_lines_with_their_sources_and_writes_nothing()
    {
        await using var store = await SqliteTestDatabase.CreateAsync();
        var spool = new AuditSpool(_spoolPath);
        await BreakTheStoreAsync(store);
        await SpoolTagsAsync(store, spool, "one", "two");
        await File.AppendAllTextAsync(_spoolPath, "{\"Id\":\"torn"); // crash 1, line 3
        await using (var db = store.Unaudited())
        {
            await db.Database.ReplaySpoolAsync(spool); // the store is still broken: the torn line is quarantined, the rest waits
        }

        await File.AppendAllTextAsync(_spoolPath, "{\"Id\":\"torn again"); // crash 2, not yet replayed
        var before = Directory.GetFiles(Path.GetDirectoryName(_spoolPath)!).ToDictionary(f => f, File.ReadAllBytes);

        // What the verify verb does: a fresh instance over the same files.
        var summary = new AuditSpool(_spoolPath).Summarize();
        Assert.Equal(2, summary.SpooledTransactions);
        Assert.Equal(2, summary.SpooledEntries);
        Assert.Equal(1, summary.UnreadableLines);
        var quarantined = Assert.Single(summary.Quarantined);
        Assert.Equal($"{_spoolPath}:3", quarantined.Where);
        Assert.Equal(spool.QuarantinePath, summary.QuarantinePath);
        Assert.Contains("store is full", summary.LastError);
        Assert.False(summary.IsEmpty);
        var text = summary.Describe();
        Assert.Contains("2 audit entries from 2 committed change(s)", text);
        Assert.Contains("1 line(s) of the spool cannot be read", text);
        Assert.Contains($"1 spooled line(s) are quarantined in {spool.QuarantinePath}", text);

        var after = Directory.GetFiles(Path.GetDirectoryName(_spoolPath)!).ToDictionary(f => f, File.ReadAllBytes);
        Assert.Equal(before.Keys.Order(), after.Keys.Order());
        Assert.All(before, f => Assert.Equal(f.Value, after[f.Key]));

        var nowhere = Path.Combine(Path.GetDirectoryName(_spoolPath)!, "not-created", "audit-spool.jsonl");
        Assert.True(new AuditSpool(nowhere).Summarize().IsEmpty);
        Assert.False(Directory.Exists(Path.GetDirectoryName(nowhere)));
    }

    [Fact]
    public async Task The_store_probe_runs_the_real_write_path_leaves_nothing_behind_and_names_a_broken_store()
    {
        await using var store = await SqliteTestDatabase.CreateAsync();
        var entries = (await store.AllEntriesAsync()).Count;
        await using (var db = store.Unaudited())
        {
            var healthy = await AuditStoreProbe.CheckAsync(db);
            Assert.True(healthy.Writable, healthy.Error);
            Assert.Equal(0, await db.AuditPending.CountAsync());
        }

        Assert.Equal(entries, (await store.AllEntriesAsync()).Count);
        await store.BreakAuditStoreAsync("store is full");
        await using (var db = store.Unaudited())
        {
            var broken = await AuditStoreProbe.CheckAsync(db);
            Assert.False(broken.Writable);
            Assert.Contains("store is full", broken.Error);
            Assert.Equal(0, await db.AuditPending.CountAsync());
            var report = await db.VerifyAuditChainAsync();
            Assert.True(report.Chain.IsValid, report.Describe()); // the chain is intact; the breaking trigger itself is reported as a tamper
        }

        Assert.Equal(entries, (await store.AllEntriesAsync()).Count);
    }

    /// <summary>Records hold lists, which compare by reference; this compares what was spooled.</summary>
    private sealed class SpoolRecordComparer : IEqualityComparer<SpoolRecord>
    {
        public bool Equals(SpoolRecord? x, SpoolRecord? y) =>
            x is not null && y is not null && x.Id == y.Id && x.Error == y.Error && x.Context.Actor.Id == y.Context.Actor.Id && x.Rows.SequenceEqual(y.Rows);

        public int GetHashCode(SpoolRecord obj) => obj.Id.GetHashCode(StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_change_whose_commit_fails_after_its_entries_were_spooled_leaves_no_spool_line()
    {
        await using var store = await SqliteTestDatabase.CreateAsync();
        var spool = new AuditSpool(_spoolPath);
        await BreakTheStoreAsync(store);
        await using (var db = NeverBlocking(store, spool))
        {
            await using var transaction = await db.Database.BeginTransactionAsync();
            // A deferred foreign key is checked at COMMIT: the seal has run (and spooled) by then, and the commit fails.
            await db.Database.ExecuteSqlRawAsync("PRAGMA defer_foreign_keys = ON");
            await db.Database.ExecuteSqlRawAsync("INSERT INTO Tags (Name) VALUES ('never committed')");
            await db.Database.ExecuteSqlRawAsync("INSERT INTO CustomerTags (CustomersId, TagsId) VALUES (999, 999)");
            await Assert.ThrowsAsync<Microsoft.Data.Sqlite.SqliteException>(() => transaction.CommitAsync());
        }

        Assert.Empty(spool.ReadLines());
        await using var check = store.Unaudited();
        Assert.Equal(0, await check.Tags.CountAsync());
    }

    [Fact]
    public async Task A_spool_line_whose_change_never_committed_is_quarantined_not_sealed()
    {
        await using var store = await SqliteTestDatabase.CreateAsync();
        var spool = new AuditSpool(_spoolPath);
        await BreakTheStoreAsync(store);
        await SpoolTagsAsync(store, spool, "committed");
        // The process stopped after writing a spool line and before its transaction committed: no mark in the database.
        var record = Assert.Single(spool.ReadAll());
        spool.Append(record with { Id = "crashed-before-commit" });
        await store.ExecuteRawAsync("DROP TRIGGER test_break_store");
        await using (var db = store.Unaudited())
        {
            var result = await db.Database.ReplaySpoolAsync(spool);
            Assert.Equal(1, result.Replayed);
            var quarantined = Assert.Single(result.Quarantined);
            Assert.Contains("never committed", quarantined.Reason);
        }

        Assert.Single(await store.ChangesAsync("Tags")); // only the change that committed
        Assert.Empty(spool.ReadLines());
    }

    public void Dispose()
    {
        var dir = Path.GetDirectoryName(_spoolPath)!;
        if (Directory.Exists(dir))
        {
            Directory.Delete(dir, recursive: true);
        }
    }
}
