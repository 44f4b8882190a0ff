using System.Diagnostics;
using ComplianceConsole.Core.Auditing;
using ComplianceConsole.Data;
using ComplianceConsole.Data.Capture;
using ComplianceConsole.Data.Domain;
using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore;

// Compliance Console benchmarks. Usage: dotnet run -c Release --project tests/Console.Benchmarks -- capture [--rounds N]
// Audited and unaudited runs alternate round by round in one process, on two SQLite files on the same disk,
// so the ratios compare like with like on a noisy machine; each figure is the median over the rounds.
// verify [--store PATH] [--rounds N] [--rebuild]: verification of a 1,000,000-entry SQLite store, built once (VerifyBenchmark.cs).
// profile triggers: the capture overhead split between the seq guard and the REPLACE notes of the SQLite triggers (TriggerProfile.cs).
// verify-core: chain verification in memory, one entry at a time against batches on every core (VerifyCoreBenchmark.cs).
// query [--store PATH] [--entries N] [--runs N] [--rebuild]: the audit browser's reads on a 10,000,000-entry store (QueryBenchmark.cs).
// plan FILE [--store PATH]: the query plan and time of each statement of a SQL file, on the query store (PlanProbe.cs).
// history [--store PATH] [--table-store PATH] [--runs N]: record history on the query store and reconciliation over 1,000,000 rows (HistoryBenchmark.cs).
// analytics [--store PATH] [--runs N] [--rounds N]: the dashboard's charts on the query store, and capture with the read side running (AnalyticsBenchmark.cs).
// export [--store PATH]: 1,000,000 entries of the query store as CSV and as XLSX, rows/s and peak RSS (ExportBenchmark.cs).
// retention [--store PATH] [--keep]: the purge of about 1,000,000 entries of a copy of the query store, with a writer beside it (RetentionBenchmark.cs).
// sqlserver-commits --server CS [--writers N] [--seconds S]: audited commits/s through the chain lock on a real SQL Server (SqlServerCommitBenchmark.cs).
if (args.Length == 0 || args[0] is not ("capture" or "profile" or "floor" or "verify" or "verify-core" or "query" or "plan" or "history" or "analytics" or "export" or "retention" or "sqlserver-commits"))
{
    Console.Error.WriteLine("Usage: dotnet run -c Release --project tests/Console.Benchmarks -- capture|floor|profile [single|triggers]|verify-core [--rounds N]");
    Console.Error.WriteLine("       dotnet run -c Release --project tests/Console.Benchmarks -- verify [--store PATH] [--rounds N] [--rebuild]");
    Console.Error.WriteLine("       dotnet run -c Release --project tests/Console.Benchmarks -- query [--store PATH] [--entries N] [--runs N] [--rebuild]");
    Console.Error.WriteLine("       dotnet run -c Release --project tests/Console.Benchmarks -- history [--store PATH] [--table-store PATH] [--runs N]");
    Console.Error.WriteLine("       dotnet run -c Release --project tests/Console.Benchmarks -- analytics [--store PATH] [--runs N] [--rounds N]");
    Console.Error.WriteLine("       dotnet run -c Release --project tests/Console.Benchmarks -- export [--store PATH]");
    Console.Error.WriteLine("       dotnet run -c Release --project tests/Console.Benchmarks -- retention [--store PATH] [--work PATH] [--scope TABLE] [--days N] [--now DATE] [--interval-ms N] [--delete-budget S] [--verify-before] [--reuse-copy] [--keep]");
    Console.Error.WriteLine("       dotnet run -c Release --project tests/Console.Benchmarks -- sqlserver-commits --server CONNECTIONSTRING [--writers N] [--seconds S]");
    return 2;
}

if (args[0] == "sqlserver-commits")
{
    return await SqlServerCommitBenchmark.RunAsync(args[1..]);
}

if (args[0] == "retention")
{
    return await RetentionBenchmark.RunAsync(args[1..]);
}

if (args[0] == "export")
{
    return await ExportBenchmark.RunAsync(args[1..]);
}

if (args[0] == "analytics")
{
    return await AnalyticsBenchmark.RunAsync(args[1..]);
}

if (args[0] == "history")
{
    return await HistoryBenchmark.RunAsync(args[1..]);
}

if (args[0] == "plan")
{
    return await PlanProbe.RunAsync(args[1..]);
}

if (args[0] == "query")
{
    return await QueryBenchmark.RunAsync(args[1..]);
}

if (args[0] == "verify")
{
    return await VerifyBenchmark.RunAsync(args[1..]);
}

if (args[0] == "verify-core")
{
    VerifyCoreBenchmark.Run();
    return 0;
}

if (args[0] == "floor")
{
    await CaptureBenchmark.FloorAsync(args.Length > 2 && args[1] == "--rounds" ? int.Parse(args[2]) : 11);
    return 0;
}

if (args[0] == "profile" && args.Length > 1 && args[1] == "triggers")
{
    await TriggerProfile.RunAsync(args.Length > 3 && args[2] == "--rounds" ? int.Parse(args[3]) : 7);
    return 0;
}

if (args[0] == "profile" && args.Length > 1 && args[1] == "single")
{
    await CaptureBenchmark.ProfileSingleAsync();
    return 0;
}

if (args[0] == "profile")
{
    await CaptureBenchmark.ProfileBulkAsync();
    await CaptureBenchmark.ProfileBatchAsync();
    return 0;
}

var rounds = args.Length > 2 && args[1] == "--rounds" ? int.Parse(args[2]) : 11;
await CaptureBenchmark.RunAsync(rounds);
return 0;

internal static class CaptureBenchmark
{
    private const int SingleUpdates = 400;
    private const int Batches = 20;
    private const int BatchSize = 100;
    private const int BulkRows = 10_000;

    public static async Task RunAsync(int rounds)
    {
        var ratios = await MeasureAsync(rounds);
        Console.WriteLine($"capture overhead: {string.Join(", ", ratios.Select(r => $"{r.Name} {r.Ratio:F2}x"))}");
    }

    /// <summary>
    /// Audited against unaudited, round by round; the ratio of the medians per workload. With <paramref name="readSide"/>,
    /// the console's read side runs beside the audited writes as it does in the console: every 3 s the rollups and the
    /// text index catch up, 20,000 entries per transaction.
    /// </summary>
    public static async Task<List<(string Name, double Ratio)>> MeasureAsync(int rounds, bool readSide = false)
    {
        var dir = Directory.CreateTempSubdirectory("cc-bench-");
        using var stop = new CancellationTokenSource();
        Task? background = null;
        try
        {
            var audited = await PrepareAsync(Path.Combine(dir.FullName, "audited.db"), capture: true);
            if (readSide)
            {
                background = Task.Run(async () =>
                {
                    using var timer = new PeriodicTimer(TimeSpan.FromSeconds(3));
                    while (await timer.WaitForNextTickAsync(stop.Token).AsTask().ContinueWith(t => !t.IsCanceled && t.Result))
                    {
                        await using var db = ConsoleDbContextFactory.Create(audited);
                        while (await ComplianceConsole.Data.Queries.AuditTextIndex.CatchUpAsync(db, 20_000) == 20_000)
                        {
                        }

                        while (await ComplianceConsole.Data.Rollups.AuditRollups.CatchUpAsync(db, 20_000) == 20_000)
                        {
                        }
                    }
                });
            }

            var plain = await PrepareAsync(Path.Combine(dir.FullName, "plain.db"), capture: false);
            var accessor = new AuditContextAccessor(new AuditContext(new AuditActor("bench", "bench@example.test", ["Operator"]), "bench", "bench"));
            Func<ConsoleDbContext> auditedContext = () => ConsoleDbContextFactory.Create(audited, b => b.UseAuditTrail(accessor));
            Func<ConsoleDbContext> plainContext = () => ConsoleDbContextFactory.Create(plain);

            var workloads = new (string Name, string Unit, Func<Func<ConsoleDbContext>, int, Task<double>> Run)[]
            {
                ("single-update", "per SaveChanges", SingleUpdateAsync),
                ("batch-insert", "per SaveChanges of 100", BatchInsertAsync),
                ("bulk-update", "per ExecuteUpdate of 10,000 rows", BulkUpdateAsync),
            };

            Console.WriteLine($"SQLite file, WAL, synchronous=FULL (the console's setting); {rounds} alternating rounds; median ms per operation" +
                              (readSide ? "; the read side catching up every 3 s beside the audited writes." : "."));
            Console.WriteLine();
            Console.WriteLine($"{"workload",-14} {"unit",-34} {"unaudited",10} {"audited",10} {"ratio",7}");
            var ratios = new List<(string Name, double Ratio)>();
            foreach (var (name, unit, run) in workloads)
            {
                await run(plainContext, 0); // warm-up: JIT, EF model, page cache
                await run(auditedContext, 0);
                var plainTimes = new List<double>();
                var auditedTimes = new List<double>();
                for (var round = 1; round <= rounds; round++)
                {
                    plainTimes.Add(await run(plainContext, round));
                    auditedTimes.Add(await run(auditedContext, round));
                }

                var (p, a) = (Median(plainTimes), Median(auditedTimes));
                Console.WriteLine($"{name,-14} {unit,-34} {p,10:F3} {a,10:F3} {a / p,6:F2}x");
                ratios.Add((name, a / p));
            }

            await stop.CancelAsync();
            if (background is not null)
            {
                await background;
            }

            await using (var check = ConsoleDbContextFactory.Create(audited))
            {
                var report = await check.VerifyAuditChainAsync();
                Console.WriteLine();
                Console.WriteLine($"audited store after the run: {report.Describe()}");
                if (readSide)
                {
                    var through = await ComplianceConsole.Data.Rollups.AuditRollups.ThroughAsync(check);
                    Console.WriteLine($"rollups counted through seq {through:N0} of {await check.AuditEntries.MaxAsync(e => e.Seq):N0} while the writes ran.");
                }
            }

            return ratios;
        }
        finally
        {
            SqliteConnection.ClearAllPools();
            dir.Delete(recursive: true);
        }
    }

    /// <summary>
    /// The least any design that stores one indexed entry per changed row can cost: the bulk update plus one
    /// set-based INSERT … SELECT of 10,000 entry rows, built by SQLite itself (json_object, a stand-in hash), with
    /// no trigger, no managed code and no hashing, in the same transaction. Against the bulk update alone.
    /// </summary>
    public static async Task FloorAsync(int rounds)
    {
        var dir = Directory.CreateTempSubdirectory("cc-bench-");
        try
        {
            var plain = await PrepareAsync(Path.Combine(dir.FullName, "plain.db"), capture: false);
            var floor = await PrepareAsync(Path.Combine(dir.FullName, "floor.db"), capture: false);
            var bare = await PrepareAsync(Path.Combine(dir.FullName, "bare.db"), capture: false);
            await using (var db = ConsoleDbContextFactory.Create(bare))
            {
                // The same entries without the five read-side indexes the architecture asks for.
                foreach (var index in await db.Database.SqlQueryRaw<string>("SELECT name AS Value FROM sqlite_master WHERE type = 'index' AND tbl_name = 'AuditEntries' AND sql IS NOT NULL").ToListAsync())
                {
                    var drop = "DROP INDEX " + SqliteAuditSql.Quote(index); // a name read from sqlite_master, quoted
                    await db.Database.ExecuteSqlRawAsync(drop);
                }
            }
            const string entries = """
                INSERT INTO "AuditEntries" ("Seq", "Version", "OccurredAtUtc", "Operation", "TableName", "RecordKey", "OldValues", "NewValues",
                    "ChangedColumns", "ActorId", "ActorName", "ActorRoles", "Origin", "OutOfBand", "CorrelationId", "TransactionId", "PayloadHash", "RowHash")
                SELECT h.s + p."Id", 1, strftime('%Y-%m-%d %H:%M:%f', 'now'), 'update', 'Payments', json_object('Id', p."Id"),
                    json_object('Reference', 'before ' || p."Id"), json_object('Reference', p."Reference"), '["Reference"]',
                    'bench', 'bench@example.test', 'Operator', 'bench', 0, 'bench', '0123456789abcdef0123456789abcdef',
                    hex(randomblob(32)), hex(randomblob(32))
                FROM "Payments" AS p, (SELECT coalesce(max("Seq"), 0) AS s FROM "AuditEntries") AS h
                """;
            var plainTimes = new List<double>();
            var floorTimes = new List<double>();
            var bareTimes = new List<double>();
            for (var round = 0; round <= rounds; round++)
            {
                await using (var db = ConsoleDbContextFactory.Create(plain))
                {
                    var watch = Stopwatch.StartNew();
                    await db.Payments.ExecuteUpdateAsync(s => s.SetProperty(p => p.Reference, p => "bulk " + round + " " + p.Id));
                    if (round > 0)
                    {
                        plainTimes.Add(watch.Elapsed.TotalMilliseconds);
                    }
                }

                foreach (var (settings, times) in new[] { (floor, floorTimes), (bare, bareTimes) })
                {
                    await using var db = ConsoleDbContextFactory.Create(settings);
                    var watch = Stopwatch.StartNew();
                    await using var tx = await db.Database.BeginTransactionAsync();
                    await db.Payments.ExecuteUpdateAsync(s => s.SetProperty(p => p.Reference, p => "bulk " + round + " " + p.Id));
                    var written = await db.Database.ExecuteSqlRawAsync(entries);
                    await tx.CommitAsync();
                    if (round > 0)
                    {
                        times.Add(watch.Elapsed.TotalMilliseconds);
                    }

                    if (written != BulkRows)
                    {
                        throw new InvalidOperationException($"The floor wrote {written} entries, not {BulkRows}.");
                    }
                }
            }

            // (a): the update with a trigger that writes the finished, indexed entry straight into AuditEntries:
            // no pending row, no sealing, no hashing, no transaction of the app's own.
            var single = await PrepareAsync(Path.Combine(dir.FullName, "single.db"), capture: false);
            await using (var db = ConsoleDbContextFactory.Create(single))
            {
                await db.Database.ExecuteSqlRawAsync("""
                    CREATE TRIGGER floor_payment_update AFTER UPDATE ON "Payments" BEGIN
                    INSERT INTO "AuditEntries" ("Seq", "Version", "OccurredAtUtc", "Operation", "TableName", "RecordKey", "OldValues", "NewValues",
                        "ChangedColumns", "ActorId", "ActorName", "ActorRoles", "Origin", "OutOfBand", "CorrelationId", "TransactionId", "PayloadHash", "RowHash")
                    VALUES ((SELECT coalesce(max("Seq"), 0) + 1 FROM "AuditEntries"), 1, strftime('%Y-%m-%d %H:%M:%f', 'now'), 'update', 'Payments',
                        json_object('Id', NEW."Id"), json_object('Reference', OLD."Reference"), json_object('Reference', NEW."Reference"), '["Reference"]',
                        'bench', 'bench@example.test', 'Operator', 'bench', 0, 'bench', '0123456789abcdef0123456789abcdef', hex(randomblob(32)), hex(randomblob(32)));
                    END
                    """);
            }

            await using (var db = ConsoleDbContextFactory.Create(single))
            {
                await db.Database.ExecuteSqlRawAsync("""
                    CREATE TRIGGER floor_tag_insert AFTER INSERT ON "Tags" BEGIN
                    INSERT INTO "AuditEntries" ("Seq", "Version", "OccurredAtUtc", "Operation", "TableName", "RecordKey", "OldValues", "NewValues",
                        "ChangedColumns", "ActorId", "ActorName", "ActorRoles", "Origin", "OutOfBand", "CorrelationId", "TransactionId", "PayloadHash", "RowHash")
                    VALUES ((SELECT coalesce(max("Seq"), 0) + 1 FROM "AuditEntries"), 1, strftime('%Y-%m-%d %H:%M:%f', 'now'), 'insert', 'Tags',
                        json_object('Id', NEW."Id"), NULL, json_object('Id', NEW."Id", 'Name', NEW."Name"), NULL,
                        'bench', 'bench@example.test', 'Operator', 'bench', 0, 'bench', '0123456789abcdef0123456789abcdef', hex(randomblob(32)), hex(randomblob(32)));
                    END
                    """);
            }

            var (bp, bf) = await AlternateAsync(rounds,
                round => BatchInsertAsync(() => ConsoleDbContextFactory.Create(plain), 1000 + round),
                round => BatchInsertAsync(() => ConsoleDbContextFactory.Create(single), 1000 + round));
            Console.WriteLine($"batch of 100 inserts alone: {bp:F3} ms; with a trigger writing each indexed entry directly: {bf:F3} ms ({bf / bp:F2}x)");

            var (sp, sf) = await AlternateAsync(rounds,
                round => SingleUpdateAsync(() => ConsoleDbContextFactory.Create(plain), 2000 + round),
                round => SingleUpdateAsync(() => ConsoleDbContextFactory.Create(single), 2000 + round));
            Console.WriteLine($"single update alone: {sp:F3} ms; with a trigger writing the indexed entry directly: {sf:F3} ms ({sf / sp:F2}x)");

            var (a, b, c) = (Median(plainTimes), Median(floorTimes), Median(bareTimes));
            Console.WriteLine($"bulk update of {BulkRows:N0} rows alone: {a:F2} ms");
            Console.WriteLine($"  + one entry per row, written set-based by SQLite, with the 5 read-side indexes: {b:F2} ms ({b / a:F2}x)");
            Console.WriteLine($"  + the same entries without the read-side indexes: {c:F2} ms ({c / a:F2}x)");
            Console.WriteLine($"floor: single-update {sf / sp:F2}x, batch-insert {bf / bp:F2}x, bulk-update {b / a:F2}x (indexed), {c / a:F2}x (no read-side indexes)");
        }
        finally
        {
            SqliteConnection.ClearAllPools();
            dir.Delete(recursive: true);
        }
    }

    /// <summary>Splits the single update: no capture; the interceptor only (no triggers); the triggers only (no sealing); both.</summary>
    public static async Task ProfileSingleAsync()
    {
        var dir = Directory.CreateTempSubdirectory("cc-bench-");
        var audited = await PrepareAsync(Path.Combine(dir.FullName, "audited.db"), capture: true);
        var plain = await PrepareAsync(Path.Combine(dir.FullName, "plain.db"), capture: false);
        var accessor = new AuditContextAccessor(new AuditContext(new AuditActor("bench", "bench@example.test", ["Operator"]), "bench", "bench"));
        var variants = new (string Name, Func<ConsoleDbContext> Create)[]
        {
            ("no capture", () => ConsoleDbContextFactory.Create(plain)),
            ("no capture, own transaction", () => ConsoleDbContextFactory.Create(plain, b => b.AddInterceptors(new OwnTransaction()))),
            ("interceptor, no triggers", () => ConsoleDbContextFactory.Create(plain, b => b.UseAuditTrail(accessor))),
            ("triggers, no sealing", () => ConsoleDbContextFactory.Create(audited)),
            ("both (the console)", () => ConsoleDbContextFactory.Create(audited, b => b.UseAuditTrail(accessor))),
        };
        var times = variants.Select(_ => new List<double>()).ToList();
        for (var round = 0; round < 12; round++)
        {
            for (var v = 0; v < variants.Length; v++)
            {
                var t = await SingleUpdateAsync(variants[v].Create, round * 100 + v); // a new value for every variant: SQLite writes nothing for an unchanged row
                if (round > 0)
                {
                    times[v].Add(t);
                }
            }
        }

        for (var v = 0; v < variants.Length; v++)
        {
            Console.WriteLine($"{variants[v].Name,-28} {Median(times[v]):F3} ms per SaveChanges");
        }

        SqliteConnection.ClearAllPools();
        dir.Delete(recursive: true);
    }

    /// <summary>The batch insert with capture triggers but without sealing, against no triggers at all.</summary>
    public static async Task ProfileBatchAsync()
    {
        var dir = Directory.CreateTempSubdirectory("cc-bench-");
        var triggers = await PrepareAsync(Path.Combine(dir.FullName, "triggers.db"), capture: true);
        var plain = await PrepareAsync(Path.Combine(dir.FullName, "plain.db"), capture: false);
        for (var round = 0; round < 6; round++)
        {
            var withTriggers = await BatchInsertAsync(() => ConsoleDbContextFactory.Create(triggers), round);
            var without = await BatchInsertAsync(() => ConsoleDbContextFactory.Create(plain), round);
            Console.WriteLine($"batch of 100: triggers only {withTriggers:F2} ms, no triggers {without:F2} ms");
        }

        SqliteConnection.ClearAllPools();
        dir.Delete(recursive: true);
    }

    /// <summary>Splits the audited bulk update into its parts: the statement with its triggers, then the sealing.</summary>
    public static async Task ProfileBulkAsync()
    {
        var dir = Directory.CreateTempSubdirectory("cc-bench-");
        var audited = await PrepareAsync(Path.Combine(dir.FullName, "audited.db"), capture: true);
        for (var round = 0; round < 4; round++)
        {
            await using var db = ConsoleDbContextFactory.Create(audited);
            var watch = Stopwatch.StartNew();
            await db.Payments.ExecuteUpdateAsync(s => s.SetProperty(p => p.Reference, p => "bulk " + round + " " + p.Id));
            var statement = watch.Elapsed.TotalMilliseconds;
            watch.Restart();
            await db.Database.SealOutOfBandAsync();
            Console.WriteLine($"statement with triggers {statement:F1} ms, sealing {watch.Elapsed.TotalMilliseconds:F1} ms");
        }

        SqliteConnection.ClearAllPools();
        dir.Delete(recursive: true);
    }

    internal static async Task<DatabaseSettings> PrepareAsync(string file, bool capture)
    {
        var settings = new DatabaseSettings(DatabaseProvider.Sqlite, $"Data Source={file};Default Timeout=60");
        await DatabaseInitializer.InitializeAsync(settings, new AuditOptions());
        await using var db = ConsoleDbContextFactory.Create(settings);
        if (!capture)
        {
            var triggers = await db.Database.SqlQueryRaw<string>("SELECT name AS Value FROM sqlite_master WHERE type = 'trigger' AND name LIKE 'audit_capture_%'").ToListAsync();
            foreach (var trigger in triggers)
            {
                var drop = "DROP TRIGGER " + SqliteAuditSql.Quote(trigger); // a name read from sqlite_master, quoted
                await db.Database.ExecuteSqlRawAsync(drop);
            }
        }

        // The rows the single and bulk updates work on, inserted without the audit trail in both files.
        var customer = new Customer { Name = "Bench", Email = "b@example.test", CreatedAt = DateTimeOffset.UnixEpoch };
        db.Customers.Add(customer);
        await db.SaveChangesAsync();
        var account = new Account { Id = Guid.NewGuid(), CustomerId = customer.Id, Iban = "BENCH", OpenedAt = DateTimeOffset.UnixEpoch };
        db.Accounts.Add(account);
        await db.SaveChangesAsync();
        await using var tx = await db.Database.BeginTransactionAsync();
        for (var i = 0; i < BulkRows; i++)
        {
            db.Payments.Add(new Payment { AccountId = account.Id, Amount = i, Reference = $"R{i}", Beneficiary = "ACME", CreatedAt = DateTimeOffset.UnixEpoch });
        }

        await db.SaveChangesAsync();
        await tx.CommitAsync();
        if (capture)
        {
            await db.Database.SealOutOfBandAsync(); // the setup rows above
        }

        return settings;
    }

    internal static async Task<double> SingleUpdateAsync(Func<ConsoleDbContext> create, int round)
    {
        var watch = Stopwatch.StartNew();
        for (var i = 0; i < SingleUpdates; i++)
        {
            await using var db = create();
            var payment = new Payment { Id = 1 + i };
            db.Payments.Attach(payment);
            payment.Reference = $"round {round} #{i}";
            await db.SaveChangesAsync();
        }

        return watch.Elapsed.TotalMilliseconds / SingleUpdates;
    }

    internal static async Task<double> BatchInsertAsync(Func<ConsoleDbContext> create, int round)
    {
        var watch = Stopwatch.StartNew();
        for (var b = 0; b < Batches; b++)
        {
            await using var db = create();
            for (var i = 0; i < BatchSize; i++)
            {
                db.Tags.Add(new Tag { Name = $"r{round}-b{b}-{i}" });
            }

            await db.SaveChangesAsync();
        }

        return watch.Elapsed.TotalMilliseconds / Batches;
    }

    internal static async Task<double> BulkUpdateAsync(Func<ConsoleDbContext> create, int round)
    {
        await using var db = create();
        var watch = Stopwatch.StartNew();
        var rows = await db.Payments.ExecuteUpdateAsync(s => s.SetProperty(p => p.Reference, p => "bulk " + round + " " + p.Id));
        var elapsed = watch.Elapsed.TotalMilliseconds;
        if (rows != BulkRows)
        {
            throw new InvalidOperationException($"The bulk update touched {rows} rows, not {BulkRows}.");
        }

        return elapsed;
    }

    /// <summary>Runs two measurements alternately, round by round after a warm-up round, and returns their medians.</summary>
    private static async Task<(double A, double B)> AlternateAsync(int rounds, Func<int, Task<double>> a, Func<int, Task<double>> b)
    {
        var (timesA, timesB) = (new List<double>(), new List<double>());
        for (var round = 0; round <= rounds; round++)
        {
            var (ta, tb) = (await a(round), await b(round));
            if (round > 0)
            {
                timesA.Add(ta);
                timesB.Add(tb);
            }
        }

        return (Median(timesA), Median(timesB));
    }

    internal static double Median(List<double> values)
    {
        var sorted = values.Order().ToList();
        return sorted.Count % 2 == 1 ? sorted[sorted.Count / 2] : (sorted[sorted.Count / 2 - 1] + sorted[sorted.Count / 2]) / 2;
    }
}

/// <summary>Profiling only: gives every SaveChanges an explicit transaction, as the audit interceptor does, and nothing else.</summary>
internal sealed class OwnTransaction : Microsoft.EntityFrameworkCore.Diagnostics.SaveChangesInterceptor
{
    public override async ValueTask<Microsoft.EntityFrameworkCore.Diagnostics.InterceptionResult<int>> SavingChangesAsync(
        Microsoft.EntityFrameworkCore.Diagnostics.DbContextEventData eventData, Microsoft.EntityFrameworkCore.Diagnostics.InterceptionResult<int> result, CancellationToken cancellationToken = default)
    {
        if (eventData.Context!.Database.CurrentTransaction is null)
        {
            await eventData.Context.Database.BeginTransactionAsync(cancellationToken);
        }

        return result;
    }

    public override async ValueTask<int> SavedChangesAsync(Microsoft.EntityFrameworkCore.Diagnostics.SaveChangesCompletedEventData eventData, int result, CancellationToken cancellationToken = default)
    {
        await eventData.Context!.Database.CommitTransactionAsync(cancellationToken);
        return result;
    }
}
