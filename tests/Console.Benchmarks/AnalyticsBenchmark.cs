using System.Diagnostics;
using System.Globalization;
using ComplianceConsole.Core.Analytics;
using ComplianceConsole.Core.Query;
using ComplianceConsole.Data;
using ComplianceConsole.Data.Queries;
using ComplianceConsole.Data.Rollups;
using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore;

/// <summary>
/// The dashboard at scale (docs/benchmarks.md): each chart over 24 hours, 30 days and a year of the 10,000,000-entry query
/// store, p50 and p95 of several runs; then the capture ratios with the read side (rollups, text index) catching up beside
/// the writes and without it, in one run. The last line is the summary the issue asks for.
/// </summary>
internal static class AnalyticsBenchmark
{
    public static async Task<int> RunAsync(string[] args)
    {
        var runs = int.Parse(QueryBenchmark.Option(args, "--runs") ?? "15", CultureInfo.InvariantCulture);
        var rounds = int.Parse(QueryBenchmark.Option(args, "--rounds") ?? "11", CultureInfo.InvariantCulture);
        var storePath = Path.GetFullPath(QueryBenchmark.Option(args, "--store") ?? Path.Combine(Path.GetTempPath(), "cc-bench-query-10m", "store.db"));
        var settings = await QueryBenchmark.OpenStoreAsync(storePath, rebuild: false);

        DateTime last;
        long head;
        await using (var db = ConsoleDbContextFactory.Create(settings))
        {
            var watch = Stopwatch.StartNew();
            long counted = 0, step;
            while ((step = await AuditRollups.CatchUpAsync(db, 200_000)) > 0)
            {
                counted += step;
            }

            head = await db.AuditEntries.MaxAsync(e => e.Seq);
            // The newest busy hour (a few stray entries may lie later): the ranges end in the thick of the data.
            var busy = (await db.AuditHourCounts.GroupBy(r => r.Hour).Select(g => new { Hour = g.Key, Count = g.Sum(r => r.Count) }).Where(h => h.Count >= 100).ToListAsync()).Max(h => h.Hour);
            last = DateTime.UnixEpoch.AddHours(busy + 1).AddMinutes(16);
            Console.WriteLine($"Store: {head:N0} entries; ranges end at {last.AddMinutes(1):yyyy-MM-dd HH:mm} UTC; rollups caught up over {counted:N0} entries in {watch.Elapsed.TotalSeconds:F0} s (not counted); " +
                              $"{await db.AuditActorDayCounts.CountAsync():N0} daily actor rows, {await db.AuditActorHourCounts.CountAsync():N0} hourly actor rows, {await db.AuditHourCounts.CountAsync():N0} hourly rows.");
        }

        SqliteConnection.ClearAllPools();
        // "Now" is 17 minutes into the hour after the newest busy one: every range ends in the data, within an hour.
        var clock = new FixedClock(new DateTimeOffset(last.AddMinutes(1), TimeSpan.Zero));
        var dashboards = new AuditDashboardQuery(new AuditSearchService(new AuditVocabulary(), clock), new AnalyticsOptions());
        var charts = new (string Name, Func<ConsoleDbContext, DashboardWindow, Task> Read)[]
        {
            ("operations", (db, w) => dashboards.OperationsAsync(db, w)),
            ("tables", (db, w) => dashboards.TablesAsync(db, w)),
            ("top-users", (db, w) => dashboards.TopUsersAsync(db, w)),
            ("sign-ins", (db, w) => dashboards.SignInsAsync(db, w)),
            ("out-of-band", (db, w) => dashboards.OutOfBandAsync(db, w)),
            ("findings", (db, w) => dashboards.FindingsAsync(db, w.From, w.To, [])),
        };

        Console.WriteLine();
        Console.WriteLine($"{"chart",-12} {"range",-5} {"p50 ms",8} {"p95 ms",8}   ({runs} runs each, after one warm-up)");
        long worst = 0;
        var worstName = "";
        foreach (var preset in new[] { "24h", "30d", "1y" })
        {
            foreach (var (name, read) in charts)
            {
                var times = new List<long>();
                for (var i = 0; i <= runs; i++)
                {
                    await using var db = ConsoleDbContextFactory.Create(settings);
                    var watch = Stopwatch.StartNew();
                    var window = await dashboards.WindowAsync(db, new TimeRange(preset));
                    await read(db, window);
                    if (i > 0)
                    {
                        times.Add(watch.ElapsedMilliseconds);
                    }
                }

                times.Sort();
                var (p50, p95) = (times[times.Count / 2], times[(int)Math.Ceiling(times.Count * 0.95) - 1]);
                Console.WriteLine($"{name,-12} {preset,-5} {p50,8} {p95,8}");
                if (p95 > worst)
                {
                    (worst, worstName) = (p95, $"{name} over {preset}");
                }
            }

            await using (var db = ConsoleDbContextFactory.Create(settings))
            {
                var watch = Stopwatch.StartNew();
                var whole = await dashboards.LoadAsync(db, new TimeRange(preset));
                Console.WriteLine($"{"(the page)",-12} {preset,-5} {watch.ElapsedMilliseconds,8} {"",8}   one load of every chart: {whole.Operations.Total:N0} entries, {whole.Findings!.Count} findings");
            }
        }

        Console.WriteLine($"Worst chart: {worstName}, p95 {worst} ms.");
        Console.WriteLine();
        Console.WriteLine("Capture without the read side:");
        var without = await CaptureBenchmark.MeasureAsync(rounds);
        Console.WriteLine();
        Console.WriteLine("Capture with the read side:");
        var with = await CaptureBenchmark.MeasureAsync(rounds, readSide: true);
        Console.WriteLine();
        Console.WriteLine("capture without the read side: " + string.Join(", ", without.Select(r => $"{r.Name} {r.Ratio:F2}x")));
        double Ratio(string name) => with.Single(r => r.Name == name).Ratio;
        Console.WriteLine($"analytics p95: worst-chart {worst}ms, capture single-update {Ratio("single-update"):F2}x, batch-insert {Ratio("batch-insert"):F2}x, bulk-update {Ratio("bulk-update"):F2}x");
        return 0;
    }

    private sealed class FixedClock(DateTimeOffset now) : TimeProvider
    {
        public override DateTimeOffset GetUtcNow() => now;
    }
}
