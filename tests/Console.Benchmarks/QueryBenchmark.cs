using System.Diagnostics;
using System.Globalization;
using ComplianceConsole.Core.Query;
using ComplianceConsole.Data;
using ComplianceConsole.Data.Queries;
using ComplianceConsole.Data.Rollups;
using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore;

/// <summary>
/// <c>query [--store PATH] [--entries N] [--runs N] [--rebuild]</c>: the audit browser's reads on a 10,000,000-entry SQLite
/// store with realistic tables, actors and values and a valid chain (built once by VerifyBenchmark's builder, then the
/// full-text index and ANALYZE; the build time is reported, not counted). Each case runs through the product's own
/// AuditSearchService, the way the page calls it, warm, N times; p50 and p95 are reported. "Now" is the store's newest
/// entry, so that the presets (30 d, 90 d) cover data. The last line is the summary the issue asks for.
/// </summary>
internal static class QueryBenchmark
{
    public static async Task<int> RunAsync(string[] args)
    {
        var storePath = Path.GetFullPath(Option(args, "--store") ?? Path.Combine(Path.GetTempPath(), "cc-bench-query-10m", "store.db"));
        var runs = int.Parse(Option(args, "--runs") ?? "15", CultureInfo.InvariantCulture);
        VerifyBenchmark.Entries = long.Parse(Option(args, "--entries") ?? "10000000", CultureInfo.InvariantCulture);
        var settings = await OpenStoreAsync(storePath, args.Contains("--rebuild"));

        // The hourly rollups count what the last run added (the whole store the first time); off the write path, as in the console.
        var rollup = Stopwatch.StartNew();
        long rolled = 0, step;
        do
        {
            await using var db = ConsoleDbContextFactory.Create(settings);
            rolled += step = await AuditRollups.CatchUpAsync(db, 200_000);
        }
        while (step > 0);

        Console.WriteLine($"Hourly rollups: counted {rolled:N0} new entries in {rollup.Elapsed.TotalSeconds:F0} s (not counted).");

        SqliteConnection.ClearAllPools();
        DateTime newest;
        long head;
        string actor, tx, correlation, record, payment;
        await using (var db = ConsoleDbContextFactory.Create(settings))
        {
            head = await db.AuditEntries.MaxAsync(e => e.Seq);
            newest = await db.AuditEntries.Where(e => e.Seq == head).Select(e => e.OccurredAtUtc).SingleAsync();
            var sample = await db.AuditEntries.Where(e => e.Seq == head / 2).SingleAsync();
            actor = (await db.AuditEntries.Where(e => e.Seq > head / 3 && e.ActorName != null && e.ActorName.EndsWith("@bank.example")).Select(e => e.ActorName).FirstAsync())!.Split('@')[0];
            tx = sample.TransactionId!;
            correlation = sample.CorrelationId!;
            record = (await db.AuditEntries.Where(e => e.Seq > head / 2 && e.TableName == "Customers").Select(e => e.RecordKey).FirstAsync())!;
            payment = (await db.AuditEntries.Where(e => e.Seq > head / 2 && e.TableName == "Payments").Select(e => e.RecordKey).FirstAsync())!;
        }

        var size = new FileInfo(storePath).Length;
        Console.WriteLine($"{head:N0} entries up to {newest:yyyy-MM-dd}, {size / 1e9:F1} GB with indexes and the text index; {Environment.ProcessorCount} cores; {runs} warm runs per case.");
        var clock = new FixedClock(new DateTimeOffset(DateTime.SpecifyKind(newest, DateTimeKind.Utc)).AddMinutes(1));
        var service = new AuditSearchService(new AuditVocabulary(), clock);
        var warm = Stopwatch.StartNew();
        await using (var db = ConsoleDbContextFactory.Create(settings))
        {
            await service.Vocabulary.CurrentAsync(db);
        }

        Console.WriteLine($"Vocabulary (tables, events, actors, origin patterns) read once in {warm.ElapsedMilliseconds} ms; kept in memory after that.");

        AuditSearch Search(string q, string range = "30d", long? before = null) =>
            new(QueryParser.Parse(q).Query is var query && QueryParser.Parse(q).Ok ? query : throw new ArgumentException(q), new TimeRange(range), before);

        async Task<long> PageAsync(AuditSearch search)
        {
            await using var db = ConsoleDbContextFactory.Create(settings);
            var page = await service.PageAsync(db, search, 50);
            await RecordLabels.For(db.Model).ForAsync(db, page.Items);
            return page.Items.Count;
        }

        // Page 10,000 of the unfiltered 30-day view and of a table filter: the cursor is found once (not counted).
        long deepAll, deepTable;
        await using (var db = ConsoleDbContextFactory.Create(settings))
        {
            // (A store smaller than 10,000 pages uses its middle instead.)
            deepAll = (await db.AuditEntries.OrderByDescending(e => e.Seq).Skip(50 * 9_999).Select(e => (long?)e.Seq).FirstOrDefaultAsync() ?? head / 2) + 1;
            deepTable = (await db.AuditEntries.Where(e => e.TableName == "Payments").OrderByDescending(e => e.Seq).Skip(50 * 9_999).Select(e => (long?)e.Seq).FirstOrDefaultAsync() ?? head / 2) + 1;
        }

        var cases = new List<(string Kind, string Name, Func<Task<long>> Run)>
        {
            ("first-page", "no filter (30 d)", () => PageAsync(Search(""))),
            ("first-page", $"actor:{actor}", () => PageAsync(Search($"actor:{actor}"))),
            ("first-page", "table:Customers", () => PageAsync(Search("table:Customers"))),
            ("first-page", "op:delete", () => PageAsync(Search("op:delete"))),
            ("first-page", "record (one customer, all time)", () => PageAsync(Search($"table:Customers record:{EntryValue(record)}", "all"))),
            ("first-page", "record:<id> in any table (all time)", () => PageAsync(Search($"record:{EntryValue(payment)}", "all"))),
            ("first-page", "origin:page:/payments/*", () => PageAsync(Search("origin:page:/payments/*"))),
            ("first-page", "correlation (all time)", () => PageAsync(Search($"correlation:{correlation}", "all"))),
            ("first-page", "tx (all time)", () => PageAsync(Search($"tx:{tx}", "all"))),
            ("first-page", "event:audit.*", () => PageAsync(Search("event:audit.*"))),
            ("first-page", "outofband:true", () => PageAsync(Search("outofband:true"))),
            ("first-page", "ip:10.20.3.*", () => PageAsync(Search("ip:10.20.3.*"))),
            ("first-page", $"table:Payments actor:{actor} (two filters)", () => PageAsync(Search($"table:Payments actor:{actor}"))),
            ("text", "\"Zürich\" (common word, 30 d)", () => PageAsync(Search("\"Zürich\""))),
            ("text", "\"Größenwahn\" -op:insert (all time)", () => PageAsync(Search("\"Größenwahn\" -op:insert", "all"))),
            ("text", $"\"Zürich\" actor:{actor} (30 d)", () => PageAsync(Search($"\"Zürich\" actor:{actor}"))),
            ("text", "\"Größenwahn\" (24 h)", () => PageAsync(Search("\"Größenwahn\"", "24h"))),
            ("deep-page", "page 10,000, no filter", () => PageAsync(Search("", "all", deepAll))),
            ("deep-page", "page 10,000, table:Payments", () => PageAsync(Search("table:Payments", "all", deepTable))),
            ("histogram", "90 days, no filter", async () =>
            {
                await using var db = ConsoleDbContextFactory.Create(settings);
                return (await service.HistogramAsync(db, Search("", "90d"))).Total;
            }),
            ("histogram", "90 days, table:Payments", async () =>
            {
                await using var db = ConsoleDbContextFactory.Create(settings);
                return (await service.HistogramAsync(db, Search("table:Payments", "90d"))).Total;
            }),
            ("histogram", $"90 days, actor:{actor}", async () =>
            {
                await using var db = ConsoleDbContextFactory.Create(settings);
                return (await service.HistogramAsync(db, Search($"actor:{actor}", "90d"))).Total;
            }),
            ("histogram", "30 days, op:delete -table:Customers", async () =>
            {
                await using var db = ConsoleDbContextFactory.Create(settings);
                return (await service.HistogramAsync(db, Search("op:delete -table:Customers"))).Total;
            }),
            // Filters the rollups do not count by (text, origin, record, ip, ids) scan the range's matching entries: shown, not a target.
            ("histogram-scan", "30 days, origin:page:/payments/*", async () =>
            {
                await using var db = ConsoleDbContextFactory.Create(settings);
                return (await service.HistogramAsync(db, Search("origin:page:/payments/*"))).Total;
            }),
            ("count", "bounded count, no filter (30 d)", async () =>
            {
                await using var db = ConsoleDbContextFactory.Create(settings);
                return (await service.CountAsync(db, Search(""))).Value;
            }),
            ("count", "bounded count, \"Zürich\" (30 d)", async () =>
            {
                await using var db = ConsoleDbContextFactory.Create(settings);
                return (await service.CountAsync(db, Search("\"Zürich\""))).Value;
            }),
            ("count", "bounded count, table:Payments (90 d)", async () =>
            {
                await using var db = ConsoleDbContextFactory.Create(settings);
                return (await service.CountAsync(db, Search("table:Payments", "90d"))).Value;
            }),
        };

        var worst = new Dictionary<string, double>();
        Console.WriteLine($"{"case",-52} {"p50 ms",8} {"p95 ms",8} {"rows",10}");
        var only = Option(args, "--only"); // one kind of case: first-page, text, deep-page, histogram or count
        foreach (var (kind, name, run) in cases.Where(c => only is null || c.Kind == only))
        {
            var rows = await run(); // warm
            var times = new List<double>();
            for (var i = 0; i < runs; i++)
            {
                var watch = Stopwatch.StartNew();
                await run();
                times.Add(watch.Elapsed.TotalMilliseconds);
            }

            times.Sort();
            var p50 = times[times.Count / 2];
            var p95 = times[(int)Math.Ceiling(times.Count * 0.95) - 1];
            Console.WriteLine($"{kind + ": " + name,-52} {p50,8:F1} {p95,8:F1} {rows,10:N0}");
            worst[kind] = Math.Max(worst.GetValueOrDefault(kind), p95);
        }

        string P95(string kind) => worst.TryGetValue(kind, out var ms) ? $"{ms:F0}ms" : "(not run)";
        Console.WriteLine($"query p95: first-page {P95("first-page")}, text {P95("text")}, deep-page {P95("deep-page")}, histogram {P95("histogram")}");
        return 0;
    }

    /// <summary>The 10,000,000-entry store, built once (and its text index), or reused: migrated to this build and analyzed.</summary>
    internal static async Task<DatabaseSettings> OpenStoreAsync(string storePath, bool rebuild)
    {
        var folder = Path.GetDirectoryName(storePath)!;
        var marker = storePath + ".complete";
        var settings = new DatabaseSettings(DatabaseProvider.Sqlite, $"Data Source={storePath};Default Timeout=60");
        if (rebuild || !File.Exists(marker))
        {
            Directory.CreateDirectory(folder);
            foreach (var file in Directory.GetFiles(folder))
            {
                File.Delete(file);
            }

            var build = Stopwatch.StartNew();
            await VerifyBenchmark.BuildAsync(settings, Path.Combine(folder, "checkpoints"), Path.Combine(folder, "checkpoint-key.pem"), marker);
            File.Delete(marker);
            Console.Write("Full-text index ... ");
            int indexed;
            do
            {
                await using var db = ConsoleDbContextFactory.Create(settings);
                indexed = await AuditTextIndex.CatchUpAsync(db, 200_000);
            }
            while (indexed > 0);

            await using (var connection = new SqliteConnection(settings.ConnectionString))
            {
                await connection.OpenAsync();
                await using var analyze = connection.CreateCommand();
                analyze.CommandText = "ANALYZE; PRAGMA wal_checkpoint(TRUNCATE);";
                await analyze.ExecuteNonQueryAsync();
            }

            await File.WriteAllTextAsync(marker, VerifyBenchmark.Entries.ToString(CultureInfo.InvariantCulture));
            Console.WriteLine($"built in {build.Elapsed.TotalSeconds:F0} s (not counted).");
        }
        else
        {
            // Later migrations (new read-side indexes) apply to the store as to any console database; then fresh statistics.
            var migrate = Stopwatch.StartNew();
            await DatabaseInitializer.InitializeAsync(settings, new ComplianceConsole.Core.Auditing.AuditOptions());
            await using (var connection = new SqliteConnection(settings.ConnectionString))
            {
                await connection.OpenAsync();
                await using var analyze = connection.CreateCommand();
                analyze.CommandText = "ANALYZE; PRAGMA wal_checkpoint(TRUNCATE);";
                analyze.CommandTimeout = 0;
                await analyze.ExecuteNonQueryAsync();
            }

            Console.WriteLine($"Reusing {storePath} (--rebuild, or deleting {Path.GetFileName(marker)}, builds it again); migrated and analyzed in {migrate.Elapsed.TotalSeconds:F0} s.");
        }

        return settings;
    }

    private static string EntryValue(string keyJson)
    {
        using var doc = System.Text.Json.JsonDocument.Parse(keyJson);
        var value = doc.RootElement.EnumerateObject().First().Value;
        return value.ValueKind == System.Text.Json.JsonValueKind.String ? value.GetString()! : value.GetRawText();
    }

    internal static string? Option(string[] args, string name) => Array.IndexOf(args, name) is var i and >= 0 && i + 1 < args.Length ? args[i + 1] : null;

    private sealed class FixedClock(DateTimeOffset now) : TimeProvider
    {
        public override DateTimeOffset GetUtcNow() => now;
    }
}
