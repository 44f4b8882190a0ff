using System.Diagnostics;
using System.Globalization;
using ComplianceConsole.Core.Auditing;
using ComplianceConsole.Core.Chain;
using ComplianceConsole.Core.Export;
using ComplianceConsole.Core.Query;
using ComplianceConsole.Data;
using ComplianceConsole.Data.Archive;
using ComplianceConsole.Data.Capture;
using ComplianceConsole.Data.Queries;
using Microsoft.EntityFrameworkCore;

/// <summary>
/// Exports of 1,000,000 entries from the 10,000,000-entry query store (docs/benchmarks.md, *Export*), one process per
/// format so that each peak RSS (VmHWM) is its own. The last line is the summary the issue asks for.
/// </summary>
internal static class ExportBenchmark
{
    private const long Rows = 1_000_000;

    public static async Task<int> RunAsync(string[] args)
    {
        var store = Path.GetFullPath(QueryBenchmark.Option(args, "--store") ?? Path.Combine(Path.GetTempPath(), "cc-bench-query-10m", "store.db"));
        if (QueryBenchmark.Option(args, "--one") is { } one)
        {
            return await OneAsync(store, one == "xlsx" ? ExportFormat.Xlsx : ExportFormat.Csv);
        }

        await QueryBenchmark.OpenStoreAsync(store, rebuild: false); // migrated and analyzed once, before the timed children
        var results = new Dictionary<string, (double RowsPerSecond, double Mb)>();
        foreach (var format in new[] { "csv", "xlsx" })
        {
            var start = new ProcessStartInfo(Environment.ProcessPath!, ["export", "--one", format, "--store", store]) { RedirectStandardOutput = true };
            // The garbage collector the console runs exports under: Microsoft.NET.Sdk.Web turns on Server GC (the web app's
            // runtimeconfig says "System.GC.Server": true), this console project does not. The export allocates every
            // value it writes; under workstation GC it ran about 1.5 times slower here (docs/benchmarks.md, Export).
            start.Environment["DOTNET_gcServer"] = "1";
            using var child = Process.Start(start)!;
            string? result = null;
            while (await child.StandardOutput.ReadLineAsync() is { } line)
            {
                Console.WriteLine(line);
                if (line.StartsWith("result ", StringComparison.Ordinal))
                {
                    result = line;
                }
            }

            await child.WaitForExitAsync();
            if (child.ExitCode != 0 || result is null)
            {
                Console.Error.WriteLine($"The {format} export failed (exit {child.ExitCode}).");
                return 1;
            }

            var parts = result.Split(' ');
            results[format] = (double.Parse(parts[2], CultureInfo.InvariantCulture), double.Parse(parts[3], CultureInfo.InvariantCulture));
        }

        Console.WriteLine($"export: csv {results["csv"].RowsPerSecond:F0} rows/s {results["csv"].Mb:F0}MB, xlsx {results["xlsx"].RowsPerSecond:F0} rows/s {results["xlsx"].Mb:F0}MB");
        return 0;
    }

    /// <summary>One export of the first million entries (by time), timed from the first read to the recorded event.</summary>
    private static async Task<int> OneAsync(string store, ExportFormat format)
    {
        var settings = new DatabaseSettings(DatabaseProvider.Sqlite, $"Data Source={store};Default Timeout=60");
        DateTime from, to;
        await using (var db = ConsoleDbContextFactory.Create(settings))
        {
            // From the first hour, as many whole hours as hold a million entries (the hourly rollups say how many each holds).
            var hours = await db.AuditHourCounts.GroupBy(r => r.Hour).Select(g => new { Hour = g.Key, Count = g.Sum(r => r.Count) }).OrderBy(h => h.Hour).ToListAsync();
            long total = 0;
            var last = hours.SkipWhile(h => (total += h.Count) < Rows).First().Hour;
            from = DateTime.UnixEpoch.AddHours(hours[0].Hour);
            to = DateTime.UnixEpoch.AddHours(last + 1);
        }

        var folder = Directory.CreateTempSubdirectory("cc-bench-export-");
        using var key = CheckpointKey.LoadOrCreate(Path.Combine(folder.FullName, "key.pem"));
        var search = new AuditSearchService(new AuditVocabulary(), TimeProvider.System);
        var exporter = new AuditExporter(search);
        await using var audited = ConsoleDbContextFactory.Create(settings, b => b.UseAuditTrail(new AuditContextAccessor(AuditContext.ForJob("benchmark"))));
        var path = Path.Combine(folder.FullName, "export." + format.ToString().ToLowerInvariant());
        await search.Vocabulary.CurrentAsync(audited); // read once per console process, not per export: not counted
        if (Environment.GetEnvironmentVariable("CC_EXPORT_PROBE") == "1")
        {
            // Where the time goes: the read alone, then the read and the row shaping, with no file.
            var filter = await search.FilterAsync(audited, AuditQuery.Empty, TimeRange.Between(from, to));
            foreach (var shape in new[] { false, true })
            {
                var probe = Stopwatch.StartNew();
                long after = 0, n = 0, cells = 0;
                while (true)
                {
                    var page = await filter.OldestFirst(after).Take(2_000).AsNoTracking().ToListAsync();
                    if (page.Count == 0)
                    {
                        break;
                    }

                    foreach (var e in page)
                    {
                        n++;
                        if (shape)
                        {
                            cells += ExportRows.Values(e, null, TimeZoneInfo.Utc, ExportValues.Full, ExportRows.Columns).Length;
                        }
                    }

                    after = page[^1].Seq;
                }

                Console.WriteLine($"probe: {(shape ? "read and shape" : "read")} {n:N0} rows in {probe.Elapsed.TotalSeconds:F1} s, {n / probe.Elapsed.TotalSeconds:N0} rows/s");
            }

            {
                var probe = Stopwatch.StartNew();
                var connection = audited.Database.GetDbConnection();
                await audited.Database.OpenConnectionAsync();
                await using var command = connection.CreateCommand();
                command.CommandText = $"SELECT * FROM AuditEntries WHERE Seq > 0 AND Seq <= {Rows}";
                await using var reader = await command.ExecuteReaderAsync();
                long n = 0, chars = 0;
                while (await reader.ReadAsync())
                {
                    n++;
                    for (var i = 0; i < reader.FieldCount; i++)
                    {
                        if (!reader.IsDBNull(i))
                        {
                            chars += reader.GetString(i).Length;
                        }
                    }
                }

                Console.WriteLine($"probe: raw reader {n:N0} rows in {probe.Elapsed.TotalSeconds:F1} s, {n / probe.Elapsed.TotalSeconds:N0} rows/s");
                await audited.Database.CloseConnectionAsync();
            }

            {
                var probe = Stopwatch.StartNew();
                var n = await filter.Entries.Where(e => e.Seq <= Rows).AsNoTracking().AsAsyncEnumerable().CountAsync();
                Console.WriteLine($"probe: one EF stream {n:N0} rows in {probe.Elapsed.TotalSeconds:F1} s, {n / probe.Elapsed.TotalSeconds:N0} rows/s");
            }
        }

        if (Environment.GetEnvironmentVariable("CC_EXPORT_PROBE") is "1" or "reader")
        {
            // The exporter's read: the entries with the row hash before each, then also shaped into cells.
            foreach (var shape in new[] { false, true })
            {
                var f = await search.FilterAsync(audited, AuditQuery.Empty, TimeRange.Between(from, to));
                var probe = Stopwatch.StartNew();
                long n = 0, cells = 0;
                await foreach (var x in f.Entries.Where(e => e.Seq <= Rows).AsNoTracking()
                    .Select(e => new { Entry = e, Previous = audited.AuditEntries.Where(p => p.Seq == e.Seq - 1).Select(p => p.RowHash).FirstOrDefault() })
                    .OrderBy(x => x.Entry.Seq).AsAsyncEnumerable())
                {
                    n++;
                    if (shape)
                    {
                        cells += ExportRows.Values(x.Entry, null, TimeZoneInfo.Utc, ExportValues.Full, ExportRows.Columns, x.Previous).Length;
                    }
                }

                Console.WriteLine($"probe: exporter read{(shape ? " and shape" : "")} {n:N0} rows in {probe.Elapsed.TotalSeconds:F1} s, {n / probe.Elapsed.TotalSeconds:N0} rows/s");
            }
        }

        if (Environment.GetEnvironmentVariable("CC_EXPORT_PROBE") is "1" or "writer")
        {
            // The writer alone: 20,000 rows held, written 50 times over (1M rows) with nothing to read.
            var held = new List<ExportRow>();
            await foreach (var e in (await search.FilterAsync(audited, AuditQuery.Empty, TimeRange.Between(from, to))).OldestFirst(0).Take(20_000).AsNoTracking().AsAsyncEnumerable())
            {
                held.Add(new ExportRow(ExportRows.Values(e, null, TimeZoneInfo.Utc, ExportValues.Full, ExportRows.Columns, e.RowHash), e.Seq, e.RowHash));
            }

            async IAsyncEnumerable<ExportRow> Again()
            {
                for (var i = 0; i < 50; i++)
                {
                    foreach (var row in held)
                    {
                        yield return row;
                    }
                }

                await Task.CompletedTask;
            }

            var probe = Stopwatch.StartNew();
            var written = await AuditFileWriter.WriteAsync(path + ".probe", Again(), new AuditFileOptions(format, ExportRows.Columns, TimeZoneInfo.Utc, ExportValues.Full));
            Console.WriteLine($"probe: writer alone {written.Rows:N0} rows in {probe.Elapsed.TotalSeconds:F1} s, {written.Rows / probe.Elapsed.TotalSeconds:N0} rows/s");
            File.Delete(path + ".probe");
        }

        var watch = Stopwatch.StartNew();
        var result = await exporter.RunAsync(audited, new AuditSearch(AuditQuery.Empty, TimeRange.Between(from, to)), new AuditFileOptions(format, ExportRows.Columns, TimeZoneInfo.Utc, ExportValues.Full),
            path, key, "system:benchmark");
        var seconds = watch.Elapsed.TotalSeconds;
        using var self = Process.GetCurrentProcess();
        self.Refresh();
        var peakMb = self.PeakWorkingSet64 / 1024.0 / 1024.0;
        Console.WriteLine($"{format}: {result.Manifest.Rows:N0} rows, {result.Manifest.Bytes / 1024.0 / 1024.0:N0} MB file, {seconds:F1} s, {result.Manifest.Rows / seconds:N0} rows/s, peak RSS {peakMb:N0} MB");
        Console.WriteLine(FormattableString.Invariant($"result {format.ToString().ToLowerInvariant()} {result.Manifest.Rows / seconds:F0} {peakMb:F0}"));
        folder.Delete(recursive: true);
        return 0;
    }
}
