using System.Diagnostics;
using System.Globalization;
using ComplianceConsole.Core.Auditing;
using ComplianceConsole.Data;
using ComplianceConsole.Data.Capture;
using ComplianceConsole.Data.Domain;
using ComplianceConsole.Data.History;
using ComplianceConsole.Data.Queries;
using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore;

/// <summary>
/// Record history at scale (docs/benchmarks.md): the history page's reads for a customer with 10,000 versions in the
/// 10,000,000-entry query store, the record as of a random moment, and reconciliation over a 1,000,000-row table.
/// Both stores are built once and reused. The last line is the summary the issue asks for.
/// </summary>
internal static class HistoryBenchmark
{
    private const int Versions = 10_000;
    private const int TableRows = 1_000_000;

    public static async Task<int> RunAsync(string[] args)
    {
        var runs = int.Parse(QueryBenchmark.Option(args, "--runs") ?? "30", CultureInfo.InvariantCulture);
        if (args.Contains("--reconcile-only"))
        {
            // Reconciliation alone, on its own store: to see how it varies without the query store in the page cache.
            var only = await ReconcileStoreAsync(Path.GetFullPath(QueryBenchmark.Option(args, "--table-store") ?? Path.Combine(Path.GetTempPath(), "cc-bench-history-1m", "store.db")));
            for (var i = 0; i < 4; i++)
            {
                await using var db = ConsoleDbContextFactory.Create(only);
                var report = await Reconciler.RunAsync(db, new AuditOptions(), "Customers");
                Console.WriteLine($"Reconcile run {i + 1}: {report.Rows:N0} rows in {report.Elapsed.TotalSeconds:F1} s, {report.RowsPerSecond:N0} rows/s.");
            }

            return 0;
        }

        var storePath = Path.GetFullPath(QueryBenchmark.Option(args, "--store") ?? Path.Combine(Path.GetTempPath(), "cc-bench-query-10m", "store.db"));
        var settings = await QueryBenchmark.OpenStoreAsync(storePath, rebuild: false);
        var record = await HistoryRecordAsync(settings, storePath + ".history");
        SqliteConnection.ClearAllPools();

        var history = new RecordHistoryQuery(new AuditSearchService(new AuditVocabulary(), TimeProvider.System));
        DateTime first, last;
        long head;
        await using (var db = ConsoleDbContextFactory.Create(settings))
        {
            var own = db.AuditEntries.Where(e => e.TableName == record.Table && e.RecordKey == record.Key);
            first = await own.MinAsync(e => e.OccurredAtUtc);
            last = await own.MaxAsync(e => e.OccurredAtUtc);
            head = await db.AuditEntries.MaxAsync(e => e.Seq);
            Console.WriteLine($"{record.Table} {record.Key}: {await own.CountAsync():N0} versions from {first:yyyy-MM-dd HH:mm} to {last:yyyy-MM-dd HH:mm}, in a store of {head:N0} entries.");
        }

        // Where the time goes, piece by piece (p50 of a few runs each).
        foreach (var (piece, work) in new (string, Func<ConsoleDbContext, Task>)[]
        {
            ("count", db => db.AuditEntries.CountAsync(e => e.TableName == record.Table && e.RecordKey == record.Key)),
            ("overview without links", db => history.OverviewAsync(db, record, withLinks: false)),
            ("link rows, live and keyed by the record", db => history.LinkedRecordsAsync(db, record, includeGone: false)),
            ("link rows, gone ones too (second pass)", db => history.LinkedRecordsAsync(db, record, includeGone: true)),
            ("first page, own entries", db => history.TimelineAsync(db, record, [])),
            ("state now", db => history.StateAtAsync(db, record, long.MaxValue)),
            ("related", db => history.RelatedAsync(db, record, [])),
        })
        {
            var cost = await MeasureAsync(5, async () =>
            {
                await using var db = ConsoleDbContextFactory.Create(settings);
                await work(db);
                return 0;
            });
            Console.WriteLine($"  {piece}: p50 {cost.P50} ms");
        }

        // The history page's query: the overview (label, versions, live link rows), the first page of the timeline and the
        // records changed in the same transactions, a fresh context each time. The gone link rows come in a second pass.
        var timeline = await MeasureAsync(runs, async () =>
        {
            await using var db = ConsoleDbContextFactory.Create(settings);
            var overview = await history.OverviewAsync(db, record);
            var page = await history.TimelineAsync(db, record, overview.Links);
            await history.RelatedAsync(db, record, overview.Links);
            return page.Items.Count;
        });
        long middle;
        await using (var db = ConsoleDbContextFactory.Create(settings))
        {
            middle = await db.AuditEntries.Where(e => e.TableName == record.Table && e.RecordKey == record.Key).OrderBy(e => e.Seq).Skip(Versions / 2).Select(e => e.Seq).FirstAsync();
        }

        var deeper = await MeasureAsync(runs, async () =>
        {
            await using var db = ConsoleDbContextFactory.Create(settings);
            var page = await history.TimelineAsync(db, record, [], beforeSeq: middle);
            return page.Items.Count;
        });
        var firstPaint = await MeasureAsync(runs, async () =>
        {
            await using var db = ConsoleDbContextFactory.Create(settings);
            var overview = await history.OverviewAsync(db, record);
            await history.TimelineAsync(db, record, overview.Links);
            await history.RelatedAsync(db, record, overview.Links);
            return (await history.StateAtAsync(db, record, long.MaxValue)).Columns.Count;
        });
        Console.WriteLine($"Timeline (overview + first page + related): p50 {timeline.P50} ms, p95 {timeline.P95} ms; a page half way down: p50 {deeper.P50} ms, p95 {deeper.P95} ms; " +
                          $"the page's whole first paint with the record as it stands now: p50 {firstPaint.P50} ms, p95 {firstPaint.P95} ms.");

        var random = new Random(20261201);
        var asOf = await MeasureAsync(runs, async () =>
        {
            var at = first.AddTicks((long)(random.NextDouble() * (last - first).Ticks));
            await using var db = ConsoleDbContextFactory.Create(settings);
            var state = await history.AsOfAsync(db, record, at);
            return state.Columns.Count;
        });
        Console.WriteLine($"As of a random moment (replayed from the insert): p50 {asOf.P50} ms, p95 {asOf.P95} ms.");

        var tablePath = Path.GetFullPath(QueryBenchmark.Option(args, "--table-store") ?? Path.Combine(Path.GetTempPath(), "cc-bench-history-1m", "store.db"));
        var table = await ReconcileStoreAsync(tablePath);
        var rates = new List<double>();
        for (var i = -1; i < 3; i++)
        {
            SqliteConnection.ClearAllPools();
            await using var db = ConsoleDbContextFactory.Create(table);
            var report = await Reconciler.RunAsync(db, new AuditOptions(), "Customers");
            if (!report.Clean)
            {
                throw new InvalidOperationException("The reconcile store does not reconcile: " + string.Join(" ", report.Mismatches.Take(3).Select(m => m.Describe())));
            }

            // The first run reads the store from disk into the page cache (the 10M store's checks above pushed it out): shown, not counted.
            if (i >= 0)
            {
                rates.Add(report.RowsPerSecond);
            }

            Console.WriteLine($"Reconcile {(i < 0 ? "warm-up run (not counted)" : $"run {i + 1}")}: {report.Rows:N0} rows in {report.Elapsed.TotalSeconds:F1} s, {report.RowsPerSecond:N0} rows/s.");
        }

        Console.WriteLine($"history p95: timeline {timeline.P95}ms, as-of {asOf.P95}ms, reconcile {rates.Min():F0} rows/s");
        return 0;
    }

    /// <summary>A customer with <see cref="Versions"/> versions, added to the store once through the audited context (a minute apart).</summary>
    private static async Task<RecordRef> HistoryRecordAsync(DatabaseSettings settings, string marker)
    {
        if (File.Exists(marker))
        {
            return new RecordRef("Customers", (await File.ReadAllTextAsync(marker)).Trim());
        }

        var watch = Stopwatch.StartNew();
        var clock = new MovingClock { Now = new DateTimeOffset(2025, 6, 2, 8, 0, 0, TimeSpan.Zero) };
        var accessor = new AuditContextAccessor(new AuditContext(new AuditActor("u-bench", "history.bench@bank.example", ["Operator"]), "page:/customers", "corr-bench"));
        await using var db = ConsoleDbContextFactory.Create(settings, b => b.UseAuditTrail(accessor, clock));
        var customer = new Customer
        {
            Name = "History Benchmark", Email = "history.bench@example.test", Risk = RiskRating.Low, CreatedAt = clock.GetUtcNow(),
            Address = new Address { Street = "1 Long Road", City = "Dublin", PostalCode = "D01", Country = "IE" },
        };
        db.Customers.Add(customer);
        await db.SaveChangesAsync();
        var random = new Random(10_000);
        for (var done = 1; done < Versions;)
        {
            await using var transaction = await db.Database.BeginTransactionAsync();
            for (var i = 0; i < 500 && done < Versions; i++, done++)
            {
                clock.Now = clock.Now.AddMinutes(1 + random.Next(30));
                switch (random.Next(4))
                {
                    case 0: customer.Name = $"History Benchmark {done}"; break;
                    case 1: customer.Risk = customer.Risk == RiskRating.High ? RiskRating.Low : RiskRating.High; break;
                    case 2: customer.Address.City = $"City {done % 97}"; break;
                    default: customer.Email = $"history.bench{done}@example.test"; break;
                }

                await db.SaveChangesAsync();
            }

            await transaction.CommitAsync();
        }

        var key = $"{{\"Id\":{customer.Id}}}";
        await File.WriteAllTextAsync(marker, key);
        Console.WriteLine($"Added {Versions:N0} versions of Customers {key} to the store in {watch.Elapsed.TotalSeconds:F0} s (once; not counted).");
        return new RecordRef("Customers", key);
    }

    /// <summary>A console database with 1,000,000 customers inserted through the capture triggers and 100,000 of them updated since; built once.</summary>
    private static async Task<DatabaseSettings> ReconcileStoreAsync(string path)
    {
        var settings = new DatabaseSettings(DatabaseProvider.Sqlite, $"Data Source={path};Default Timeout=60");
        var marker = path + ".complete";
        if (File.Exists(marker))
        {
            return settings;
        }

        var watch = Stopwatch.StartNew();
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        foreach (var file in Directory.GetFiles(Path.GetDirectoryName(path)!))
        {
            File.Delete(file);
        }

        await DatabaseInitializer.InitializeAsync(settings, new AuditOptions());
        var accessor = new AuditContextAccessor(AuditContext.ForJob("customer-import"));
        await using (var db = ConsoleDbContextFactory.Create(settings, b => b.UseAuditTrail(accessor)))
        {
            db.Database.SetCommandTimeout(0);
            for (var batch = 0; batch < TableRows / 100_000; batch++)
            {
                await using var transaction = await db.Database.BeginTransactionAsync();
                var sql = $"""
                    WITH RECURSIVE n(i) AS (SELECT {batch * 100_000 + 1} UNION ALL SELECT i + 1 FROM n WHERE i < {(batch + 1) * 100_000})
                    INSERT INTO Customers (Name, Email, Risk, TaxId, CreatedAt, KycVerifiedAt, Address_City, Address_Country, Address_PostalCode, Address_Street)
                    SELECT 'Customer ' || i, 'customer' || i || '@example.test', CASE i % 3 WHEN 0 THEN 'Low' WHEN 1 THEN 'Medium' ELSE 'High' END,
                           CASE WHEN i % 4 = 0 THEN NULL ELSE 'TX' || i END, '2025-01-01 00:00:00+00:00', NULL,
                           'City ' || (i % 500), 'IE', 'D' || (i % 24), i || ' Main Street' FROM n
                    """;
                await db.Database.ExecuteSqlRawAsync(sql);
                await transaction.CommitAsync();
                Console.Write($"\rReconcile store: {(batch + 1) * 100_000:N0} customers");
            }

            await using (var transaction = await db.Database.BeginTransactionAsync())
            {
                await db.Database.ExecuteSqlRawAsync("UPDATE Customers SET Risk = 'High', KycVerifiedAt = '2025-06-01 00:00:00+00:00' WHERE Id % 10 = 0");
                await transaction.CommitAsync();
            }
        }

        await using (var connection = new SqliteConnection(settings.ConnectionString))
        {
            await connection.OpenAsync();
            await using var analyze = connection.CreateCommand();
            analyze.CommandText = "ANALYZE; PRAGMA wal_checkpoint(TRUNCATE);";
            analyze.CommandTimeout = 0;
            await analyze.ExecuteNonQueryAsync();
        }

        await File.WriteAllTextAsync(marker, TableRows.ToString(CultureInfo.InvariantCulture));
        Console.WriteLine($"\rReconcile store: {TableRows:N0} customers and {TableRows / 10:N0} updates built in {watch.Elapsed.TotalSeconds:F0} s (once; not counted).");
        return settings;
    }

    private static async Task<(long P50, long P95)> MeasureAsync(int runs, Func<Task<int>> work)
    {
        await work(); // warm: JIT, statement cache, pages
        var times = new List<long>();
        for (var i = 0; i < runs; i++)
        {
            var watch = Stopwatch.StartNew();
            await work();
            times.Add(watch.ElapsedMilliseconds);
        }

        times.Sort();
        return (times[times.Count / 2], times[(int)Math.Ceiling(times.Count * 0.95) - 1]);
    }

    private sealed class MovingClock : TimeProvider
    {
        public DateTimeOffset Now { get; set; }

        public override DateTimeOffset GetUtcNow() => Now;
    }
}
