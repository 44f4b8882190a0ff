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
            Assert.Equal(1, await db.Database.ReplaySpoolAsync(spool));
            Assert.Equal(0, await db.Database.ReplaySpoolAsync(spool));
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
            Assert.Equal(1, await db.Database.ReplaySpoolAsync(spool));
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

    public void Dispose()
    {
        var dir = Path.GetDirectoryName(_spoolPath)!;
        if (Directory.Exists(dir))
        {
            Directory.Delete(dir, recursive: true);
        }
    }
}
