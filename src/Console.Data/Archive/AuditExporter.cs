using System.Globalization;
using ComplianceConsole.Core.Analytics;
using ComplianceConsole.Core.Auditing;
using ComplianceConsole.Core.Chain;
using ComplianceConsole.Core.Export;
using ComplianceConsole.Core.Query;
using ComplianceConsole.Data.Capture;
using ComplianceConsole.Data.History;
using ComplianceConsole.Data.Queries;
using Microsoft.EntityFrameworkCore;

namespace ComplianceConsole.Data.Archive;

/// <summary>An export's outcome: the file, its signed manifest and where that was written.</summary>
public sealed record ExportResult(string Path, string ManifestPath, ExportManifest Manifest);

/// <summary>What is exported: a search, a record's history, or a chart's data. <see cref="Scope"/> says which, in the manifest and the chain.</summary>
public abstract record ExportSubject
{
    public abstract string Scope { get; }

    /// <summary>The audit browser query that shows the same entries (or that the chart counts).</summary>
    public abstract string Query { get; }

    /// <summary>The time range it covers (a history: all of it).</summary>
    public virtual TimeRange Range => TimeRange.All;
}

/// <summary>"This search, as a file".</summary>
public sealed record SearchExport(AuditSearch Search) : ExportSubject
{
    public override string Scope => "search";

    public override string Query => Search.Query.Text;

    public override TimeRange Range => Search.Range;
}

/// <summary>A record's history as its timeline shows it: its own entries and those of its link rows (tags, signatories, payments, …).</summary>
public sealed record HistoryExport(RecordRef Record) : ExportSubject
{
    public override string Scope => $"history of {Record.Table} {Record.Key}, with its link rows";

    public override string Query => new AuditQuery([QueryClause.Of(QueryFields.Table, Record.Table), QueryClause.Of(QueryFields.Record, Record.Key)]).Text;
}

/// <summary>A chart's data: a row per bar or category, a column per series, and the total.</summary>
/// <param name="Label">The row's label as the console shows it (a bar's time in the reader's zone).</param>
public sealed record ChartExport(ChartData Chart, AuditSearch Search, Func<ChartRow, string> Label) : ExportSubject
{
    public override string Scope => $"chart: {Chart.Title}";

    public override string Query => Search.Query.Text;

    public override TimeRange Range => Search.Range;
}

/// <summary>
/// Exports (docs/export.md): the subject's rows, oldest first, up to the head when it started, through the one file
/// writer (<see cref="AuditFileWriter"/>); then the signed manifest beside the file; then <c>audit.exported</c> with the
/// manifest's hash, recorded through <paramref name="db"/> (so attributed to its actor). A cancel records
/// <c>audit.export_cancelled</c>, a failure <c>audit.export_failed</c>; neither leaves a file.
/// </summary>
public sealed class AuditExporter(AuditSearchService search)
{
    /// <summary>Exports up to this many rows carry each record's label; larger ones leave the column empty (labels are read per record).</summary>
    public const int LabelledRows = 10_000;

    public Task<ExportResult> RunAsync(ConsoleDbContext db, AuditSearch request, AuditFileOptions options, string path, CheckpointKey key, string by,
        IProgress<long>? progress = null, string? reason = null, CancellationToken cancellationToken = default) =>
        RunAsync(db, new SearchExport(request), options, path, key, by, progress, reason, cancellationToken);

    public async Task<ExportResult> RunAsync(ConsoleDbContext db, ExportSubject subject, AuditFileOptions options, string path, CheckpointKey key, string by,
        IProgress<long>? progress = null, string? reason = null, CancellationToken cancellationToken = default)
    {
        if (subject is ChartExport c)
        {
            options = options with { Columns = ChartColumns.Of(c.Chart) };
        }

        var (from, to) = subject.Range.Resolve(search.NowUtc);
        var counting = new Counter(progress);

        Dictionary<string, string?> Details() => new()
        {
            ["format"] = options.Format.ToString().ToLowerInvariant(),
            ["scope"] = subject.Scope,
            ["query"] = subject.Query,
            ["from"] = from is { } f ? TimeFormat.ToUrl(f) : null,
            ["to"] = to is { } t ? TimeFormat.ToUrl(t) : null,
            ["reason"] = reason,
            ["file"] = Path.GetFileName(path),
        };

        var produced = false;
        try
        {
            var rows = subject is ChartExport chart ? ChartRows(chart, options) : await EntryRowsAsync(db, subject, options, cancellationToken);
            var summary = await AuditFileWriter.WriteAsync(path, rows, options, counting, cancellationToken: cancellationToken);
            produced = true;
            var manifest = new ExportManifest(ExportManifest.CurrentVersion, Path.GetFileName(path), options.Format.ToString().ToLowerInvariant(), summary.Sha256, summary.Bytes,
                subject.Scope, subject.Query, from, to, options.Zone.Id, options.Values.ToString(), options.Columns.Select(c => c.Key).ToList(), by, search.NowUtc,
                summary.Rows, summary.FirstSeq, summary.LastSeq, summary.FirstRowHash, summary.LastRowHash, summary.Sheets,
                ExportManifest.NeutralisationOf(options.Format), summary.NeutralisedCells, summary.ShortenedCells, "", "").SignWith(key);
            var manifestPath = ExportManifest.PathFor(path);
            await File.WriteAllTextAsync(manifestPath + ".partial", manifest.ToJson(), CancellationToken.None);
            File.Move(manifestPath + ".partial", manifestPath, overwrite: true);

            var details = Details();
            details["rows"] = summary.Rows.ToString(CultureInfo.InvariantCulture);
            details["firstSeq"] = summary.FirstSeq?.ToString(CultureInfo.InvariantCulture);
            details["lastSeq"] = summary.LastSeq?.ToString(CultureInfo.InvariantCulture);
            details["sha256"] = summary.Sha256;
            details["manifest"] = manifest.Hash();
            await db.Database.RecordAuditEventAsync(new AuditEventRequest(AuditEventNames.AuditExported, "audit-trail", details), CancellationToken.None);
            return new ExportResult(path, manifestPath, manifest);
        }
        catch (OperationCanceledException)
        {
            var details = Details();
            details["rowsWritten"] = counting.Rows.ToString(CultureInfo.InvariantCulture);
            await db.Database.RecordAuditEventAsync(new AuditEventRequest(AuditEventNames.ExportCancelled, "audit-trail", details), CancellationToken.None);
            throw;
        }
        catch (Exception ex)
        {
            // Nothing is offered that the chain does not record: a file finished before the failure goes too.
            if (produced)
            {
                File.Delete(path);
                File.Delete(ExportManifest.PathFor(path));
            }

            var details = Details();
            details["reason"] = ex.Message.Length > 500 ? ex.Message[..500] : ex.Message;
            await db.Database.RecordAuditEventAsync(new AuditEventRequest(AuditEventNames.ExportFailed, "audit-trail", details), CancellationToken.None);
            throw;
        }
    }

    /// <summary>
    /// The entries, oldest first, up to the head now, each with the row hash before it (so each row's hashes can be checked
    /// on their own): one query, in one read transaction (a consistent snapshot, and about 3.5 times the rate of keyset
    /// batches: docs/benchmarks.md, Export). Small exports are read first and labelled (labels need the context).
    /// </summary>
    private async Task<IAsyncEnumerable<ExportRow>> EntryRowsAsync(ConsoleDbContext db, ExportSubject subject, AuditFileOptions options, CancellationToken cancellationToken)
    {
        IQueryable<AuditEntry> entries;
        if (subject is SearchExport s)
        {
            entries = (await search.FilterAsync(db, s.Search.Query, s.Search.Range, cancellationToken)).Entries;
        }
        else
        {
            var record = ((HistoryExport)subject).Record;
            entries = db.AuditEntries.Where(e => e.TableName == record.Table && e.RecordKey == record.Key);
            foreach (var links in (await new RecordHistoryQuery(search).LinkedRecordsAsync(db, record, cancellationToken: cancellationToken)).GroupBy(l => l.Table))
            {
                var (table, keys) = (links.Key, links.Select(l => l.Key).ToList());
                entries = entries.Concat(db.AuditEntries.Where(e => e.TableName == table && keys.Contains(e.RecordKey!)));
            }
        }

        var head = await db.AuditEntries.MaxAsync(e => (long?)e.Seq, cancellationToken) ?? 0;
        var rows = entries.Where(e => e.Seq <= head).AsNoTracking()
            .Select(e => new { Entry = e, Previous = db.AuditEntries.Where(p => p.Seq == e.Seq - 1).Select(p => p.RowHash).FirstOrDefault() })
            .OrderBy(x => x.Entry.Seq);
        var labelled = await entries.Where(e => e.Seq <= head).Take(LabelledRows + 1).CountAsync(cancellationToken) <= LabelledRows;
        return Read();

        async IAsyncEnumerable<ExportRow> Read()
        {
            if (labelled)
            {
                var all = await rows.ToListAsync(cancellationToken);
                var names = await RecordLabels.For(db.Model).ForAsync(db, all.Select(x => x.Entry).ToList(), cancellationToken);
                foreach (var x in all)
                {
                    yield return Row(x.Entry, names.GetValueOrDefault(x.Entry.Seq), x.Previous);
                }

                yield break;
            }

            await foreach (var x in rows.AsAsyncEnumerable().WithCancellation(cancellationToken))
            {
                yield return Row(x.Entry, null, x.Previous);
            }
        }

        ExportRow Row(AuditEntry e, string? label, string? previous) =>
            new(ExportRows.Values(e, label, options.Zone, options.Values, options.Columns, previous ?? (e.Seq == 1 ? HashChain.GenesisHash : null)), e.Seq, e.RowHash);
    }

    /// <summary>The chart's rows as the console shows them: label (and a bar's start in UTC), a count per series, the total.</summary>
    private static async IAsyncEnumerable<ExportRow> ChartRows(ChartExport chart, AuditFileOptions options)
    {
        foreach (var row in chart.Chart.Rows)
        {
            yield return new ExportRow([.. ChartColumns.Values(chart.Chart, row, chart.Label(row), options.Columns)]);
        }

        await Task.CompletedTask;
    }

    /// <summary>Counts the rows written as the writer reports them (every 10,000), and passes the count on.</summary>
    private sealed class Counter(IProgress<long>? next) : IProgress<long>
    {
        public long Rows { get; private set; }

        public void Report(long value)
        {
            Rows = value;
            next?.Report(value);
        }
    }
}
