using ComplianceConsole.Core.Analytics;
using ComplianceConsole.Core.Auditing;
using ComplianceConsole.Core.Query;
using ComplianceConsole.Data.Capture;
using ComplianceConsole.Data.Domain;
using ComplianceConsole.Data.Queries;
using ComplianceConsole.Data.Rollups;
using Microsoft.EntityFrameworkCore;

namespace ComplianceConsole.Data.Tests.Queries;

/// <summary>
/// The dashboard over a trail written here, hour by hour: what every chart counts, that each element's link shows exactly
/// that many entries in the audit browser, the unusual-activity rules at their thresholds, and an Operator's own view.
/// </summary>
public abstract class AuditDashboardTests
{
    protected abstract Task<TestDatabase> CreateStoreAsync();

    private static readonly AuditContext Bob = QueryTestData.Bob;
    private static readonly AuditContext Carol = new(new AuditActor("u-carol", "carol@example.test", ["Admin"]), "page:/tags", "corr-carol", "192.0.2.7", "Edge");
    // Four days ago at midnight: a raw-SQL write is stamped by the database's own clock (now), so the trail written by the
    // test clock lies in the past and the dashboard's clock is now.
    private static readonly DateTimeOffset Start = new(DateTime.UtcNow.Date.AddDays(-4), TimeSpan.Zero);

    private static readonly AnalyticsOptions Thresholds = new()
    {
        BulkDeleteRowsPerHour = 5, BulkUpdateRowsPerHour = 4, FailedLoginsPerHour = 3, NewHourAfterDays = 2, SensitiveTables = ["Tags"], TopCount = 10,
    };

    private static async Task AddTagsAsync(TestDatabase store, AuditContext who, TestClock clock, string prefix, int count)
    {
        await using var db = store.Audited(who, clock);
        db.Tags.AddRange(Enumerable.Range(0, count).Select(i => new Tag { Name = $"{prefix}-{i}" }));
        await db.SaveChangesAsync();
    }

    private static async Task DeleteTagsAsync(TestDatabase store, AuditContext who, TestClock clock, string prefix)
    {
        await using var db = store.Audited(who, clock);
        await db.Tags.Where(t => t.Name.StartsWith(prefix + "-")).ExecuteDeleteAsync();
    }

    private static async Task FailedSignInsAsync(TestDatabase store, TestClock clock, string account, int count)
    {
        await using var db = store.Audited(new AuditContext(new AuditActor("anonymous", "anonymous", []), "endpoint:/account/login", "corr-login", "198.51.100.9", "curl"), clock);
        for (var i = 0; i < count; i++)
        {
            await db.Database.RecordAuditEventAsync(new AuditEventRequest(AuditEventNames.LoginFailed, account));
        }
    }

    /// <summary>
    /// Day 0 to 2: Alice adds tags at 06:xx every day and Bob on day 0 at 09:xx. Day 3: Alice at 22:xx (a new hour after 3
    /// days), Carol's first change to Tags, Bob deleting 4 rows in one hour and 5 in the next (threshold 5), failed
    /// sign-ins 2 in one hour and 3 in the next (threshold 3), and a raw-SQL write sealed out of band.
    /// </summary>
    private static async Task<TestClock> WriteTrailAsync(TestDatabase store)
    {
        var clock = new TestClock(Start);
        for (var day = 0; day < 3; day++)
        {
            clock.Now = Start.AddDays(day).AddHours(6).AddMinutes(10);
            await AddTagsAsync(store, TestDatabase.Alice, clock, $"alice-{day}", 3);
        }

        clock.Now = Start.AddHours(9).AddMinutes(5);
        await AddTagsAsync(store, Bob, clock, "bob-a", 4);
        await AddTagsAsync(store, Bob, clock, "bob-b", 5);
        await using (var db = store.Unaudited())
        {
            await AuditRollups.CatchUpAsync(db, batch: 1_000_000); // days 0 to 2 counted; day 3 partly above the mark, below
        }

        var day3 = Start.AddDays(3);
        clock.Now = day3.AddHours(1).AddMinutes(15);
        await DeleteTagsAsync(store, Bob, clock, "bob-a");
        clock.Now = day3.AddHours(2).AddMinutes(15);
        await DeleteTagsAsync(store, Bob, clock, "bob-b");
        clock.Now = day3.AddHours(3).AddMinutes(20);
        await FailedSignInsAsync(store, clock, "alice@example.test", 2);
        clock.Now = day3.AddHours(4).AddMinutes(20);
        await FailedSignInsAsync(store, clock, "alice@example.test", 2);
        await FailedSignInsAsync(store, clock, "mallory@example.test", 1);
        clock.Now = day3.AddHours(5).AddMinutes(30);
        await AddTagsAsync(store, Carol, clock, "carol", 2);
        clock.Now = day3.AddHours(22).AddMinutes(40);
        await AddTagsAsync(store, TestDatabase.Alice, clock, "alice-late", 1);
        await store.ExecuteRawAsync("INSERT INTO Tags (Name) VALUES ('raw-sql')");
        await using (var db = store.Audited(Bob, clock))
        {
            await db.Database.SealOutOfBandAsync();
        }

        clock.Now = DateTimeOffset.UtcNow.AddMinutes(5);
        return clock;
    }

    private static async Task CatchUpAsync(TestDatabase store)
    {
        await using var db = store.Unaudited();
        while (await AuditRollups.CatchUpAsync(db) > 0)
        {
        }
    }

    private static IEnumerable<ChartData> Charts(AuditDashboard d) =>
        new[] { d.Operations, d.Tables, d.TopUsers, d.FailedLogins, d.TopTargets, d.TopIps, d.OutOfBand }.OfType<ChartData>();

    [ProviderFact]
    public async Task Every_chart_element_links_to_a_search_that_shows_exactly_its_count_over_every_range()
    {
        await using var store = await CreateStoreAsync();
        var clock = await WriteTrailAsync(store);
        var service = new AuditSearchService(new AuditVocabulary(), clock);
        var dashboards = new AuditDashboardQuery(service, Thresholds);
        await using var db = store.Unaudited();
        var checkedCells = 0;
        foreach (var range in new[] { new TimeRange("24h"), new TimeRange("7d"), new TimeRange("1y"), TimeRange.Between(Start.UtcDateTime.AddHours(7).AddMinutes(3), clock.Now.UtcDateTime.AddMinutes(-50)) })
        {
            var dashboard = await dashboards.LoadAsync(db, range);
            foreach (var chart in Charts(dashboard))
            {
                foreach (var row in chart.Rows)
                {
                    foreach (var cell in row.Cells.Where(c => c.Count > 0))
                    {
                        Assert.NotNull(cell.Link);
                        var shown = await service.CountAsync(db, cell.Link!);
                        Assert.True(cell.Count == shown.Value, $"{chart.Title}, {row.Label}{row.StartUtc:O}, {cell.Series}: the chart says {cell.Count}, the browser {shown} for {cell.Link!.ToQueryString()}");
                        checkedCells++;
                    }

                    if (row.Link is { } whole && row.Total > 0)
                    {
                        Assert.Equal(row.Total, (await service.CountAsync(db, whole)).Value);
                    }
                }
            }

            // The operations over time add up to every entry of the range.
            var (from, to) = (dashboard.FromUtc, dashboard.ToUtc);
            Assert.Equal(await db.AuditEntries.LongCountAsync(e => e.OccurredAtUtc >= from && e.OccurredAtUtc < to), dashboard.Operations.Total);
        }

        Assert.True(checkedCells > 40, $"{checkedCells} cells checked");
    }

    [ProviderFact]
    public async Task The_charts_count_the_trail_written_and_the_findings_fire_at_their_thresholds_and_not_below()
    {
        await using var store = await CreateStoreAsync();
        var clock = await WriteTrailAsync(store);
        await CatchUpAsync(store);
        var service = new AuditSearchService(new AuditVocabulary(), clock);
        await using var db = store.Unaudited();
        var dashboard = await new AuditDashboardQuery(service, Thresholds).LoadAsync(db, new TimeRange("7d"));

        // Top users: Bob added 9 and deleted 9 tags; Alice added 10; Carol added 2; the raw-SQL write's actor is unknown.
        var users = dashboard.TopUsers!.Rows.ToDictionary(r => r.Label);
        Assert.Equal(["Bob.Builder@example.test", "alice@example.test", "carol@example.test", "unknown"], dashboard.TopUsers.Rows.Select(r => r.Label));
        Assert.Equal((9, 9), (users["Bob.Builder@example.test"].CountOf("insert"), users["Bob.Builder@example.test"].CountOf("delete")));
        Assert.Equal(10, users["alice@example.test"].CountOf("insert"));
        Assert.Equal(22 + 9, dashboard.Tables.Rows.Single(r => r.Label == "Tags").Total); // 21 inserts in the console, 1 by raw SQL, 9 deletes
        Assert.Equal([4L, 1L], dashboard.TopTargets!.Rows.Select(r => r.Total));
        Assert.Equal("alice@example.test", dashboard.TopTargets.Rows[0].Label);
        Assert.Equal(5, dashboard.TopIps!.Rows.Single(r => r.Label == "198.51.100.9").Total);
        Assert.Equal(5, dashboard.FailedLogins!.Total);
        Assert.Equal(1, dashboard.OutOfBand!.Total);

        var findings = dashboard.Findings!;
        string Says(Finding f) => f.Describe(TimeZoneInfo.Utc);
        var day3 = Start.UtcDateTime.AddDays(3);

        // Bulk delete: 4 in the 01:00 hour stays below 5; 5 in the 02:00 hour meets it.
        var bulk = Assert.Single(findings, f => f.Kind == FindingKind.BulkDelete);
        Assert.Equal((day3.AddHours(2), "Bob.Builder@example.test", 5L), (bulk.AtUtc, bulk.Actor, bulk.Count));
        Assert.Equal($"Bob.Builder@example.test deleted 5 rows in the hour from {day3:yyyy-MM-dd} 02:00; a finding from 5 deletes an hour.", Says(bulk));
        Assert.Equal(5, (await service.CountAsync(db, bulk.Link)).Value);

        // Failed sign-ins: 2 in the 03:00 hour, 3 in the 04:00 hour.
        var spike = Assert.Single(findings, f => f.Kind == FindingKind.FailedLoginSpike);
        Assert.Equal((day3.AddHours(4), 3L), (spike.AtUtc, spike.Count));
        Assert.Equal(3, (await service.CountAsync(db, spike.Link)).Value);

        // New hours: Alice at 22:00 after three days at 06:00, Bob at 01:00 and 02:00 after a day at 09:00 more than two days
        // before. Carol's and the anonymous sign-ins' first hours are not "new" (no history yet).
        Assert.Equal([(day3.AddHours(22), "alice@example.test"), (day3.AddHours(2), "Bob.Builder@example.test"), (day3.AddHours(1), "Bob.Builder@example.test")],
            findings.Where(f => f.Kind == FindingKind.NewHour).Select(f => (f.AtUtc, f.Actor)));
        var late = findings.First(f => f.Kind == FindingKind.NewHour);
        Assert.Contains("never worked in 3 days of activity", Says(late));
        Assert.Equal(1, (await service.CountAsync(db, late.Link)).Value);

        // First changes to the sensitive table within the week: all three actors started on it in range, Carol last.
        var firsts = findings.Where(f => f.Kind == FindingKind.FirstOnSensitiveTable).ToList();
        Assert.Equal(["alice@example.test", "Bob.Builder@example.test", "carol@example.test"], firsts.Select(f => f.Actor).Order(StringComparer.OrdinalIgnoreCase));
        var carol = firsts.Single(f => f.Actor == "carol@example.test");
        Assert.Equal(day3.AddHours(5), carol.AtUtc);
        Assert.Equal(2, (await service.CountAsync(db, carol.Link)).Value);

        // Out of band: the raw-SQL insert into Tags.
        var outside = Assert.Single(findings, f => f.Kind == FindingKind.OutOfBand);
        Assert.Equal(("Tags", 1L), (outside.Table, outside.Count));

        // From day 3 on, only day 3's findings remain, and the old first changes do not.
        var today = await new AuditDashboardQuery(service, Thresholds).LoadAsync(db, TimeRange.Between(day3, clock.Now.UtcDateTime));
        Assert.Equal(["carol@example.test"], today.Findings!.Where(f => f.Kind == FindingKind.FirstOnSensitiveTable).Select(f => f.Actor));

        // One more delete in the 01:00 hour lifts it to the threshold.
        await using (var write = store.Audited(Bob, new TestClock(new DateTimeOffset(day3.AddHours(1).AddMinutes(50), TimeSpan.Zero))))
        {
            write.Tags.Add(new Tag { Name = "bob-c-0" });
            await write.SaveChangesAsync();
            await write.Tags.Where(t => t.Name == "bob-c-0").ExecuteDeleteAsync();
        }

        await CatchUpAsync(store);
        var after = await new AuditDashboardQuery(service, Thresholds).LoadAsync(db, new TimeRange("7d"));
        Assert.Equal([day3.AddHours(2), day3.AddHours(1)], after.Findings!.Where(f => f.Kind == FindingKind.BulkDelete).Select(f => f.AtUtc));
    }

    [ProviderFact]
    public async Task An_operators_dashboard_counts_only_their_own_work_and_links_nowhere()
    {
        await using var store = await CreateStoreAsync();
        var clock = await WriteTrailAsync(store);
        var service = new AuditSearchService(new AuditVocabulary(), clock);
        await using var db = store.Unaudited();
        var mine = await new AuditDashboardQuery(service, Thresholds).LoadAsync(db, new TimeRange("7d"), ownActor: "alice@example.test");

        Assert.Equal(10, mine.Operations.Total);
        Assert.Equal(10, mine.Tables.Rows.Single().CountOf("insert"));
        Assert.Null(mine.TopUsers);
        Assert.Null(mine.Findings);
        Assert.Null(mine.FailedLogins);
        Assert.All(Charts(mine).SelectMany(c => c.Rows).SelectMany(r => r.Cells), c => Assert.Null(c.Link));

        // A part of a name is not another actor's whole name: "alice" would match no one else, but "carol@example.test" is Carol only.
        var carol = await new AuditDashboardQuery(service, Thresholds).LoadAsync(db, new TimeRange("7d"), ownActor: "carol@example.test");
        Assert.Equal(2, carol.Operations.Total);
    }
}

public sealed class SqliteAuditDashboardTests : AuditDashboardTests
{
    protected override async Task<TestDatabase> CreateStoreAsync() => await SqliteTestDatabase.CreateAsync();
}

[RequiresSqlServer]
public sealed class SqlServerAuditDashboardTests : AuditDashboardTests
{
    protected override async Task<TestDatabase> CreateStoreAsync() => await SqlServerTestDatabase.CreateAsync();
}
