using ComplianceConsole.Core.Auditing;
using ComplianceConsole.Core.Query;
using ComplianceConsole.Data.Capture;
using ComplianceConsole.Data.Domain;
using ComplianceConsole.Data.Queries;
using ComplianceConsole.Data.Rollups;
using Microsoft.EntityFrameworkCore;

namespace ComplianceConsole.Data.Tests.Queries;

/// <summary>The hourly rollups equal a fresh count of the trail, and the histogram read through them equals one read from the entries.</summary>
public abstract class AuditRollupTests
{
    protected abstract Task<TestDatabase> CreateStoreAsync();

    private static readonly AuditContext Bob = QueryTestData.Bob;

    private static Customer NewCustomer(string name) => QueryTestData.NewCustomer(name);

    /// <summary>Every kind of write, spread over hours at odd minutes: EF inserts, updates and deletes, bulk updates and deletes, raw SQL sealed out of band, and events.</summary>
    private static async Task WriteEveryKindAsync(TestDatabase store, TestClock clock, int round)
    {
        clock.Now = clock.Now.AddMinutes(47);
        int id;
        await using (var db = store.Audited(TestDatabase.Alice, clock))
        {
            var customer = NewCustomer($"Round {round}");
            customer.Tags.Add(new Tag { Name = $"r{round}" });
            db.Customers.Add(customer);
            await db.SaveChangesAsync();
            id = customer.Id;
        }

        clock.Now = clock.Now.AddMinutes(29);
        await using (var db = store.Audited(Bob, clock))
        {
            var customer = await db.Customers.SingleAsync(c => c.Id == id);
            customer.Name += " (renamed)";
            await db.SaveChangesAsync();
            await db.Tags.Where(t => t.Name == $"r{round}").ExecuteUpdateAsync(s => s.SetProperty(t => t.Name, $"r{round}-bulk"));
        }

        clock.Now = clock.Now.AddMinutes(13);
        await store.ExecuteRawAsync($"INSERT INTO Tags (Name) VALUES ('outside-{round}')");
        await using (var db = store.Audited(Bob, clock))
        {
            await db.Database.SealOutOfBandAsync();
            await db.Database.RecordAuditEventAsync(new AuditEventRequest(round % 2 == 0 ? AuditEventNames.LoginFailed : AuditEventNames.LoginSucceeded, "bob@example.test"));
            await db.Tags.Where(t => t.Name == $"outside-{round}").ExecuteDeleteAsync();
            db.Customers.Remove(await db.Customers.SingleAsync(c => c.Id == id));
            await db.SaveChangesAsync();
        }
    }

    private static long HourOf(DateTime utc) => (long)Math.Floor((DateTime.SpecifyKind(utc, DateTimeKind.Utc) - DateTime.UnixEpoch).TotalSeconds) / 3600;

    /// <summary>The rollups against a count of the entries at or below the mark, made here in memory.</summary>
    private static async Task AssertRollupsEqualAFreshCountAsync(ConsoleDbContext db)
    {
        var through = await AuditRollups.ThroughAsync(db);
        var entries = await db.AuditEntries.AsNoTracking().Where(e => e.Seq <= through).ToListAsync();
        Assert.NotEmpty(entries);

        var freshByActor = entries
            .GroupBy(e => (e.ActorName ?? "", HourOf(e.OccurredAtUtc), e.Operation, e.TableName ?? "", e.EventName ?? "", e.OutOfBand))
            .ToDictionary(g => g.Key, g => (long)g.Count());
        var byActor = (await db.AuditActorHourCounts.AsNoTracking().ToListAsync())
            .ToDictionary(r => (r.ActorName, r.Hour, r.Operation, r.TableName, r.EventName, r.OutOfBand), r => r.Count);
        Assert.Equal(freshByActor.OrderBy(p => p.Key), byActor.OrderBy(p => p.Key));

        var fresh = entries.GroupBy(e => (HourOf(e.OccurredAtUtc), e.Operation, e.TableName ?? "", e.EventName ?? "", e.OutOfBand)).ToDictionary(g => g.Key, g => (long)g.Count());
        var hourly = (await db.AuditHourCounts.AsNoTracking().ToListAsync()).ToDictionary(r => (r.Hour, r.Operation, r.TableName, r.EventName, r.OutOfBand), r => r.Count);
        Assert.Equal(fresh.OrderBy(p => p.Key), hourly.OrderBy(p => p.Key));
    }

    private static string Bars(AuditHistogram histogram) =>
        string.Join("\n", histogram.Bars.Where(b => b.Total > 0).Select(b => $"{b.StartUtc:O} " + string.Join(",", b.ByOperation.OrderBy(p => p.Key).Select(p => $"{p.Key}={p.Value}"))));

    [ProviderFact]
    public async Task The_rollups_equal_a_fresh_count_after_every_kind_of_write_however_the_catch_up_is_split()
    {
        await using var store = await CreateStoreAsync();
        var clock = new TestClock(new DateTimeOffset(2026, 11, 20, 6, 10, 0, TimeSpan.Zero));
        for (var round = 0; round < 4; round++)
        {
            await WriteEveryKindAsync(store, clock, round);
            await using var db = store.Unaudited();
            // Small, uneven runs: the same hour is counted by several catch-ups, so rows are added to as well as created.
            while (await AuditRollups.CatchUpAsync(db, batch: 3 + round) > 0)
            {
            }

            await AssertRollupsEqualAFreshCountAsync(db);
        }

        await using (var db = store.Unaudited())
        {
            var head = await db.AuditEntries.MaxAsync(e => e.Seq);
            Assert.Equal(head, await AuditRollups.ThroughAsync(db));
            Assert.Equal(head, await AuditRollups.RebuildAsync(db) is var counted && counted == await db.AuditEntries.LongCountAsync() ? head : -1);
            await AssertRollupsEqualAFreshCountAsync(db);
        }
    }

    [ProviderFact]
    public async Task Two_readers_catching_up_at_once_never_count_an_entry_twice()
    {
        await using var store = await CreateStoreAsync();
        var clock = new TestClock(new DateTimeOffset(2026, 11, 20, 6, 10, 0, TimeSpan.Zero));
        for (var round = 0; round < 3; round++)
        {
            await WriteEveryKindAsync(store, clock, round);
        }

        async Task CatchUpAsync()
        {
            await using var db = store.Unaudited();
            var head = await db.AuditEntries.MaxAsync(e => e.Seq);
            while (await AuditRollups.ThroughAsync(db) < head)
            {
                await AuditRollups.CatchUpAsync(db, batch: 2);
            }
        }

        await Task.WhenAll(Task.Run(CatchUpAsync), Task.Run(CatchUpAsync));
        await using var reader = store.Unaudited();
        await AssertRollupsEqualAFreshCountAsync(reader);
    }

    [ProviderFact]
    public async Task A_catch_up_that_fails_half_way_leaves_the_rollups_and_their_mark_as_they_were()
    {
        await using var store = await CreateStoreAsync();
        var clock = new TestClock(new DateTimeOffset(2026, 11, 20, 6, 10, 0, TimeSpan.Zero));
        await WriteEveryKindAsync(store, clock, 0);
        await using (var db = store.Unaudited())
        {
            await AuditRollups.CatchUpAsync(db, batch: 5);
        }

        await WriteEveryKindAsync(store, clock, 1);
        // The per-actor rows are written after the mark moved and the hourly rows were counted: make that last write fail.
        var sqlServer = store.Settings.Provider == DatabaseProvider.SqlServer;
        await store.ExecuteRawAsync(sqlServer
            ? $"CREATE TRIGGER test_rollup_crash ON {AuditRollups.ActorHourTable} AFTER INSERT, UPDATE AS THROW 50000, 'crash', 1;"
            : $"CREATE TRIGGER test_rollup_crash BEFORE INSERT ON {AuditRollups.ActorHourTable} BEGIN SELECT RAISE(ABORT, 'crash'); END;");
        await using (var db = store.Unaudited())
        {
            var mark = await AuditRollups.ThroughAsync(db);
            var hourly = await db.AuditHourCounts.SumAsync(r => r.Count);
            await Assert.ThrowsAnyAsync<Exception>(() => AuditRollups.CatchUpAsync(db, batch: 1_000));
            db.ChangeTracker.Clear();
            Assert.Equal(mark, await AuditRollups.ThroughAsync(db));
            Assert.Equal(hourly, await db.AuditHourCounts.SumAsync(r => r.Count));
            await AssertRollupsEqualAFreshCountAsync(db);
        }

        await store.ExecuteRawAsync("DROP TRIGGER test_rollup_crash");
        await using (var db = store.Unaudited())
        {
            while (await AuditRollups.CatchUpAsync(db, batch: 1_000) > 0)
            {
            }

            Assert.Equal(await db.AuditEntries.MaxAsync(e => e.Seq), await AuditRollups.ThroughAsync(db));
            await AssertRollupsEqualAFreshCountAsync(db);
        }
    }

    [ProviderFact]
    public async Task The_histogram_through_the_rollups_equals_the_histogram_of_the_entries_for_every_filter_they_count_by()
    {
        await using var store = await CreateStoreAsync();
        var clock = new TestClock(new DateTimeOffset(2026, 11, 20, 6, 10, 0, TimeSpan.Zero));
        for (var round = 0; round < 6; round++)
        {
            await WriteEveryKindAsync(store, clock, round);
            if (round == 3)
            {
                await using var db = store.Unaudited();
                await AuditRollups.CatchUpAsync(db, batch: 1_000_000); // rounds 4 and 5 stay above the mark
            }
        }

        var service = new AuditSearchService(new AuditVocabulary(), clock);
        await using var reader = store.Unaudited();
        var now = clock.Now.UtcDateTime;
        var ranges = new[]
        {
            TimeRange.All, new TimeRange("7d"), new TimeRange("24h"),
            TimeRange.Between(new DateTime(2026, 11, 20, 7, 33, 0, DateTimeKind.Utc), now.AddMinutes(-41)), // part-hours at both ends
            TimeRange.Between(new DateTime(2026, 11, 20, 8, 5, 0, DateTimeKind.Utc), new DateTime(2026, 11, 20, 8, 50, 0, DateTimeKind.Utc)), // inside one hour
        };
        var queries = new[]
        {
            "", "table:Customers", "-table:Customers", "op:update", "op:(insert OR delete)", "event:auth.*", "-event:auth.login_failed",
            "outofband:true", "actor:bob", "-actor:bob", "actor:alice table:Tags", "table:Nowhere",
        };
        var hourOrMore = 0;
        foreach (var (range, maxBars) in ranges.SelectMany(r => new[] { (r, 6), (r, 12) }))
        {
            foreach (var text in queries)
            {
                var parsed = QueryParser.Parse(text);
                Assert.True(parsed.Ok, text);
                var search = new AuditSearch(parsed.Query, range);
                var viaRollups = await service.HistogramAsync(reader, search, maxBars);
                var fromEntries = await service.HistogramAsync(reader, search, maxBars, useRollups: false);
                Assert.True(Bars(fromEntries) == Bars(viaRollups), $"{text} over {range.Describe(TimeZoneInfo.Utc)} in {maxBars} bars:\nentries:\n{Bars(fromEntries)}\nrollups:\n{Bars(viaRollups)}");
                hourOrMore += viaRollups.BarSize >= TimeSpan.FromHours(1) ? 1 : 0;
            }
        }

        Assert.True(hourOrMore >= queries.Length * 6, "most cases have bars of an hour or more, which the rollups serve");

        // The rollups are what the histogram reads: a row counted up shows in the bar.
        var all = new AuditSearch(AuditQuery.Empty, TimeRange.All);
        var before = (await service.HistogramAsync(reader, all, maxBars: 6)).Total;
        var first = await reader.AuditHourCounts.MinAsync(r => r.Hour);
        var rows = await reader.AuditHourCounts.CountAsync(r => r.Hour == first);
        await store.ExecuteRawAsync($"UPDATE {AuditRollups.HourTable} SET Count = Count + 1000 WHERE Hour = {first}");
        Assert.Equal(before + 1000 * rows, (await service.HistogramAsync(reader, all, maxBars: 6)).Total);
    }
}

public sealed class SqliteAuditRollupTests : AuditRollupTests
{
    protected override async Task<TestDatabase> CreateStoreAsync() => await SqliteTestDatabase.CreateAsync();
}

[RequiresSqlServer]
public sealed class SqlServerAuditRollupTests : AuditRollupTests
{
    protected override async Task<TestDatabase> CreateStoreAsync() => await SqlServerTestDatabase.CreateAsync();
}
