using ComplianceConsole.Core.Auditing;

namespace ComplianceConsole.Core.Chain;

/// <summary>Where verification starts: the genesis, or the anchor a retention purge left behind.</summary>
public sealed record ChainStart(long FirstSeq, string PreviousRowHash)
{
    public static readonly ChainStart Genesis = new(1, HashChain.GenesisHash);
}

public sealed record ChainVerificationResult(
    bool IsValid,
    long EntriesChecked,
    long? FirstBrokenSeq,
    string? Problem,
    long LastSeq,
    string LastRowHash,
    long EntriesRemoved = 0,
    long RangesRemoved = 0)
{
    public string Describe() => IsValid
        ? $"OK: {EntriesChecked} entries verified, chain intact up to seq {LastSeq}." + Removed()
        : $"BROKEN at seq {FirstBrokenSeq}: {Problem} ({EntriesChecked} entries before it verified).";

    private string Removed() => EntriesRemoved == 0 ? "" :
        $" {EntriesRemoved} entries in {RangesRemoved} range(s) were removed by retention; each range is recorded with the row hash the chain links through, and proven by its anchor.";
}

/// <summary>What a retention anchor (<c>retention.purged</c>) records about its removed ranges (metadata keys).</summary>
public static class AnchorFields
{
    public const string RunId = "runId";
    public const string Ranges = "ranges";
    public const string RangesSha256 = "rangesSha256";
    public const string Entries = "entries";
    public const string ManifestSha256 = "manifestSha256";
    public const string Archive = "archive";
}

/// <summary>
/// Recomputes the chain entry by entry, in seq order, and names the first sequence number where it breaks:
/// an edited value (payload hash), a deleted row (gap), an inserted or reordered row (row hash or seq).
/// Streaming: it holds one entry at a time, so it can check a store of any size.
///
/// A chain with holes: the entries a retention purge removed are missing, and the store keeps a
/// <see cref="RemovedRange"/> for each run of them. A missing entry is accepted only inside such a range; the entry
/// after a range links to the range's last row hash; an entry still inside a range (kept by a legal hold placed during
/// the purge, or not yet deleted) is checked against its payload hash, and against the range's last row hash when it is
/// the last. The ranges of each run must hash to the digest its anchor recorded, so no range can be added, edited or
/// dropped without breaking the chain at the anchor.
/// </summary>
public sealed class HashChainVerifier
{
    /// <summary>Entries per <see cref="AddBatch"/> call in <see cref="VerifyParallel"/>: enough to keep every core busy between calls.</summary>
    public const int DefaultBatchSize = 4096;

    private readonly IEnumerator<RemovedRange>? _ranges;
    private readonly Dictionary<string, RemovedRangeDigest> _runs = new(StringComparer.Ordinal);
    private RemovedRange? _range;
    private (long Seq, string Problem)? _rangeProblem;
    private readonly Dictionary<string, long> _runFirstSeq = new(StringComparer.Ordinal);
    private long _lastRangeThrough;
    private long _expectedSeq;
    private string _previousRowHash;
    private long _checked;
    private long _removed;
    private long _rangesRemoved;
    private ChainVerificationResult? _failure;

    /// <param name="removed">The store's removed ranges, in seq order.</param>
    public HashChainVerifier(ChainStart? start = null, IEnumerable<RemovedRange>? removed = null)
    {
        var s = start ?? ChainStart.Genesis;
        _expectedSeq = s.FirstSeq;
        _previousRowHash = s.PreviousRowHash;
        _ranges = removed?.GetEnumerator();
        NextRange();
    }

    /// <summary>
    /// Told, in seq order, of every live entry (seq, seq, its row hash) and every removed stretch (first, through, the row
    /// hash of its last entry, or null when that entry's hash is not known here: removed entries before an entry kept
    /// inside a range): what a checkpoint verifier needs to count entries and compare row hashes.
    /// </summary>
    public Action<long, long, string?>? Observer { get; init; }

    /// <summary>The last seq told to <see cref="Observer"/>: after a break, the caller tells it of the entries after this one.</summary>
    public long ObservedThrough { get; private set; }

    /// <summary>Checks the next entry; returns false once the chain is broken (later entries are not checked).</summary>
    public bool Add(AuditEntry entry) => AddBatch([entry]);

    /// <summary>
    /// Checks the next entries, spread over every core, with exactly the result of checking each in turn. How each entry
    /// links (to the entry before it, to a removed range, or not at all inside a range) is worked out first, in order;
    /// then the hashes, which are most of the work, are checked on every core, and only the first failure counts.
    /// </summary>
    public bool AddBatch(IReadOnlyList<AuditEntry> batch)
    {
        if (_failure is not null)
        {
            return false;
        }

        var links = new Link[batch.Count];
        var before = (_expectedSeq, _previousRowHash);
        var structural = batch.Count;
        for (var i = 0; i < batch.Count; i++)
        {
            links[i] = LinkOf(batch[i]);
            if (links[i].Problem is not null)
            {
                structural = i;
                break;
            }
        }

        // Small slices, taken by whichever core is free, so that no core idles long at the end of a batch.
        var slices = Math.Max(1, structural / 64);
        var firstFailure = new (int Index, string Problem)?[slices];
        Parallel.For(0, slices, slice =>
        {
            for (int i = structural * slice / slices, end = structural * (slice + 1) / slices; i < end; i++)
            {
                if (Check(batch[i], links[i]) is { } problem)
                {
                    firstFailure[slice] = (i, problem);
                    return;
                }
            }
        });

        var failure = firstFailure.FirstOrDefault(f => f is not null);
        if (failure is null && structural < batch.Count)
        {
            failure = (structural, links[structural].Problem!);
        }

        if (failure is not { } f)
        {
            _checked += batch.Count;
            return true;
        }

        // The state as it was after the last entry that passed.
        _checked += f.Index;
        (_expectedSeq, _previousRowHash) = f.Index == 0 ? before : (batch[f.Index - 1].Seq + 1, batch[f.Index - 1].RowHash);
        return Fail(links[f.Index].BrokenSeq ?? batch[f.Index].Seq, f.Problem);
    }

    public ChainVerificationResult Result()
    {
        if (_failure is not null)
        {
            return _failure;
        }

        if (_rangeProblem is { } bad)
        {
            Fail(bad.Seq, bad.Problem);
            return _failure!;
        }

        if (_range is not null)
        {
            Fail(_range.FirstSeq, $"a removed range {_range.FirstSeq}..{_range.ThroughSeq} is recorded beyond the newest entry: the entries after it are missing");
            return _failure!;
        }

        if (_runs.Count > 0)
        {
            var run = _runs.First();
            Fail(_runFirstSeq[run.Key], $"{run.Value.Ranges} removed range(s) of purge run {run.Key} have no anchor in the chain: entries were deleted without a retention purge");
            return _failure!;
        }

        return new ChainVerificationResult(true, _checked, null, null, _expectedSeq - 1, _previousRowHash, _removed, _rangesRemoved);
    }

    public static ChainVerificationResult Verify(IEnumerable<AuditEntry> entriesInSeqOrder, ChainStart? start = null, IEnumerable<RemovedRange>? removed = null)
    {
        var verifier = new HashChainVerifier(start, removed);
        foreach (var entry in entriesInSeqOrder)
        {
            if (!verifier.Add(entry))
            {
                break;
            }
        }

        return verifier.Result();
    }

    /// <summary>
    /// Checks the entries in batches of <paramref name="batchSize"/> with <see cref="AddBatch"/>: the same result as
    /// <see cref="Verify(IEnumerable{AuditEntry}, ChainStart?, IEnumerable{RemovedRange}?)"/>, on every core.
    /// </summary>
    public static ChainVerificationResult VerifyParallel(IEnumerable<AuditEntry> entriesInSeqOrder, ChainStart? start = null, int batchSize = DefaultBatchSize, IEnumerable<RemovedRange>? removed = null)
    {
        var verifier = new HashChainVerifier(start, removed);
        foreach (var batch in entriesInSeqOrder.Chunk(batchSize))
        {
            if (!verifier.AddBatch(batch))
            {
                break;
            }
        }

        return verifier.Result();
    }

    /// <summary>How an entry links: to <see cref="Previous"/> (null inside a removed range, where the entry before is gone), and to <see cref="MustBe"/> (the range's last row hash), or why it cannot be in the chain where it is.</summary>
    private readonly record struct Link(string? Previous, string? MustBe, string? Problem, long? BrokenSeq = null);

    /// <summary>The sequential part of the check: seqs, removed ranges and anchors, in order. Advances the state past the entry.</summary>
    private Link LinkOf(AuditEntry entry)
    {
        if (_rangeProblem is { } bad)
        {
            return new Link(null, null, bad.Problem, bad.Seq);
        }

        // Step over the ranges that end before this entry, linking through each.
        while (_range is { } range && range.ThroughSeq < entry.Seq && range.FirstSeq <= _expectedSeq)
        {
            if (_expectedSeq == range.ThroughSeq + 1 && _previousRowHash != range.LastRowHash)
            {
                return new Link(null, null, $"the removed range {range.FirstSeq}..{range.ThroughSeq} records a last row hash that entry {range.ThroughSeq} does not have: the range's record was altered", range.ThroughSeq);
            }

            if (_expectedSeq <= range.ThroughSeq)
            {
                Observer?.Invoke(_expectedSeq, range.ThroughSeq, range.LastRowHash);
                ObservedThrough = range.ThroughSeq;
            }

            _removed += range.ThroughSeq - _expectedSeq + 1;
            (_expectedSeq, _previousRowHash) = (range.ThroughSeq + 1, range.LastRowHash);
            _rangesRemoved++;
            NextRange();
        }

        Link link;
        if (entry.Seq == _expectedSeq)
        {
            link = new Link(_previousRowHash, _range is { } r && r.ThroughSeq == entry.Seq ? r.LastRowHash : null, null);
        }
        else if (entry.Seq > _expectedSeq && _range is { } inside && inside.FirstSeq <= _expectedSeq && entry.Seq <= inside.ThroughSeq)
        {
            // Kept inside a removed range: the entries before it are gone, so it cannot be linked, only hashed.
            Observer?.Invoke(_expectedSeq, entry.Seq - 1, null);
            _removed += entry.Seq - _expectedSeq;
            link = new Link(null, inside.ThroughSeq == entry.Seq ? inside.LastRowHash : null, null);
        }
        else
        {
            return entry.Seq > _expectedSeq
                ? new Link(null, null, $"entry {_expectedSeq} is missing (the next stored entry is {entry.Seq}) and no retention purge recorded its removal: an entry was deleted", _expectedSeq)
                : new Link(null, null, $"entry {entry.Seq} appears where {_expectedSeq} was expected: an entry was inserted or reordered", entry.Seq);
        }

        if (entry.Operation == AuditOperations.Event && entry.EventName == AuditEventNames.RetentionPurged && AnchorProblem(entry) is { } problem)
        {
            return new Link(null, null, problem, entry.Seq);
        }

        Observer?.Invoke(entry.Seq, entry.Seq, entry.RowHash);
        ObservedThrough = entry.Seq;
        (_expectedSeq, _previousRowHash) = (entry.Seq + 1, entry.RowHash);
        return link;
    }

    /// <summary>An anchor's recorded digest against the removed ranges that name its run (all of them precede it).</summary>
    private string? AnchorProblem(AuditEntry anchor)
    {
        var metadata = AnchorMetadata(anchor.Metadata);
        if (metadata.GetValueOrDefault(AnchorFields.RunId) is not { } runId)
        {
            return null; // an anchor that removed nothing by range (none are written without a run id)
        }

        // Every range before the anchor has been read (and added to its run's digest) by the time the anchor is reached.
        var digest = _runs.Remove(runId, out var d) ? d : new RemovedRangeDigest();
        var (sha, ranges) = (digest.Sha256(), digest.Ranges.ToString(System.Globalization.CultureInfo.InvariantCulture));
        if (metadata.GetValueOrDefault(AnchorFields.RangesSha256) is { } recorded && (recorded != sha || metadata.GetValueOrDefault(AnchorFields.Ranges) != ranges))
        {
            return $"the removed ranges of purge run {runId} ({ranges} in the store) do not match what its anchor recorded ({metadata.GetValueOrDefault(AnchorFields.Ranges)}): a range was added, removed or altered";
        }

        return null;
    }

    private static Dictionary<string, string?> AnchorMetadata(string? json)
    {
        if (string.IsNullOrEmpty(json))
        {
            return [];
        }

        try
        {
            return System.Text.Json.JsonSerializer.Deserialize<Dictionary<string, string?>>(json) ?? [];
        }
        catch (System.Text.Json.JsonException)
        {
            return [];
        }
    }

    private void NextRange()
    {
        _range = null;
        if (_ranges is null || !_ranges.MoveNext())
        {
            return;
        }

        var range = _ranges.Current;
        if (range.FirstSeq <= _lastRangeThrough || range.ThroughSeq < range.FirstSeq)
        {
            _rangeProblem ??= (range.FirstSeq, $"the removed range {range.FirstSeq}..{range.ThroughSeq} overlaps the one before it or is empty: the ranges were altered");
        }

        _lastRangeThrough = range.ThroughSeq;
        if (!_runs.TryGetValue(range.RunId, out var digest))
        {
            _runs[range.RunId] = digest = new RemovedRangeDigest();
            _runFirstSeq[range.RunId] = range.FirstSeq;
        }

        digest.Add(range);
        _range = range;
    }

    /// <summary>Why <paramref name="entry"/> breaks the chain, or null when its hashes are what <paramref name="link"/> expects.</summary>
    private static string? Check(AuditEntry entry, Link link)
    {
        if (entry.Version != AuditEntryFormat.CurrentVersion)
        {
            return $"unknown entry format version {entry.Version}";
        }

        Span<byte> payload = stackalloc byte[32];
        HashChain.PayloadHash(entry, payload);
        if (!HashChain.HexEquals(payload, entry.PayloadHash))
        {
            return "its content does not match its payload hash: a value was edited";
        }

        if (link.MustBe is not null && link.MustBe != entry.RowHash)
        {
            return "its row hash is not the one its removed range records: the entry or the range was altered";
        }

        if (link.Previous is null)
        {
            return null;
        }

        Span<byte> previous = stackalloc byte[32];
        Span<byte> row = stackalloc byte[32];
        bool linked;
        if (HashChain.TryParseHash(link.Previous, previous))
        {
            HashChain.RowHash(entry.Version, entry.Seq, payload, previous, row);
            linked = HashChain.HexEquals(row, entry.RowHash);
        }
        else
        {
            linked = entry.RowHash is ""; // what HashChain.RowHash gives for a previous row hash that is not hex
        }

        return linked ? null : "its row hash does not link to the previous entry: an entry was inserted, swapped or re-hashed";
    }

    private bool Fail(long seq, string problem)
    {
        _failure = new ChainVerificationResult(false, _checked, seq, problem, _expectedSeq - 1, _previousRowHash);
        return false;
    }
}
