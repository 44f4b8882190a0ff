using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Runtime;
using ComplianceConsole.Core.Auditing;
using ComplianceConsole.Core.Chain;
using ComplianceConsole.Data;
using ComplianceConsole.Data.Archive;
using ComplianceConsole.Data.Capture;
using ComplianceConsole.Data.Domain;
using ComplianceConsole.Data.Queries;
using ComplianceConsole.Data.Retention;
using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore;

/// <summary>
/// <c>retention [--store PATH] [--work PATH] [--scope TABLE] [--days N] [--now yyyy-MM-dd] [--interval-ms N] [--delete-budget S] [--verify-before] [--reuse-copy] [--keep]</c>:
/// the retention purge (archive, verify, anchor, delete) of about 1,000,000 entries of the 10,000,000-entry query store,
/// while a writer makes single-row audited changes (docs/benchmarks.md, *Retention*). The purge deletes, so it works on a
/// copy of the store (copied, migrated and its guards installed first; not counted), deleted at the end (--keep leaves it).
/// The policy is one table scope (Customers, 365 days) under a fixed clock (2026-04-10): the store's data runs from
/// January 2025, so that cut holds about a million entries. Runs under Server GC, as the console does (a child process
/// when this one is not). The last line is the summary the issue asks for. With <c>--delete-budget S</c> the purge is
/// stopped (through its Fault hook, as a crash would stop it) after S seconds of deleting, and the purge time on the last
/// line is the measured steps plus the delete step projected from the rate so far (said so above it). <c>--probe-delete</c>
/// times each statement of the next delete batch on a kept copy, in a transaction rolled back.
/// </summary>
internal static class RetentionBenchmark
{
    public static async Task<int> RunAsync(string[] args)
    {
        if (!GCSettings.IsServerGC && Environment.GetEnvironmentVariable("CC_RETENTION_CHILD") is null)
        {
            // Microsoft.NET.Sdk.Web turns on Server GC for the console, this project does not (see ExportBenchmark).
            var start = new ProcessStartInfo(Environment.ProcessPath!, ["retention", .. args]);
            start.Environment["DOTNET_gcServer"] = "1";
            start.Environment["CC_RETENTION_CHILD"] = "1";
            using var child = Process.Start(start)!;
            await child.WaitForExitAsync();
            return child.ExitCode;
        }

        var source = Path.GetFullPath(QueryBenchmark.Option(args, "--store") ?? Path.Combine(Path.GetTempPath(), "cc-bench-query-10m", "store.db"));
        var work = Path.GetFullPath(QueryBenchmark.Option(args, "--work") ?? Path.Combine(Path.GetTempPath(), "cc-bench-retention", "work.db"));
        var scope = QueryBenchmark.Option(args, "--scope") ?? "Customers";
        var days = int.Parse(QueryBenchmark.Option(args, "--days") ?? "365", CultureInfo.InvariantCulture);
        var now = DateTime.SpecifyKind(DateTime.Parse(QueryBenchmark.Option(args, "--now") ?? "2026-04-10", CultureInfo.InvariantCulture), DateTimeKind.Utc);
        var interval = int.Parse(QueryBenchmark.Option(args, "--interval-ms") ?? "10", CultureInfo.InvariantCulture);
        var keep = args.Contains("--keep");
        var budget = double.Parse(QueryBenchmark.Option(args, "--delete-budget") ?? "0", CultureInfo.InvariantCulture);
        if (work == source)
        {
            Console.Error.WriteLine("The work copy must not be the query store itself: the purge deletes from it.");
            return 2;
        }

        if (args.Contains("--probe-delete"))
        {
            return await ProbeDeleteAsync(work);
        }

        var folder = Path.GetDirectoryName(work)!;
        Directory.CreateDirectory(folder);
        var archives = Path.Combine(folder, "archives");
        if (Directory.Exists(archives))
        {
            Directory.Delete(archives, recursive: true);
        }

        Console.WriteLine($"{Environment.ProcessorCount} cores, Server GC {GCSettings.IsServerGC}; policy {scope} {days} days, clock at {now:yyyy-MM-dd HH:mm} UTC; writer every {interval} ms.");
        try
        {
            // 1. The copy (not counted), migrated as the console migrates at start-up: the Retention tables, then the guards
            //    (the delete guard that lets only an anchored purge delete) installed by InstallAuditCaptureAsync.
            var setup = Stopwatch.StartNew();
            if (!args.Contains("--reuse-copy") || !File.Exists(work))
            {
                foreach (var suffix in new[] { "", "-wal", "-shm" })
                {
                    File.Delete(work + suffix);
                }

                File.Copy(source, work);
                if (File.Exists(source + "-wal"))
                {
                    File.Copy(source + "-wal", work + "-wal");
                }

                Console.WriteLine($"Copied {source} ({new FileInfo(work).Length / 1e9:F1} GB) in {setup.Elapsed.TotalSeconds:F0} s (not counted).");
            }
            else
            {
                Console.WriteLine($"Reusing the copy {work} as it is (--reuse-copy: it must be a fresh copy of the query store).");
            }

            var settings = new DatabaseSettings(DatabaseProvider.Sqlite, $"Data Source={work};Default Timeout=60");
            setup.Restart();
            await DatabaseInitializer.InitializeAsync(settings, new AuditOptions());
            await using (var db = ConsoleDbContextFactory.Create(settings))
            {
                var guard = await db.Database.SqlQueryRaw<string>("SELECT sql AS Value FROM sqlite_master WHERE type = 'trigger' AND name = 'audit_entries_refuse_delete'").SingleAsync();
                if (!guard.Contains("AuditRemovedRanges", StringComparison.Ordinal))
                {
                    throw new InvalidOperationException("The copy's delete guard is not the retention one: " + guard);
                }

                await db.RetentionPolicies.Where(p => true).ExecuteDeleteAsync();
                db.RetentionPolicies.Add(new RetentionPolicy { Scope = scope, Days = days, Reason = "retention benchmark", ChangedBy = "benchmark", ChangedAtUtc = now });
                await db.SaveChangesAsync();
                await db.Database.SealOutOfBandAsync();
            }

            Console.WriteLine($"Migrated (Retention tables, the retention delete guard) and the policy set in {setup.Elapsed.TotalSeconds:F0} s (not counted).");

            var clock = new FixedClock(new DateTimeOffset(now));
            var search = new AuditSearchService(new AuditVocabulary(), clock);
            var planner = new RetentionPlanner(search);
            var options = new RetentionOptions();

            // 2. The dry run, as the Retention page shows it (not counted).
            long wouldPurge, head, entriesBefore;
            setup.Restart();
            await using (var db = ConsoleDbContextFactory.Create(settings))
            {
                var preview = await new RetentionAdmin(planner, options).PreviewAsync(db, new AuditOptions(), scope);
                var status = preview.Scopes.Single();
                wouldPurge = preview.WouldPurge;
                head = preview.HeadSeq;
                entriesBefore = await db.AuditEntries.LongCountAsync();
                Console.WriteLine($"Dry run ({setup.Elapsed.TotalSeconds:F0} s, not counted): {entriesBefore:N0} entries, head seq {head:N0}; scope {scope}: {status.Entries:N0} entries, " +
                                  $"cut-off {status.CutoffUtc:yyyy-MM-dd HH:mm} UTC, would purge {wouldPurge:N0} ({status.Held:N0} held), archive estimated at {preview.EstimatedArchiveBytes / 1e6:N0} MB.");
            }

            if (args.Contains("--verify-before"))
            {
                // The same verification before the purge (not counted): the rate of this store without removed ranges.
                var before = Stopwatch.StartNew();
                await using var db = ConsoleDbContextFactory.Create(settings);
                var chain = await db.VerifyAuditChainAsync();
                Console.WriteLine($"Verify before (not counted): {(chain.IsValid ? "VALID" : "INVALID")}, {chain.Chain.EntriesChecked:N0} entries in {before.Elapsed.TotalSeconds:F1} s ({chain.Chain.EntriesChecked / before.Elapsed.TotalSeconds:N0} entries/s).");
                SqliteConnection.ClearAllPools();
            }

            // 3. The writer: single-row audited changes (a customer's name, a new tag, in turn), each SaveChanges timed.
            var accessor = new AuditContextAccessor(new AuditContext(new AuditActor("bench", "bench@example.test", ["Operator"]), "bench", "bench"));
            int customerId;
            await using (var db = ConsoleDbContextFactory.Create(settings))
            {
                customerId = await db.Customers.OrderBy(c => c.Id).Select(c => c.Id).FirstAsync();
            }

            var watch = Stopwatch.StartNew();
            var samples = new ConcurrentQueue<(double At, double Ms)>();
            var failures = new ConcurrentQueue<string>();
            var failed = new ConcurrentQueue<(double At, double Ms)>();
            var tag = Guid.NewGuid().ToString("N")[..8];
            using var stop = new CancellationTokenSource();
            async Task WriterAsync()
            {
                for (var i = 0; !stop.IsCancellationRequested; i++)
                {
                    var at = watch.Elapsed.TotalSeconds;
                    var save = new Stopwatch();
                    try
                    {
                        await using var db = ConsoleDbContextFactory.Create(settings, b => b.UseAuditTrail(accessor));
                        if (i % 2 == 0)
                        {
                            var customer = new Customer { Id = customerId };
                            db.Customers.Attach(customer);
                            customer.Name = $"Retention bench {tag} #{i}";
                        }
                        else
                        {
                            db.Tags.Add(new Tag { Name = $"retention-{tag}-{i}" });
                        }

                        save.Start();
                        await db.SaveChangesAsync();
                        samples.Enqueue((at, save.Elapsed.TotalMilliseconds));
                    }
                    catch (Exception ex)
                    {
                        failures.Enqueue($"{at:F1}s, after {save.Elapsed.TotalSeconds:F1} s: {ex.GetType().Name}: {ex.Message.Split('\n')[0]}");
                        failed.Enqueue((at, save.Elapsed.TotalMilliseconds));
                    }

                    try
                    {
                        await Task.Delay(interval, stop.Token);
                    }
                    catch (OperationCanceledException)
                    {
                    }
                }
            }

            // The writer alone for 10 s first (its warm-up and a baseline to compare with).
            var writer = Task.Run(WriterAsync);
            await Task.Delay(TimeSpan.FromSeconds(10));
            var baselineEnd = watch.Elapsed.TotalSeconds;

            // 4. The purge, timed from the call to its outcome; its steps through the Fault hook and the sink's reads.
            var marks = new ConcurrentQueue<(string Name, double At, long Rows)>();
            using var key = CheckpointKey.LoadOrCreate(Path.Combine(folder, "retention-key.pem"));
            var sink = new TimedSink(new FolderArchiveSink(archives), name => marks.Enqueue((name, watch.Elapsed.TotalSeconds, 0)));
            double lastDelete = 0, deleteStart = 0;
            long deletedSoFar = 0, batches = 0;
            var purgeStart = 0.0;
            var purger = new RetentionPurger(planner, options, sink, key, null, clock)
            {
                Fault = (step, rows) =>
                {
                    var at = watch.Elapsed.TotalSeconds;
                    if (step == PurgeStep.Deleting)
                    {
                        (lastDelete, deletedSoFar) = (at, rows);
                        if (++batches <= 3 || batches % 10 == 0)
                        {
                            Console.WriteLine(FormattableString.Invariant($"  +{at - purgeStart:F1} s: delete batch {batches} committed, {rows:N0} deleted"));
                        }

                        if (budget > 0 && at - deleteStart >= budget)
                        {
                            throw new BudgetSpent();
                        }
                    }
                    else
                    {
                        marks.Enqueue((step.ToString(), at, rows));
                        deleteStart = step == PurgeStep.Anchored ? at : deleteStart;
                        Console.WriteLine(FormattableString.Invariant($"  +{at - purgeStart:F1} s: {step} ({rows:N0} rows)"));
                    }

                    return ValueTask.CompletedTask;
                },
            };
            var purgeAuditor = new AuditContextAccessor(AuditContext.ForJob(RetentionPurger.JobName));
            Console.WriteLine($"Writer baseline (10 s, alone): {Describe(samples.Where(s => s.At < baselineEnd).Select(s => s.Ms).ToList())}. Purging ...");
            purgeStart = watch.Elapsed.TotalSeconds;
            PurgeOutcome outcome;
            var stopped = false;
            try
            {
                outcome = await purger.RunAsync(() => ConsoleDbContextFactory.Create(settings, b => b.UseAuditTrail(purgeAuditor)), "system:benchmark");
            }
            catch (BudgetSpent)
            {
                stopped = true;
                outcome = new PurgeOutcome("stopped", $"Stopped after {budget:F0} s of deleting (--delete-budget): {batches} batches, {deletedSoFar:N0} deleted.", Archived: wouldPurge, Deleted: deletedSoFar);
            }

            var purgeEnd = watch.Elapsed.TotalSeconds;
            var purgeSeconds = purgeEnd - purgeStart;

            // The writer goes on for 3 s after the purge, then stops.
            await Task.Delay(TimeSpan.FromSeconds(3));
            await stop.CancelAsync();
            await writer;

            Console.WriteLine($"Purge: {outcome.Status}: {outcome.Message}");
            var projected = purgeSeconds;
            if (stopped && deletedSoFar > 0)
            {
                // The delete step at the rate measured so far, for the entries the run archived; the steps before it as measured.
                var deleteSeconds = (lastDelete - deleteStart) * wouldPurge / deletedSoFar;
                projected = deleteStart - purgeStart + deleteSeconds;
                Console.WriteLine(FormattableString.Invariant($"  PROJECTED: {deletedSoFar:N0} of {wouldPurge:N0} deleted in {lastDelete - deleteStart:F0} s ({deletedSoFar / (lastDelete - deleteStart):F1} entries/s): the delete step would take {deleteSeconds:F0} s ({deleteSeconds / 3600:F1} h), the purge {projected:F0} s. The purge figure on the last line is this projection."));
            }

            Console.WriteLine($"  archived {outcome.Archived:N0}, deleted {outcome.Deleted:N0}, held {outcome.Held:N0}; {purgeSeconds:F1} s, {outcome.Deleted / purgeSeconds:N0} entries/s");
            // A stopped run returns no outcome: its archive is the one folder under the sink's root.
            if ((outcome.Location ?? (Directory.Exists(archives) ? Directory.GetDirectories(archives).SingleOrDefault() : null)) is { } location && Directory.Exists(location))
            {
                var files = new DirectoryInfo(location).GetFiles();
                Console.WriteLine($"  archive {files.Sum(f => f.Length) / 1e6:N0} MB: " + string.Join(", ", files.OrderBy(f => f.Name).Select(f => $"{f.Name} {f.Length / 1e6:N1} MB")));
            }

            // The steps: select (to the first archived row), write the archive, read it back and verify, anchor, delete.
            var all = marks.ToList();
            double? At(string name, int nth = 0) => all.Where(m => m.Name == name).Select(m => (double?)m.At).Skip(nth).FirstOrDefault();
            var phases = new List<(string Name, double From, double To)>();
            void Phase(string name, double? from, double? to)
            {
                if (from is not null && to is not null)
                {
                    phases.Add((name, from.Value, to.Value));
                }
            }

            Phase("select (to the first row)", purgeStart, At(nameof(PurgeStep.WritingArchive)));
            Phase("write the archive", At(nameof(PurgeStep.WritingArchive)), At(nameof(PurgeStep.Archived)));
            Phase("verify the archive", At(nameof(PurgeStep.Archived)), At("open", 1)); // the anchor opens the archive a second time, for its snapshots
            Phase("anchor (ranges, snapshots, event)", At("open", 1), At(nameof(PurgeStep.Anchored)));
            Phase("delete", At(nameof(PurgeStep.Anchored)), lastDelete > 0 ? lastDelete : null);
            Phase("finish", lastDelete > 0 ? lastDelete : At(nameof(PurgeStep.Anchored)), purgeEnd);
            Console.WriteLine();
            Console.WriteLine($"{"step",-36} {"s",7}   writer during it (SaveChanges ms)");
            foreach (var (name, from, to) in phases)
            {
                Console.WriteLine($"{name,-36} {to - from,7:F1}   {Describe(samples.Where(s => s.At >= from && s.At < to).Select(s => s.Ms).ToList())}");
            }

            var during = samples.Where(s => s.At >= purgeStart && s.At < purgeEnd).Select(s => s.Ms).ToList();
            Console.WriteLine($"{"the whole purge",-36} {purgeSeconds,7:F1}   {Describe(during)}");
            Console.WriteLine($"Writer failures: {failures.Count}" + string.Concat(failures.Take(5).Select(f => Environment.NewLine + "  " + f)));
            var slow = samples.Where(s => s.At >= purgeStart && s.At < purgeEnd).OrderByDescending(s => s.Ms).Take(5).ToList();
            Console.WriteLine("Slowest writes: " + string.Join(", ", slow.Select(s => $"{s.Ms:F0} ms at +{s.At - purgeStart:F1} s")));

            // 5. The store after the purge: the chain verified across the removed ranges.
            SqliteConnection.ClearAllPools();
            AuditVerificationReport report;
            var verify = Stopwatch.StartNew();
            await using (var db = ConsoleDbContextFactory.Create(settings))
            {
                report = await db.VerifyAuditChainAsync();
            }

            var verifySeconds = verify.Elapsed.TotalSeconds;
            var rate = report.Chain.EntriesChecked / verifySeconds;
            Console.WriteLine();
            Console.WriteLine($"Verify after: {(report.IsValid ? "VALID" : "INVALID")}, {report.Chain.EntriesChecked:N0} entries in {verifySeconds:F1} s ({rate:N0} entries/s), " +
                              $"{report.Chain.EntriesRemoved:N0} entries removed in {report.Chain.RangesRemoved:N0} ranges. {report.Describe()}");
            var ok = (outcome.Status == "done" || stopped) && report.IsValid && failures.IsEmpty && (stopped || outcome.Deleted == outcome.Archived);
            if (!ok)
            {
                Console.WriteLine("NOT OK: the purge did not finish, the chain does not verify, a write failed, or deleted differs from archived.");
            }

            // A writer that waits 50 s makes one write where it would have made thousands: the plain p99 leaves the waiting out
            // (coordinated omission). Corrected as HdrHistogram's recordValueWithExpectedInterval does: a write of L ms also
            // stands for the writes due every E ms meanwhile (E: the pause plus the baseline median), at L - E, L - 2E, ...;
            // failed writes count with the time they waited.
            var expected = interval + Percentile(samples.Where(s => s.At < baselineEnd).Select(s => s.Ms).ToList(), 0.5);
            var corrected = new List<double>();
            foreach (var ms in during.Concat(failed.Where(f => f.At >= purgeStart && f.At < purgeEnd).Select(f => f.Ms)))
            {
                for (var v = ms; v > 0 && (v == ms || v > expected); v -= expected)
                {
                    corrected.Add(v);
                }
            }

            Console.WriteLine(FormattableString.Invariant($"Writer over the purge: {Describe(during)} (the writes made); corrected for the writes a waiting writer could not make (every {expected:F1} ms): {Describe(corrected)}."));
            var p99 = Percentile(corrected, 0.99);
            Console.WriteLine(FormattableString.Invariant($"retention: purge {projected:F0}s, writer-p99 {p99:F0}ms, verify-after {rate:F0} entries/s"));
            return ok ? 0 : 1;
        }
        finally
        {
            SqliteConnection.ClearAllPools();
            if (Directory.Exists(archives))
            {
                Directory.Delete(archives, recursive: true);
            }

            if (!keep)
            {
                foreach (var suffix in new[] { "", "-wal", "-shm" })
                {
                    File.Delete(work + suffix);
                }
            }
        }
    }

    /// <summary>
    /// Each statement of the next delete batch of the unfinished run on a kept copy (the purger's own statements: the
    /// rollups' subtraction, the text index's, the delete), timed in one transaction that is rolled back.
    /// </summary>
    private static async Task<int> ProbeDeleteAsync(string work)
    {
        await using var connection = new SqliteConnection($"Data Source={work};Default Timeout=600");
        await connection.OpenAsync();
        async Task<long> Scalar(string sql)
        {
            await using var command = connection.CreateCommand();
            command.CommandText = sql;
            command.CommandTimeout = 0;
            return Convert.ToInt64(await command.ExecuteScalarAsync(), CultureInfo.InvariantCulture);
        }

        var runId = (string)(await new SqliteCommand("SELECT Id FROM PurgeRuns WHERE Phase = 'anchored'", connection).ExecuteScalarAsync())!;
        var last = await Scalar($"SELECT max(ThroughSeq) FROM AuditRemovedRanges WHERE RunId = '{runId}'");
        // The first seq still in one of the run's ranges: the next batch starts there (the purger's windows are 2,000 seqs wide).
        var lo = await Scalar($"SELECT min(e.Seq) FROM AuditEntries e WHERE e.Seq <= {last} AND (SELECT r.ThroughSeq FROM AuditRemovedRanges r WHERE r.FirstSeq <= e.Seq ORDER BY r.FirstSeq DESC LIMIT 1) >= e.Seq");
        var hi = Math.Min(last, lo + new RetentionOptions().DeleteBatch - 1);
        var covering = "(SELECT r.\"ThroughSeq\" FROM \"AuditRemovedRanges\" AS r WHERE r.\"FirstSeq\" <= \"AuditEntries\".\"Seq\" ORDER BY r.\"FirstSeq\" DESC LIMIT 1)";
        var where = FormattableString.Invariant($"\"AuditEntries\".\"Seq\" BETWEEN {lo} AND {hi} AND {covering} >= \"AuditEntries\".\"Seq\"");
        Console.WriteLine($"Run {runId}: the batch of seqs {lo:N0}-{hi:N0}, {await Scalar("SELECT count(*) FROM AuditEntries WHERE " + where):N0} entries; SQLite {connection.ServerVersion}.");
        var statements = ComplianceConsole.Data.Rollups.AuditRollups.SubtractStatements(false, where)
            .Concat(AuditTextIndex.ForgetStatements(false, where)).Append("DELETE FROM \"AuditEntries\" WHERE " + where).ToList();
        await using var transaction = await connection.BeginTransactionAsync();
        double total = 0;
        foreach (var sql in statements)
        {
            await using var command = connection.CreateCommand();
            command.CommandText = sql;
            command.CommandTimeout = 0;
            var watch = Stopwatch.StartNew();
            var rows = await command.ExecuteNonQueryAsync();
            total += watch.Elapsed.TotalSeconds;
            Console.WriteLine(FormattableString.Invariant($"{watch.Elapsed.TotalSeconds,8:F3} s {rows,7} rows  {(sql.Length > 110 ? sql[..110] + " ..." : sql)}"));
        }

        await transaction.RollbackAsync();
        Console.WriteLine(FormattableString.Invariant($"{total,8:F3} s the batch (rolled back)"));
        return 0;
    }

    private sealed class BudgetSpent() : Exception("The benchmark's delete budget is spent.");

    private static string Describe(List<double> ms) => ms.Count == 0
        ? "no writes"
        : FormattableString.Invariant($"{ms.Count} writes, p50 {Percentile(ms, 0.5):F1}, p99 {Percentile(ms, 0.99):F1}, max {ms.Max():F0}");

    private static double Percentile(List<double> values, double p)
    {
        if (values.Count == 0)
        {
            return 0;
        }

        var sorted = values.Order().ToList();
        return sorted[Math.Clamp((int)Math.Ceiling(sorted.Count * p) - 1, 0, sorted.Count - 1)];
    }

    /// <summary>The folder sink, telling when the purge opens the archive (to verify it, then for the anchor's snapshots).</summary>
    private sealed class TimedSink(IArchiveSink inner, Action<string> mark) : IArchiveSink
    {
        public string Location(string folder) => inner.Location(folder);

        public Task<string> StageAsync(string folder, CancellationToken cancellationToken = default) => inner.StageAsync(folder, cancellationToken);

        public Task PublishAsync(string folder, CancellationToken cancellationToken = default) => inner.PublishAsync(folder, cancellationToken);

        public Task<bool> ExistsAsync(string folder, CancellationToken cancellationToken = default) => inner.ExistsAsync(folder, cancellationToken);

        public Task<string> OpenAsync(string folder, CancellationToken cancellationToken = default)
        {
            mark("open");
            return inner.OpenAsync(folder, cancellationToken);
        }

        public Task DiscardAsync(string folder, CancellationToken cancellationToken = default) => inner.DiscardAsync(folder, cancellationToken);
    }

    private sealed class FixedClock(DateTimeOffset now) : TimeProvider
    {
        public override DateTimeOffset GetUtcNow() => now;
    }
}
