using System.Security.Cryptography;
using System.Text.Json;
using ComplianceConsole.Core.Chain;
using ComplianceConsole.Core.Export;
using ComplianceConsole.Core.Auditing;
using ComplianceConsole.Core.Retention;
using Microsoft.EntityFrameworkCore;

namespace ComplianceConsole.Data.Archive;

/// <summary>What `verify-archive` found: the manifest (when it could be read), the removed ranges its entries make, and each problem in a sentence.</summary>
public sealed record ArchiveVerification(ArchiveManifest? Manifest, IReadOnlyList<string> Problems, long EntriesChecked, IReadOnlyList<RemovedRange> Ranges)
{
    public bool IsValid => Problems.Count == 0 && Manifest is not null;
}

/// <summary>A record's state kept by a purge (a line of snapshots.jsonl).</summary>
public sealed record ArchivedSnapshot(string Table, string Key, long AtSeq, string Values);

/// <summary>
/// Checks a retention archive folder alone, offline, with the public key only, reading nothing but the folder: the
/// manifest's signature; each file's size and SHA-256; the entries files row by row (through the export verifier: each
/// row's canonical form, payload and row hash, the links between consecutive seqs, the seq range and boundary hashes);
/// that the JSON Lines and CSV hold the same entries; that the entries make the removed ranges the manifest records (count
/// and digest, which the chain's anchor records too); and the snapshots file's rows. Writes nothing.
/// </summary>
public static class ArchiveVerifier
{
    public static async Task<(ArchiveManifest? Manifest, string? Problem)> ReadManifestAsync(string folder)
    {
        var path = Path.Combine(folder, ArchiveManifest.FileName);
        if (!Directory.Exists(folder))
        {
            return (null, $"{folder} is not a folder: give the folder of one purge run (it holds {ArchiveManifest.FileName}).");
        }

        if (!File.Exists(path))
        {
            return (null, $"{folder} has no {ArchiveManifest.FileName}: it is not a finished archive (a run that stopped before its manifest leaves none, and anchors nothing).");
        }

        return ArchiveManifest.TryParse(await File.ReadAllTextAsync(path), out var manifest, out var reason)
            ? (manifest, null)
            : (null, $"{path} cannot be read: {reason}.");
    }

    public static async Task<ArchiveVerification> VerifyAsync(string folder, CheckpointPublicKey key, CancellationToken cancellationToken = default)
    {
        var (manifest, unreadable) = await ReadManifestAsync(folder);
        if (manifest is null)
        {
            return new ArchiveVerification(null, [unreadable!], 0, []);
        }

        var problems = new List<string>();
        if (manifest.KeyId != key.KeyId)
        {
            problems.Add($"The manifest was signed by key {manifest.KeyId}, not by the key given ({key.KeyId}): give the console's public key.");
        }
        else if (!manifest.VerifiesWith(key))
        {
            problems.Add("The manifest's signature does not verify: the manifest was edited after it was signed.");
        }

        long checkedRows = 0;
        foreach (var file in manifest.Files)
        {
            var path = Path.Combine(folder, file.Name);
            if (Path.GetFileName(file.Name) != file.Name || !File.Exists(path))
            {
                problems.Add($"{file.Name} is missing from the archive.");
                continue;
            }

            if (file.Name == ArchiveManifest.SnapshotsJson)
            {
                await using var stream = File.OpenRead(path);
                var sha = Convert.ToHexStringLower(await SHA256.HashDataAsync(stream, cancellationToken));
                if (stream.Length != file.Bytes || sha != file.Sha256)
                {
                    problems.Add($"{file.Name} is not the file the manifest describes ({stream.Length:N0} bytes, SHA-256 {sha}; the manifest says {file.Bytes:N0} bytes, {file.Sha256}).");
                }
                else if ((await SnapshotsAsync(path, cancellationToken)).Count != file.Rows)
                {
                    problems.Add($"{file.Name} does not hold the {file.Rows:N0} snapshots the manifest counts.");
                }

                continue;
            }

            // The entries files: through the export verifier, whose manifest shape says the same of one file.
            var asExport = new ExportManifest(ExportManifest.CurrentVersion, file.Name, file.Format, file.Sha256, file.Bytes, "retention archive " + manifest.RunId, "",
                null, null, "UTC", ExportValues.Full.ToString(), file.Columns, manifest.By, manifest.CreatedAtUtc, file.Rows, file.FirstSeq, file.LastSeq,
                file.FirstRowHash, file.LastRowHash, 1, "", 0, 0, manifest.KeyId, "");
            var fileProblems = new List<string>();
            var result = await ExportVerifier.VerifyFileAsync(path, asExport, fileProblems, cancellationToken);
            problems.AddRange(fileProblems.Select(p => $"{file.Name}: {p}"));
            checkedRows = Math.Max(checkedRows, result.RowsChecked);
            if (file.Rows != manifest.Entries || file.FirstSeq != manifest.FirstSeq || file.LastSeq != manifest.LastSeq || file.LastRowHash != manifest.LastRowHash)
            {
                problems.Add($"{file.Name} holds {file.Rows:N0} entries (seq {file.FirstSeq}..{file.LastSeq}); the archive says {manifest.Entries:N0} (seq {manifest.FirstSeq}..{manifest.LastSeq}).");
            }
        }

        if (!manifest.Files.Any(f => f.Name == ArchiveManifest.EntriesJson))
        {
            problems.Add($"The manifest lists no {ArchiveManifest.EntriesJson}: it is not a complete archive.");
            return new ArchiveVerification(manifest, problems, checkedRows, []);
        }

        var ranges = await RangesAsync(Path.Combine(folder, ArchiveManifest.EntriesJson), manifest.RunId, cancellationToken);
        var digest = RemovedRangeDigest.Of(ranges);
        if (digest.Ranges != manifest.Ranges || digest.Sha256() != manifest.RangesSha256)
        {
            problems.Add($"The entries make {digest.Ranges:N0} removed range(s) with digest {digest.Sha256()}; the manifest records {manifest.Ranges:N0} with {manifest.RangesSha256}.");
        }

        return new ArchiveVerification(manifest, problems, checkedRows, ranges);
    }

    /// <summary>The runs of consecutive seqs in an archive's entries, each with its last row hash (what the store records as removed ranges).</summary>
    public static async Task<IReadOnlyList<RemovedRange>> RangesAsync(string entriesJson, string runId, CancellationToken cancellationToken = default)
    {
        var seqs = new List<(long, string)>();
        await foreach (var line in File.ReadLinesAsync(entriesJson, cancellationToken))
        {
            using var doc = JsonDocument.Parse(line);
            seqs.Add((doc.RootElement.GetProperty("seq").GetInt64(), doc.RootElement.GetProperty("row_hash").GetString() ?? ""));
        }

        return RemovedRange.RunsOf(seqs, runId).ToList();
    }

    public static async Task<IReadOnlyList<ArchivedSnapshot>> SnapshotsAsync(string snapshotsJson, CancellationToken cancellationToken = default)
    {
        var snapshots = new List<ArchivedSnapshot>();
        await foreach (var line in File.ReadLinesAsync(snapshotsJson, cancellationToken))
        {
            using var doc = JsonDocument.Parse(line);
            var root = doc.RootElement;
            snapshots.Add(new ArchivedSnapshot(root.GetProperty("table").GetString()!, root.GetProperty("record_key").GetString()!,
                root.GetProperty("at_seq").GetInt64(), root.GetProperty("values").GetString()!));
        }

        return snapshots;
    }

    /// <summary>
    /// The live chain and its archives together (`verify --archives ROOT`), read-only: every retention anchor in the chain
    /// has its archive under <paramref name="root"/>; each archive verifies alone; its manifest is the one the anchor
    /// hashed; and at each place an archived run begins, its first entry links to what the live store has just before
    /// it (a live entry's row hash, a removed range's last row hash, or the genesis). With the chain's own verification
    /// (which proves every missing seq is a recorded range matching its anchor's digest), nothing is lost between
    /// archive and live.
    /// </summary>
    public static async Task<(IReadOnlyList<string> Problems, string Summary)> WithChainAsync(DbContext db, string root, CheckpointPublicKey key, CancellationToken cancellationToken = default)
    {
        var problems = new List<string>();
        var anchors = await db.Set<AuditEntry>().AsNoTracking().Where(e => e.EventName == AuditEventNames.RetentionPurged).OrderBy(e => e.Seq)
            .Select(e => new { e.Seq, e.Metadata }).ToListAsync(cancellationToken);
        long entries = 0, boundaries = 0;
        foreach (var anchor in anchors)
        {
            var details = EventSummary.Metadata(anchor.Metadata);
            if (details.GetValueOrDefault(Core.Chain.AnchorFields.RunId) is not { } runId)
            {
                continue;
            }

            var folder = Path.Combine(root, "purge-" + runId);
            var archive = await VerifyAsync(folder, key, cancellationToken);
            if (archive.Manifest is null)
            {
                problems.Add($"The anchor at seq {anchor.Seq} (run {runId}) has no archive at {folder}: {archive.Problems[0]}");
                continue;
            }

            problems.AddRange(archive.Problems.Select(p => $"Archive of run {runId}: {p}"));
            if (archive.Manifest.Hash() != details.GetValueOrDefault(Core.Chain.AnchorFields.ManifestSha256))
            {
                problems.Add($"The archive at {folder} is not the one the anchor at seq {anchor.Seq} recorded: its manifest hashes to {archive.Manifest.Hash()}, the anchor says {details.GetValueOrDefault(Core.Chain.AnchorFields.ManifestSha256)}.");
                continue;
            }

            entries += archive.Manifest.Entries;

            // Entries still live inside the run's ranges (kept by a hold placed during the purge) must be the archived ones.
            var ranges = db.Set<Retention.AuditRemovedRangeRow>().AsNoTracking().Where(r => r.RunId == runId);
            var kept = await db.Set<AuditEntry>().AsNoTracking().Where(e => ranges.Any(r => r.FirstSeq <= e.Seq && r.ThroughSeq >= e.Seq))
                .Select(e => new { e.Seq, e.RowHash }).ToDictionaryAsync(e => e.Seq, e => e.RowHash, cancellationToken);
            if (kept.Count > 0)
            {
                await foreach (var line in File.ReadLinesAsync(Path.Combine(folder, ArchiveManifest.EntriesJson), cancellationToken))
                {
                    using var doc = JsonDocument.Parse(line);
                    var seq = doc.RootElement.GetProperty("seq").GetInt64();
                    if (kept.Remove(seq, out var live) && live != doc.RootElement.GetProperty("row_hash").GetString())
                    {
                        problems.Add($"Entry {seq}, kept live inside a range run {runId} removed, is not the entry its archive holds: it was altered after the purge.");
                    }
                }
            }

            foreach (var (seq, previous) in await RunStartsAsync(Path.Combine(folder, ArchiveManifest.EntriesJson), cancellationToken))
            {
                boundaries++;
                var before = seq - 1;
                var live = await db.Set<AuditEntry>().AsNoTracking().Where(e => e.Seq == before).Select(e => e.RowHash).FirstOrDefaultAsync(cancellationToken)
                    ?? await db.Set<Retention.AuditRemovedRangeRow>().AsNoTracking().Where(r => r.ThroughSeq == before).Select(r => r.LastRowHash).FirstOrDefaultAsync(cancellationToken)
                    ?? (before == 0 ? HashChain.GenesisHash : null);
                if (live != previous)
                {
                    problems.Add($"Archived entry {seq} (run {runId}) links to row hash {previous}, but the store has {(live is null ? $"no record of entry {before}" : live)} before it: archive and chain do not join there.");
                }
            }
        }

        var summary = $"Archives: {anchors.Count} anchor(s) in the chain, {entries:N0} archived entries under {root}, each archive verified alone and joined to the live chain at {boundaries:N0} place(s).";
        return (problems, summary);
    }

    /// <summary>Where each run of consecutive seqs in an archive begins, with the previous row hash its first entry names.</summary>
    private static async Task<List<(long Seq, string? Previous)>> RunStartsAsync(string entriesJson, CancellationToken cancellationToken)
    {
        var starts = new List<(long, string?)>();
        long last = -1;
        await foreach (var line in File.ReadLinesAsync(entriesJson, cancellationToken))
        {
            using var doc = JsonDocument.Parse(line);
            var seq = doc.RootElement.GetProperty("seq").GetInt64();
            if (seq != last + 1)
            {
                starts.Add((seq, doc.RootElement.TryGetProperty("previous_row_hash", out var p) ? p.GetString() : null));
            }

            last = seq;
        }

        return starts;
    }
}
