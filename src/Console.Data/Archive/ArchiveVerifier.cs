using System.Security.Cryptography;
using System.Text.Json;
using ComplianceConsole.Core.Chain;
using ComplianceConsole.Core.Export;
using ComplianceConsole.Core.Retention;

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
}
