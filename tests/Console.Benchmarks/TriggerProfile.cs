using System.Diagnostics;
using System.Text.RegularExpressions;
using ComplianceConsole.Core.Auditing;
using ComplianceConsole.Data;
using ComplianceConsole.Data.Capture;
using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore;

/// <summary>
/// <c>profile triggers</c>: attributes the capture overhead to the parts of the SQLite trigger set, on five files
/// measured alternately: no capture; the console as installed; without the seq guard on AuditEntries; without the
/// REPLACE notes (the BEFORE triggers and the AFTER triggers' stash check); without both. Experiment only: the
/// trimmed files would fail verification, which checks the triggers against the chain's record.
/// </summary>
internal static class TriggerProfile
{
    private const string SeqGuard = "audit_entries_refuse_out_of_sequence";

    // The AFTER triggers' "rows a REPLACE deleted" statement, as SqliteAuditSql.CaptureTriggers writes it.
    private static readonly Regex ReplacedBlock = new(@"INSERT INTO ""AuditPending"" \([^)]*\) SELECT st\.""TableName"".*?ORDER BY st\.""Id"";\s*", RegexOptions.Singleline);

    public static async Task RunAsync(int rounds)
    {
        var dir = Directory.CreateTempSubdirectory("cc-bench-");
        try
        {
            var accessor = new AuditContextAccessor(new AuditContext(new AuditActor("bench", "bench@example.test", ["Operator"]), "bench", "bench"));
            var plain = await CaptureBenchmark.PrepareAsync(Path.Combine(dir.FullName, "plain.db"), capture: false);
            var variants = new List<(string Name, DatabaseSettings Settings)> { ("no capture", plain) };
            var memoryTemp = new List<bool> { false };
            foreach (var (name, guard, notes, temp) in new[]
            {
                ("console (as installed)", true, true, false), ("without the seq guard", false, true, false), ("without the REPLACE notes", true, false, false),
                ("without both", false, false, false), ("console, temp_store=MEMORY", true, true, true),
            })
            {
                var settings = await CaptureBenchmark.PrepareAsync(Path.Combine(dir.FullName, $"v{variants.Count}.db"), capture: true);
                await TrimAsync(settings, guard, notes);
                variants.Add((name, settings));
                memoryTemp.Add(temp);
            }

            if (Environment.GetEnvironmentVariable("CC_BENCH_KEEP") is not null)
            {
                dir = Directory.CreateTempSubdirectory("cc-bench-kept-"); // the files above are left for inspection
                Console.WriteLine("kept: " + Path.GetDirectoryName(variants[0].Settings.SqliteFilePath));
            }

            Func<ConsoleDbContext> Create(int v) => v == 0
                ? () => ConsoleDbContextFactory.Create(variants[0].Settings)
                : () => ConsoleDbContextFactory.Create(variants[v].Settings, b =>
                {
                    b.UseAuditTrail(accessor);
                    if (memoryTemp[v])
                    {
                        b.AddInterceptors(new MemoryTempStore());
                    }
                });

            var workloads = new (string Name, Func<Func<ConsoleDbContext>, int, Task<double>> Run)[]
            {
                ("single-update", CaptureBenchmark.SingleUpdateAsync),
                ("batch-insert", CaptureBenchmark.BatchInsertAsync),
                ("bulk-update", CaptureBenchmark.BulkUpdateAsync),
            };

            Console.WriteLine($"{rounds} alternating rounds, median ms per operation (ratio to no capture); every capture variant with UseAuditTrail.");
            Console.WriteLine($"{"workload",-14} " + string.Join(" ", variants.Select(v => $"{v.Name,28}")));
            foreach (var (name, run) in workloads)
            {
                var times = variants.Select(_ => new List<double>()).ToList();
                for (var round = 0; round <= rounds; round++)
                {
                    for (var v = 0; v < variants.Count; v++)
                    {
                        var t = await run(Create(v), round * 10 + v); // a new value for every variant and round
                        if (round > 0)
                        {
                            times[v].Add(t);
                        }
                    }
                }

                var medians = times.Select(CaptureBenchmark.Median).ToList();
                Console.WriteLine($"{name,-14} " + string.Join(" ", medians.Select(m => $"{$"{m:F3} ({m / medians[0]:F2}x)",28}")));
            }

            // The bulk update split: the statement with its triggers, then the seal (SealOutOfBandAsync), no interceptor.
            Console.WriteLine();
            Console.WriteLine("bulk update split, no interceptor: statement with triggers | sealing (median ms)");
            var split = variants.Skip(1).Select(_ => (Statement: new List<double>(), Seal: new List<double>())).ToList();
            for (var round = 0; round <= rounds; round++)
            {
                for (var v = 1; v < variants.Count; v++)
                {
                    await using var db = ConsoleDbContextFactory.Create(variants[v].Settings, b =>
                    {
                        if (memoryTemp[v])
                        {
                            b.AddInterceptors(new MemoryTempStore());
                        }
                    });
                    var watch = Stopwatch.StartNew();
                    await db.Payments.ExecuteUpdateAsync(s => s.SetProperty(p => p.Reference, p => "split " + round + " " + p.Id));
                    var statement = watch.Elapsed.TotalMilliseconds;
                    watch.Restart();
                    await db.Database.SealOutOfBandAsync();
                    if (round > 0)
                    {
                        split[v - 1].Statement.Add(statement);
                        split[v - 1].Seal.Add(watch.Elapsed.TotalMilliseconds);
                    }
                }
            }

            for (var v = 1; v < variants.Count; v++)
            {
                Console.WriteLine($"  {variants[v].Name,-28} {CaptureBenchmark.Median(split[v - 1].Statement),8:F1} | {CaptureBenchmark.Median(split[v - 1].Seal),8:F1}");
            }
        }
        finally
        {
            SqliteConnection.ClearAllPools();
            dir.Delete(recursive: true);
        }
    }

    /// <summary>Drops the seq guard and/or replaces the capture triggers with copies that take no REPLACE notes.</summary>
    private static async Task TrimAsync(DatabaseSettings settings, bool keepGuard, bool keepNotes)
    {
        await using var connection = new SqliteConnection(settings.ConnectionString);
        await connection.OpenAsync();
        await using var tx = await connection.BeginTransactionAsync();
        var triggers = new List<(string Name, string Sql)>();
        await using (var read = connection.CreateCommand())
        {
            read.CommandText = $"SELECT name, sql FROM sqlite_master WHERE type = 'trigger' AND (name LIKE '{SqliteAuditSql.CaptureTriggerPrefix}%' OR name = '{SeqGuard}')";
            await using var reader = await read.ExecuteReaderAsync();
            while (await reader.ReadAsync())
            {
                triggers.Add((reader.GetString(0), reader.GetString(1)));
            }
        }

        async Task Execute(string sql)
        {
            await using var command = connection.CreateCommand();
            command.CommandText = sql;
            await command.ExecuteNonQueryAsync();
        }

        foreach (var (name, sql) in triggers)
        {
            if (name == SeqGuard)
            {
                if (!keepGuard)
                {
                    await Execute("DROP TRIGGER " + SqliteAuditSql.Quote(name));
                }

                continue;
            }

            if (keepNotes)
            {
                continue;
            }

            await Execute("DROP TRIGGER " + SqliteAuditSql.Quote(name));
            if (name.EndsWith("_before_insert", StringComparison.Ordinal) || name.EndsWith("_before_update", StringComparison.Ordinal))
            {
                continue; // the notes themselves
            }

            await Execute(ReplacedBlock.Replace(sql, ""));
        }

        await tx.CommitAsync();
    }
}

/// <summary>Experiment: keeps SQLite's statement journals in memory (PRAGMA temp_store=MEMORY) on every connection opened.</summary>
internal sealed class MemoryTempStore : Microsoft.EntityFrameworkCore.Diagnostics.DbConnectionInterceptor
{
    public override void ConnectionOpened(System.Data.Common.DbConnection connection, Microsoft.EntityFrameworkCore.Diagnostics.ConnectionEndEventData eventData) => Set(connection);

    public override Task ConnectionOpenedAsync(System.Data.Common.DbConnection connection, Microsoft.EntityFrameworkCore.Diagnostics.ConnectionEndEventData eventData, CancellationToken cancellationToken = default)
    {
        Set(connection);
        return Task.CompletedTask;
    }

    private static void Set(System.Data.Common.DbConnection connection)
    {
        using var command = connection.CreateCommand();
        command.CommandText = "PRAGMA temp_store=MEMORY";
        command.ExecuteNonQuery();
    }
}
