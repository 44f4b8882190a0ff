using System.Globalization;
using System.Runtime.CompilerServices;
using System.Text.Json;
using ComplianceConsole.Core.Auditing;
using ComplianceConsole.Core.Chain;
using ComplianceConsole.Core.Export;
using ComplianceConsole.Core.History;
using ComplianceConsole.Core.Retention;
using ComplianceConsole.Data.Archive;
using ComplianceConsole.Data.Capture;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Storage;

namespace ComplianceConsole.Data.Retention;

/// <summary>The points between a purge's steps, where a test can make it fail (<see cref="RetentionPurger.Fault"/>).</summary>
public enum PurgeStep
{
    /// <summary>While the archive's files are written (after some rows).</summary>
    WritingArchive,

    /// <summary>The archive is written and verified; the chain does not record it yet.</summary>
    Archived,

    /// <summary>The anchor is in the chain; nothing is deleted yet.</summary>
    Anchored,

    /// <summary>Between two delete batches.</summary>
    Deleting,
}

/// <param name="Status">"done", "nothing" (no expired entries), "busy" (another purge holds the lease).</param>
public sealed record PurgeOutcome(string Status, string Message, string? RunId = null, long Archived = 0, long Deleted = 0, long Held = 0,
    string? Location = null, string? ManifestSha256 = null, bool Resumed = false);

/// <summary>
/// The purge, in its fixed order (docs/retention.md): select the expired entries no legal hold covers; write the archive
/// (entries as JSON Lines and CSV through the one file writer, the records' snapshots at the cut, a signed manifest);
/// read it back and verify it; append the anchor (with the removed ranges and the snapshots) in one transaction and sign
/// a checkpoint; delete in short batches, subtracting the entries from the rollups in each batch's transaction. Each
/// step is recorded in <see cref="PurgeRun"/> before the next begins, so a run that dies anywhere is finished by the next:
/// an unverified archive is discarded and written again, an archive without an anchor is verified again and anchored,
/// an anchored run goes on deleting. A lease keeps a second purge out.
/// </summary>
public sealed class RetentionPurger(RetentionPlanner planner, RetentionOptions options, IArchiveSink sink, CheckpointKey key, ICheckpointSink? checkpoints, TimeProvider clock)
{
    public const string JobName = "retention.purge";

    /// <summary>Tests only: called at each step boundary (with the rows written or deleted so far); throw to fail the run there.</summary>
    public Func<PurgeStep, long, ValueTask>? Fault { get; init; }

    private DateTime Now => clock.GetUtcNow().UtcDateTime;

    public async Task<PurgeOutcome> RunAsync(Func<ConsoleDbContext> open, string by, long jobRunId = 0, CancellationToken cancellationToken = default)
    {
        await using var db = open();
        var holder = $"{Environment.MachineName}:{Environment.ProcessId}:{Guid.NewGuid():N}";
        var lease = TimeSpan.FromMinutes(Math.Max(1, options.LeaseMinutes));
        if (!await JobLeases.TryTakeAsync(db, JobName, holder, Now, lease, cancellationToken))
        {
            var current = await JobLeases.CurrentAsync(db, JobName, cancellationToken);
            return new PurgeOutcome("busy", $"Another purge is running ({current?.Holder}, its lease runs until {current?.ExpiresAtUtc:yyyy-MM-dd HH:mm:ss} UTC): this one did nothing.");
        }

        // The lease is ours: any earlier run still marked running has no process behind it any more (its heartbeat stopped).
        await JobLog.CloseAbandonedAsync(db, JobName, Now, TimeSpan.FromSeconds(Math.Clamp(lease.TotalSeconds / 3, 1, 60) * 3), cancellationToken);

        // While it runs, the lease is renewed and the job's heartbeat beats, on a context of their own: a long archive
        // never lets a second purge in, and /jobs never calls a live run stuck.
        using var done = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var heartbeat = BeatAsync(open, holder, lease, jobRunId, done.Token);
        try
        {
            if (db.Database.IsSqlServer())
            {
                await StartMonthAsync(db, cancellationToken);
            }

            var run = await db.PurgeRuns.AsNoTracking().Where(r => r.Phase != PurgeRun.Done).OrderBy(r => r.StartedAtUtc).FirstOrDefaultAsync(cancellationToken);
            var resumed = run is not null;
            if (run is null)
            {
                var id = Now.ToString("yyyyMMdd'T'HHmmss'Z'", CultureInfo.InvariantCulture) + "-" + Guid.NewGuid().ToString("N")[..6];
                run = new PurgeRun { Id = id, Folder = "purge-" + id, JobRunId = jobRunId, Phase = PurgeRun.Archiving, StartedAtUtc = Now, UpdatedAtUtc = Now };
                db.PurgeRuns.Add(run);
                await db.SaveChangesAsync(cancellationToken);
                db.ChangeTracker.Clear();
            }

            ArchiveManifest? manifest = null;
            for (var attempt = 0; run.Phase == PurgeRun.Archiving || run.Phase == PurgeRun.Archived; attempt++)
            {
                if (run.Phase == PurgeRun.Archiving)
                {
                    // Whatever an earlier attempt left is not an archive: no anchor points to it.
                    await sink.DiscardAsync(run.Folder, cancellationToken);
                    var head = await db.AuditEntries.MaxAsync(e => (long?)e.Seq, cancellationToken) ?? 0;
                    var written = await WriteArchiveAsync(db, run, head, by, cancellationToken);
                    if (written is null)
                    {
                        // Nothing newly expired. Entries an earlier run archived and anchored, kept then by a hold that is
                        // released now, go all the same: their archive and their anchor exist.
                        var released = await DeleteAsync(db, run, cancellationToken);
                        await SetPhaseAsync(db, run with { Phase = PurgeRun.Done, HeadSeq = head, Deleted = released }, cancellationToken);
                        return released == 0
                            ? new PurgeOutcome("nothing", "No entry is past its retention period (or every one is held): nothing was archived or deleted.", run.Id, Resumed: resumed)
                            : new PurgeOutcome("done", $"No entry is newly past its retention period. Deleted {released:N0} entries that legal holds, released since, had kept; the runs that archived them anchored them then.",
                                run.Id, Deleted: released, Resumed: resumed);
                    }

                    run = run with { Phase = PurgeRun.Archived, HeadSeq = head, Entries = written.Entries, ManifestSha256 = written.Hash() };
                    await SetPhaseAsync(db, run, cancellationToken);
                    await Step(PurgeStep.Archived, written.Entries);
                }

                // Read back and verified every time, also when resuming: nothing is anchored on an archive that is not intact.
                var check = await ArchiveVerifier.VerifyAsync(await sink.OpenAsync(run.Folder, cancellationToken), key.PublicKey, cancellationToken);
                if (!check.IsValid || check.Manifest!.Hash() != run.ManifestSha256)
                {
                    await sink.DiscardAsync(run.Folder, cancellationToken);
                    await SetPhaseAsync(db, run with { Phase = PurgeRun.Archiving }, cancellationToken);
                    throw new InvalidOperationException($"The archive of run {run.Id} did not verify, so nothing was deleted and the archive was discarded: "
                        + string.Join(" ", check.Problems.Take(3).DefaultIfEmpty("its manifest is not the one the run wrote.")) + " The next run writes it again.");
                }

                manifest = check.Manifest;
                if (await AnchorAsync(db, run, manifest, check.Ranges, by, cancellationToken) is { } anchorSeq)
                {
                    run = run with { Phase = PurgeRun.Anchored, AnchorSeq = anchorSeq };
                    break;
                }

                // A legal hold placed since the selection covers archived entries: that archive may not be anchored.
                await sink.DiscardAsync(run.Folder, cancellationToken);
                run = run with { Phase = PurgeRun.Archiving };
                await SetPhaseAsync(db, run, cancellationToken);
                if (attempt >= 2)
                {
                    throw new InvalidOperationException("Legal holds kept changing while the purge ran; it stopped without deleting anything. Run it again.");
                }
            }

            if (run.Phase == PurgeRun.Anchored && manifest is null)
            {
                manifest = (await ArchiveVerifier.ReadManifestAsync(await sink.OpenAsync(run.Folder, cancellationToken))).Manifest;
            }

            if (checkpoints is not null && run.Phase == PurgeRun.Anchored)
            {
                await AuditCheckpoints.SignAsync(db, key, checkpoints, clock, cancellationToken);
            }

            await Step(PurgeStep.Anchored, 0);
            var deleted = await DeleteAsync(db, run, cancellationToken);
            await SetPhaseAsync(db, run with { Phase = PurgeRun.Done, Deleted = deleted }, cancellationToken);
            var held = manifest?.Held ?? 0;
            return new PurgeOutcome("done",
                $"Archived {run.Entries:N0} entries (verified), anchored at seq {run.AnchorSeq}, deleted {deleted:N0}."
                + (held > 0 ? $" {held:N0} expired entries were kept by legal holds." : "") + (resumed ? " (This run finished one that had stopped.)" : ""),
                run.Id, run.Entries, deleted, held, sink.Location(run.Folder), run.ManifestSha256, resumed);
        }
        finally
        {
            await done.CancelAsync();
            await heartbeat;
            await JobLeases.ReleaseAsync(db, JobName, holder);
        }
    }

    private async Task BeatAsync(Func<ConsoleDbContext> open, string holder, TimeSpan lease, long jobRunId, CancellationToken stop)
    {
        using var timer = new PeriodicTimer(TimeSpan.FromSeconds(Math.Clamp(lease.TotalSeconds / 3, 1, 60)));
        try
        {
            while (await timer.WaitForNextTickAsync(stop))
            {
                try
                {
                    await using var beat = open();
                    await JobLeases.TryTakeAsync(beat, JobName, holder, Now, lease, stop);
                    if (jobRunId > 0)
                    {
                        await JobLog.HeartbeatAsync(beat, jobRunId, Now, stop);
                    }
                }
                catch (Exception ex) when (ex is not OperationCanceledException)
                {
                    // A missed beat is retried at the next tick; the lease lasts three of them.
                }
            }
        }
        catch (OperationCanceledException)
        {
        }
    }

    private ValueTask Step(PurgeStep step, long rows) => Fault?.Invoke(step, rows) ?? ValueTask.CompletedTask;

    private async Task SetPhaseAsync(ConsoleDbContext db, PurgeRun run, CancellationToken cancellationToken)
    {
        var now = Now;
        await db.PurgeRuns.Where(r => r.Id == run.Id).ExecuteUpdateAsync(s => s
            .SetProperty(r => r.Phase, run.Phase).SetProperty(r => r.HeadSeq, run.HeadSeq).SetProperty(r => r.Entries, run.Entries)
            .SetProperty(r => r.ManifestSha256, run.ManifestSha256).SetProperty(r => r.AnchorSeq, run.AnchorSeq).SetProperty(r => r.Deleted, run.Deleted)
            .SetProperty(r => r.UpdatedAtUtc, now), cancellationToken);
    }

    /// <summary>Step 2: the archive's files and signed manifest, staged and then published. Null when nothing is expired.</summary>
    private async Task<ArchiveManifest?> WriteArchiveAsync(ConsoleDbContext db, PurgeRun run, long head, string by, CancellationToken cancellationToken)
    {
        var (selected, expired, rules, holds) = await planner.SelectAsync(db, head, cancellationToken);
        if (!await selected.AnyAsync(cancellationToken))
        {
            return null;
        }

        var heldBy = new List<ArchiveHold>();
        foreach (var hold in holds)
        {
            var seqs = hold.Seqs;
            var count = await expired.LongCountAsync(e => seqs.Contains(e.Seq), cancellationToken);
            heldBy.Add(new ArchiveHold(hold.Hold.Id, hold.Hold.Reference, hold.Hold.Query, count));
        }

        // Held: expired and covered by a hold now (not merely archived already by an earlier run).
        var held = heldBy.Count == 0 ? 0 : await expired.LongCountAsync(cancellationToken) - await RetentionPlanner.NotHeld(expired, holds).LongCountAsync(cancellationToken);
        var staging = await sink.StageAsync(run.Folder, cancellationToken);
        var columns = ExportRows.Columns;
        var rows = ArchiveRows(db, selected, columns, cancellationToken);
        var jsonOptions = new AuditFileOptions(ExportFormat.JsonLines, columns, TimeZoneInfo.Utc, ExportValues.Full);
        var csvOptions = jsonOptions with { Format = ExportFormat.Csv };

        // One read of the store feeds both files; if either writer fails, both stop (neither waits on the other).
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var (toJson, toCsv) = Tee(rows, stop.Token);
        async Task<AuditFileSummary> WriteAsync(string name, IAsyncEnumerable<ExportRow> source, AuditFileOptions options)
        {
            try
            {
                return await AuditFileWriter.WriteAsync(Path.Combine(staging, name), source, options, cancellationToken: stop.Token);
            }
            catch
            {
                await stop.CancelAsync();
                throw;
            }
        }

        var jsonTask = WriteAsync(ArchiveManifest.EntriesJson, toJson, jsonOptions);
        var csvTask = WriteAsync(ArchiveManifest.EntriesCsv, toCsv, csvOptions);
        try
        {
            await Task.WhenAll(jsonTask, csvTask);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested && (jsonTask.IsFaulted || csvTask.IsFaulted))
        {
            // The writer that failed first says why.
            throw (jsonTask.IsFaulted ? jsonTask.Exception : csvTask.Exception)!.InnerException!;
        }

        var (json, csv) = (await jsonTask, await csvTask);

        var snapshots = await WriteSnapshotsAsync(db, expired, Path.Combine(staging, ArchiveManifest.SnapshotsJson), cancellationToken);
        var ranges = await ArchiveVerifier.RangesAsync(Path.Combine(staging, ArchiveManifest.EntriesJson), run.Id, cancellationToken);
        var digest = RemovedRangeDigest.Of(ranges);

        ArchiveFile File(string name, ExportFormat format, AuditFileSummary s, IReadOnlyList<string> keys) =>
            new(name, format.ToString().ToLowerInvariant(), s.Sha256, s.Bytes, s.Rows, keys, s.FirstSeq, s.LastSeq, s.FirstRowHash, s.LastRowHash);
        var keys = columns.Select(c => c.Key).ToList();
        var manifest = new ArchiveManifest(ArchiveManifest.CurrentVersion, run.Id, run.Folder, by, Now, head, json.Rows, json.FirstSeq, json.LastSeq, json.FirstRowHash, json.LastRowHash,
            digest.Ranges, digest.Sha256(), snapshots.Rows,
            rules.Select(r => new ArchivePolicy(r.Scope, r.Days, r.CutoffUtc)).ToList(), heldBy, held,
            [File(ArchiveManifest.EntriesJson, ExportFormat.JsonLines, json, keys), File(ArchiveManifest.EntriesCsv, ExportFormat.Csv, csv, keys),
             File(ArchiveManifest.SnapshotsJson, ExportFormat.JsonLines, snapshots, SnapshotColumns.Select(c => c.Key).ToList())],
            "", "").SignWith(key);
        await System.IO.File.WriteAllTextAsync(Path.Combine(staging, ArchiveManifest.FileName), manifest.ToJson(), cancellationToken);
        await sink.PublishAsync(run.Folder, cancellationToken);
        return manifest;
    }

    /// <summary>The selected entries in seq order as rows of the export's shape, each with the row hash before it (live, or a removed range's).</summary>
    private async IAsyncEnumerable<ExportRow> ArchiveRows(ConsoleDbContext db, IQueryable<AuditEntry> selected, IReadOnlyList<ExportColumn> columns,
        [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        var rows = selected.AsNoTracking().OrderBy(e => e.Seq).Select(e => new
        {
            Entry = e,
            Previous = db.AuditEntries.Where(p => p.Seq == e.Seq - 1).Select(p => p.RowHash).FirstOrDefault()
                ?? db.AuditRemovedRanges.Where(r => r.ThroughSeq == e.Seq - 1).Select(r => r.LastRowHash).FirstOrDefault(),
        });
        long written = 0;
        await foreach (var x in rows.AsAsyncEnumerable().WithCancellation(cancellationToken))
        {
            var previous = x.Previous ?? (x.Entry.Seq == 1 ? HashChain.GenesisHash : null);
            yield return new ExportRow(ExportRows.Values(x.Entry, null, TimeZoneInfo.Utc, ExportValues.Full, columns, previous), x.Entry.Seq, x.Entry.RowHash);
            if (++written == 1)
            {
                await Step(PurgeStep.WritingArchive, written);
            }
        }
    }

    /// <summary>Copies one stream of rows to two readers (each written by its own writer), so the store is read once.</summary>
    private static (IAsyncEnumerable<ExportRow> A, IAsyncEnumerable<ExportRow> B) Tee(IAsyncEnumerable<ExportRow> rows, CancellationToken cancellationToken)
    {
        var a = System.Threading.Channels.Channel.CreateBounded<ExportRow>(4096);
        var b = System.Threading.Channels.Channel.CreateBounded<ExportRow>(4096);
        _ = Task.Run(async () =>
        {
            Exception? failure = null;
            try
            {
                await foreach (var row in rows.WithCancellation(cancellationToken))
                {
                    await a.Writer.WriteAsync(row, cancellationToken);
                    await b.Writer.WriteAsync(row, cancellationToken);
                }
            }
            catch (Exception ex)
            {
                failure = ex;
            }

            a.Writer.TryComplete(failure);
            b.Writer.TryComplete(failure);
        }, CancellationToken.None);
        return (a.Reader.ReadAllAsync(cancellationToken), b.Reader.ReadAllAsync(cancellationToken));
    }

    public static readonly IReadOnlyList<ExportColumn> SnapshotColumns =
    [
        new("table", "Table", ExportCellKind.Text, 20), new("record_key", "Record key", ExportCellKind.Text, 30),
        new("at_seq", "At seq", ExportCellKind.Number, 12), new("values", "Values", ExportCellKind.Text, 80),
    ];

    /// <summary>
    /// Each record whose entries the run removes, as it stood after the last of them (the one state rebuild, fed the
    /// expired entries in seq order, held ones included): replay starts from it once the entries behind it are gone.
    /// A record whose last removed entry deleted it needs none.
    /// </summary>
    private static async Task<AuditFileSummary> WriteSnapshotsAsync(ConsoleDbContext db, IQueryable<AuditEntry> expired, string path, CancellationToken cancellationToken)
    {
        var states = new Dictionary<(string Table, string Key), (Dictionary<string, string> Columns, bool Exists, long AtSeq)>();
        var rows = expired.AsNoTracking().Where(e => e.TableName != null && e.RecordKey != null).OrderBy(e => e.Seq)
            .Select(e => new AuditEntry { Seq = e.Seq, Operation = e.Operation, EventName = e.EventName, TableName = e.TableName, RecordKey = e.RecordKey, OldValues = e.OldValues, NewValues = e.NewValues, Origin = "" });
        await foreach (var entry in rows.AsAsyncEnumerable().WithCancellation(cancellationToken))
        {
            var id = (entry.TableName!, entry.RecordKey!);
            var state = states.TryGetValue(id, out var s) ? s : (new Dictionary<string, string>(StringComparer.Ordinal), false, 0L);
            var exists = state.Item2;
            if (RecordHistory.Fold(state.Item1, ref exists, entry))
            {
                states[id] = (state.Item1, exists, entry.Seq);
            }
        }

        return await AuditFileWriter.WriteAsync(path, Snapshots(), new AuditFileOptions(ExportFormat.JsonLines, SnapshotColumns, TimeZoneInfo.Utc, ExportValues.Full),
            cancellationToken: cancellationToken);

        async IAsyncEnumerable<ExportRow> Snapshots()
        {
            foreach (var ((table, recordKey), (columns, exists, atSeq)) in states.OrderBy(s => s.Value.AtSeq))
            {
                if (exists)
                {
                    var values = "{" + string.Join(",", columns.OrderBy(c => c.Key, StringComparer.Ordinal).Select(c => JsonSerializer.Serialize(c.Key) + ":" + c.Value)) + "}";
                    yield return new ExportRow([table, recordKey, atSeq, values]);
                }
            }

            await Task.CompletedTask;
        }
    }

    /// <summary>
    /// Step 4, in one transaction: the removed ranges, the records' snapshots and the anchor, which names the run, its
    /// archive, the manifest's hash, the ranges' digest and the boundary row hashes. Null (nothing written) when a legal
    /// hold placed since the selection covers an archived entry.
    /// </summary>
    private async Task<long?> AnchorAsync(ConsoleDbContext db, PurgeRun run, ArchiveManifest manifest, IReadOnlyList<RemovedRange> ranges, string by, CancellationToken cancellationToken)
    {
        var holds = await planner.HoldsAsync(db, cancellationToken);
        var (first, last) = (manifest.FirstSeq ?? 0, manifest.LastSeq ?? 0);
        foreach (var hold in holds)
        {
            var held = await hold.Seqs.Where(s => s >= first && s <= last).ToListAsync(cancellationToken);
            if (held.Any(s => Covers(ranges, s)))
            {
                return null;
            }
        }

        var snapshots = await ArchiveVerifier.SnapshotsAsync(Path.Combine(await sink.OpenAsync(run.Folder, cancellationToken), ArchiveManifest.SnapshotsJson), cancellationToken);
        var now = Now;

        // The snapshots first, a short transaction per thousand: each is true whatever happens next (the record's state
        // just after its last archived entry), so one written before a stop does no harm, and writers wait little.
        // A run resumed after a stop skips the chunks it had written (each chunk commits whole, in order).
        var written = await db.AuditEntries.AsNoTracking().Where(e => e.EventName == AuditEventNames.RetentionSnapshot && e.Metadata != null && e.Metadata.Contains(run.Id))
            .LongCountAsync(cancellationToken);
        foreach (var chunk in snapshots.Skip((int)Math.Min(written, snapshots.Count)).Chunk(1000))
        {
            await using var transaction = await db.Database.BeginTransactionAsync(cancellationToken);
            foreach (var snapshot in chunk)
            {
                var metadata = JsonSerializer.Serialize(new SortedDictionary<string, string?>(StringComparer.Ordinal)
                {
                    ["atSeq"] = snapshot.AtSeq.ToString(CultureInfo.InvariantCulture),
                    [AnchorFields.RunId] = run.Id,
                });
                await db.Database.ExecuteSqlInterpolatedAsync($"""
                    INSERT INTO "AuditPending" ("Operation", "EventName", "TableName", "RecordKey", "NewValues", "Metadata", "CapturedAtUtc")
                    VALUES ('event', {AuditEventNames.RetentionSnapshot}, {snapshot.Table}, {snapshot.Key}, {snapshot.Values}, {metadata}, {now})
                    """, cancellationToken);
            }

            await transaction.CommitAsync(cancellationToken);
        }

        // Then the ranges and the anchor, together or not at all.
        await using (var transaction = await db.Database.BeginTransactionAsync(cancellationToken))
        {
            await InsertRangesAsync(db, ranges, cancellationToken);

            var details = new Dictionary<string, string?>
            {
                [AnchorFields.RunId] = run.Id,
                [AnchorFields.Archive] = sink.Location(run.Folder),
                [AnchorFields.ManifestSha256] = manifest.Hash(),
                [AnchorFields.Entries] = manifest.Entries.ToString(CultureInfo.InvariantCulture),
                [AnchorFields.Ranges] = manifest.Ranges.ToString(CultureInfo.InvariantCulture),
                [AnchorFields.RangesSha256] = manifest.RangesSha256,
                ["fromSeq"] = manifest.FirstSeq?.ToString(CultureInfo.InvariantCulture),
                ["throughSeq"] = manifest.LastSeq?.ToString(CultureInfo.InvariantCulture),
                ["firstRowHash"] = manifest.FirstRowHash,
                ["lastRowHash"] = manifest.LastRowHash,
                ["snapshots"] = snapshots.Count.ToString(CultureInfo.InvariantCulture),
                ["held"] = manifest.Held.ToString(CultureInfo.InvariantCulture),
                ["policies"] = string.Join("; ", manifest.Policies.Where(p => p.CutoffUtc is not null).Select(p => $"{p.Scope} {RetentionRules.Describe(p.Days)} (before {p.CutoffUtc:yyyy-MM-dd HH:mm:ss}Z)")),
                ["by"] = by,
            };
            await db.Database.RecordAuditEventAsync(new AuditEventRequest(AuditEventNames.RetentionPurged, "retention/" + run.Id, details), cancellationToken);
            await db.PurgeRuns.Where(r => r.Id == run.Id).ExecuteUpdateAsync(s => s.SetProperty(r => r.Phase, PurgeRun.Anchored).SetProperty(r => r.UpdatedAtUtc, now), cancellationToken);
            await transaction.CommitAsync(cancellationToken);
        }

        var anchors = await db.AuditEntries.AsNoTracking().Where(e => e.EventName == AuditEventNames.RetentionPurged).OrderByDescending(e => e.Seq)
            .Select(e => new { e.Seq, e.Metadata }).Take(20).ToListAsync(cancellationToken);
        var anchorSeq = anchors.First(a => a.Metadata != null && a.Metadata.Contains(run.Id, StringComparison.Ordinal)).Seq;
        await db.PurgeRuns.Where(r => r.Id == run.Id).ExecuteUpdateAsync(s => s.SetProperty(r => r.AnchorSeq, anchorSeq), cancellationToken);
        return anchorSeq;
    }

    /// <summary>The run's removed ranges, many per statement (a JSON array the database unpacks): a run of a million entries may have hundreds of thousands.</summary>
    private static async Task InsertRangesAsync(ConsoleDbContext db, IReadOnlyList<RemovedRange> ranges, CancellationToken cancellationToken)
    {
        var sql = db.Database.IsSqlServer()
            ? $"INSERT INTO [{AuditStoreModel.RemovedRangesTable}] ([FirstSeq], [ThroughSeq], [LastRowHash], [RunId]) SELECT j.f, j.t, j.h, j.r FROM OPENJSON({{0}}) WITH (f bigint '$[0]', t bigint '$[1]', h char(64) '$[2]', r nvarchar(64) '$[3]') AS j"
            : $"INSERT INTO \"{AuditStoreModel.RemovedRangesTable}\" (\"FirstSeq\", \"ThroughSeq\", \"LastRowHash\", \"RunId\") SELECT json_extract(value, '$[0]'), json_extract(value, '$[1]'), json_extract(value, '$[2]'), json_extract(value, '$[3]') FROM json_each({{0}})";
        foreach (var chunk in ranges.Chunk(20_000))
        {
            var json = JsonSerializer.Serialize(chunk.Select(r => new object[] { r.FirstSeq, r.ThroughSeq, r.LastRowHash, r.RunId }));
            await db.Database.ExecuteSqlRawAsync(sql, [json], cancellationToken);
        }
    }

    private static bool Covers(IReadOnlyList<RemovedRange> ranges, long seq)
    {
        int lo = 0, hi = ranges.Count - 1;
        while (lo <= hi)
        {
            var mid = (lo + hi) / 2;
            if (ranges[mid].ThroughSeq < seq)
            {
                lo = mid + 1;
            }
            else if (ranges[mid].FirstSeq > seq)
            {
                hi = mid - 1;
            }
            else
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>
    /// Step 5: deletes the run's entries (and any earlier run's that a released hold had kept), a window of
    /// <see cref="RetentionOptions.DeleteBatch"/> seqs per transaction, so a concurrent writer waits for one short batch at
    /// most. Each batch subtracts its entries from the rollups and the text index in the same transaction. An entry a
    /// legal hold covers now stays (the chain accepts it inside its range).
    /// </summary>
    private async Task<long> DeleteAsync(ConsoleDbContext db, PurgeRun run, CancellationToken cancellationToken)
    {
        // This run's ranges, and every earlier one that still holds entries (a hold kept them, and may have been released).
        var ranges = await db.AuditRemovedRanges.AsNoTracking()
            .Where(r => r.RunId == run.Id || db.AuditEntries.Any(e => e.Seq >= r.FirstSeq && e.Seq <= r.ThroughSeq))
            .OrderBy(r => r.FirstSeq).Select(r => new { r.FirstSeq, r.ThroughSeq }).ToListAsync(cancellationToken);
        if (ranges.Count == 0)
        {
            return run.Deleted;
        }

        var sqlServer = db.Database.IsSqlServer();
        var width = Math.Max(1, options.DeleteBatch);
        long deleted = run.Deleted;
        // Whose firsts to work out again at the end: the actors of the deleted entries (all of them when resuming, as the
        // batches before the stop are not known any more).
        var actors = new HashSet<string>(StringComparer.Ordinal);
        if (deleted > 0)
        {
            actors.UnionWith(await db.AuditActorFirsts.AsNoTracking().Select(f => f.ActorName).Distinct().ToListAsync(cancellationToken));
        }

        if (sqlServer)
        {
            deleted = await SwitchOutAsync(db, run, deleted, actors, cancellationToken);
        }

        foreach (var (lo, hi) in Windows(ranges.Select(r => (r.FirstSeq, r.ThroughSeq)), width))
        {
            var kept = new List<long>();
            foreach (var hold in await planner.HoldsAsync(db, cancellationToken))
            {
                kept.AddRange(await hold.Seqs.Where(s => s >= lo && s <= hi).ToListAsync(cancellationToken));
            }

            var where = RemovableWhere(sqlServer, lo, hi, kept);
            var delete = $"DELETE FROM {Q(sqlServer, AuditStoreModel.EntriesTable)} WHERE {where}"; // numbers only: no input reaches it
            deleted = await RemoveAsync(db, run, where, deleted, actors, async _ => await db.Database.ExecuteSqlRawAsync(delete, cancellationToken), cancellationToken);
            await Step(PurgeStep.Deleting, deleted);
        }

        foreach (var actor in actors)
        {
            await using var transaction = await db.Database.BeginTransactionAsync(cancellationToken);
            foreach (var statement in Rollups.AuditRollups.RefreshFirstsStatements(sqlServer))
            {
                await db.Database.ExecuteSqlRawAsync(statement, [actor], cancellationToken);
            }

            await transaction.CommitAsync(cancellationToken);
        }

        return deleted;
    }

    /// <summary>
    /// SQL Server with the store partitioned on seq: a new partition when a month is due (<see cref="SqlServerPartitions.NewMonthProcedure"/>),
    /// on a plain command outside any transaction, as the procedure takes the chain lock in a transaction of its own.
    /// </summary>
    private static async Task StartMonthAsync(ConsoleDbContext db, CancellationToken cancellationToken)
    {
        await db.Database.OpenConnectionAsync(cancellationToken);
        try
        {
            await using var command = db.Database.GetDbConnection().CreateCommand();
            command.CommandText = SqlServerPartitions.StartMonthSql(AuditStoreModel.SqlServerSchemaOf(db.Model));
            await command.ExecuteNonQueryAsync(cancellationToken);
        }
        finally
        {
            await db.Database.CloseConnectionAsync();
        }
    }

    /// <summary>
    /// SQL Server with the store partitioned on seq (<see cref="SqlServerPartitions"/>): the partitions this run's anchor
    /// makes wholly removable are switched out, each in one transaction with its rollups subtracted and its text index
    /// forgotten, instead of deleted in batches. A partition the procedure refuses, or whose switch waits too long for its
    /// lock, is rolled back and left to the batched delete that follows. Returns the entries deleted so far.
    /// </summary>
    internal async Task<long> SwitchOutAsync(ConsoleDbContext db, PurgeRun run, long deleted, HashSet<string> actors, CancellationToken cancellationToken)
    {
        if (run.AnchorSeq is not { } anchor)
        {
            return deleted;
        }

        var schema = AuditStoreModel.SqlServerSchemaOf(db.Model);
        await db.Database.OpenConnectionAsync(cancellationToken);
        try
        {
            var connection = db.Database.GetDbConnection();
            var partitions = await SqlServerPartitions.ReadAsync(connection, null, schema, cancellationToken);
            if (partitions.Count == 0)
            {
                return deleted;
            }

            var ranges = await db.AuditRemovedRanges.AsNoTracking().OrderBy(r => r.FirstSeq)
                .Select(r => new RemovedRange(r.FirstSeq, r.ThroughSeq, r.LastRowHash, r.RunId)).ToListAsync(cancellationToken);
            var (lo, hi) = (partitions.Min(p => p.FirstSeq), partitions.Max(p => p.LastSeq));
            var kept = new List<long>();
            foreach (var hold in await planner.HoldsAsync(db, cancellationToken))
            {
                kept.AddRange(await hold.Seqs.Where(s => s >= lo && s <= hi).ToListAsync(cancellationToken));
            }

            foreach (var partition in PartitionSwitch.Switchable(partitions, ranges, kept, anchor))
            {
                try
                {
                    deleted = await RemoveAsync(db, run, RemovableWhere(sqlServer: true, partition.FirstSeq, partition.LastSeq, []), deleted, actors, async transaction =>
                    {
                        await using var command = connection.CreateCommand();
                        command.Transaction = transaction.GetDbTransaction();
                        command.CommandText = $"EXEC {SqlServerAuditSql.Quote(schema)}.{SqlServerAuditSql.Quote(SqlServerPartitions.SwitchProcedure)} @partition = @p";
                        var p = command.CreateParameter();
                        p.ParameterName = "@p";
                        p.Value = partition.Number;
                        command.Parameters.Add(p);
                        return Convert.ToInt64(await command.ExecuteScalarAsync(cancellationToken), CultureInfo.InvariantCulture);
                    }, cancellationToken);
                }
                catch (System.Data.Common.DbException)
                {
                    // Refused or waited too long: its transaction rolled back whole; the batched delete below takes these entries.
                }

                await Step(PurgeStep.Deleting, deleted);
            }
        }
        finally
        {
            await db.Database.CloseConnectionAsync();
        }

        return deleted;
    }

    /// <summary>
    /// One transaction of the delete step: the actors of the entries <paramref name="where"/> selects (their firsts are
    /// worked out again at the end), their rollups subtracted and their text index forgotten, then <paramref name="remove"/>
    /// (a batched DELETE, or a partition switch), and the run's count. Returns the entries deleted so far; on an error
    /// nothing of it stays.
    /// </summary>
    private static async Task<long> RemoveAsync(ConsoleDbContext db, PurgeRun run, string where, long deleted, HashSet<string> actors,
        Func<IDbContextTransaction, Task<long>> remove, CancellationToken cancellationToken)
    {
        var sqlServer = db.Database.IsSqlServer();
        await using var transaction = await db.Database.BeginTransactionAsync(cancellationToken);
        var distinct = $"SELECT DISTINCT ActorName FROM {Q(sqlServer, AuditStoreModel.EntriesTable)} WHERE ({where}) AND ActorName IS NOT NULL AND ActorName <> ''";
        var found = await db.Database.SqlQueryRaw<string>(distinct).ToListAsync(cancellationToken);
        foreach (var statement in Rollups.AuditRollups.SubtractStatements(sqlServer, where).Concat(Queries.AuditTextIndex.ForgetStatements(sqlServer, where)))
        {
            await db.Database.ExecuteSqlRawAsync(statement, cancellationToken);
        }

        deleted += await remove(transaction);
        await db.PurgeRuns.Where(r => r.Id == run.Id).ExecuteUpdateAsync(s => s.SetProperty(r => r.Deleted, deleted), cancellationToken);
        await transaction.CommitAsync(cancellationToken);
        actors.UnionWith(found);
        return deleted;
    }

    /// <summary>
    /// The seq windows of at most <paramref name="width"/> the delete runs over to cover <paramref name="ranges"/> (sorted by
    /// their first seq): ranges closer than a window to each other share windows, far ones (an old run's range a released
    /// hold had kept, and this run's) get their own, so no empty window between them costs a transaction.
    /// </summary>
    internal static IEnumerable<(long Lo, long Hi)> Windows(IEnumerable<(long First, long Through)> ranges, int width)
    {
        var spans = new List<(long Lo, long Hi)>();
        foreach (var (first, through) in ranges)
        {
            if (spans.Count > 0 && first - spans[^1].Hi <= width)
            {
                spans[^1] = (spans[^1].Lo, Math.Max(spans[^1].Hi, through));
            }
            else
            {
                spans.Add((first, through));
            }
        }

        foreach (var (lo, hi) in spans)
        {
            for (var at = lo; at <= hi; at += width)
            {
                yield return (at, Math.Min(hi, at + width - 1));
            }
        }
    }

    private static string Q(bool sqlServer, string name) => sqlServer ? $"[{name}]" : $"\"{name}\"";

    /// <summary>The entries of seq <paramref name="lo"/> to <paramref name="hi"/> that lie inside a removed range and are not in <paramref name="kept"/>: a WHERE over the entries table, unaliased.</summary>
    internal static string RemovableWhere(bool sqlServer, long lo, long hi, IReadOnlyCollection<long> kept)
    {
        var entries = Q(sqlServer, AuditStoreModel.EntriesTable);
        var ranges = Q(sqlServer, AuditStoreModel.RemovedRangesTable);
        var covering = sqlServer
            ? $"(SELECT TOP 1 r.[ThroughSeq] FROM {ranges} AS r WHERE r.[FirstSeq] <= {entries}.[Seq] ORDER BY r.[FirstSeq] DESC)"
            : $"(SELECT r.\"ThroughSeq\" FROM {ranges} AS r WHERE r.\"FirstSeq\" <= {entries}.\"Seq\" ORDER BY r.\"FirstSeq\" DESC LIMIT 1)";
        var seq = $"{entries}.{Q(sqlServer, "Seq")}";
        var where = string.Create(CultureInfo.InvariantCulture, $"{seq} BETWEEN {lo} AND {hi} AND {covering} >= {seq}");
        return kept.Count == 0 ? where : where + $" AND {seq} NOT IN ({string.Join(",", kept.Distinct().Select(k => k.ToString(CultureInfo.InvariantCulture)))})";
    }
}
