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
    string LastRowHash)
{
    public string Describe() => IsValid
        ? $"OK: {EntriesChecked} entries verified, chain intact up to seq {LastSeq}."
        : $"BROKEN at seq {FirstBrokenSeq}: {Problem} ({EntriesChecked} entries before it verified).";
}

/// <summary>
/// Recomputes the chain entry by entry, in seq order, and names the first sequence number where it breaks:
/// an edited value (payload hash), a deleted row (gap), an inserted or reordered row (row hash or seq).
/// Streaming: it holds one entry at a time, so it can check a store of any size.
/// </summary>
public sealed class HashChainVerifier
{
    /// <summary>Entries per <see cref="AddBatch"/> call in <see cref="VerifyParallel"/>: enough to keep every core busy between calls.</summary>
    public const int DefaultBatchSize = 4096;

    private long _expectedSeq;
    private string _previousRowHash;
    private long _checked;
    private ChainVerificationResult? _failure;

    public HashChainVerifier(ChainStart? start = null)
    {
        var s = start ?? ChainStart.Genesis;
        _expectedSeq = s.FirstSeq;
        _previousRowHash = s.PreviousRowHash;
    }

    /// <summary>Checks the next entry; returns false once the chain is broken (later entries are not checked).</summary>
    public bool Add(AuditEntry entry)
    {
        if (_failure is not null)
        {
            return false;
        }

        if (Check(entry, _expectedSeq, _previousRowHash) is { } broken)
        {
            return Fail(broken.Seq, broken.Problem);
        }

        _previousRowHash = entry.RowHash;
        _expectedSeq++;
        _checked++;
        return true;
    }

    /// <summary>
    /// Checks the next entries, spread over every core, with exactly the result of calling <see cref="Add(AuditEntry)"/>
    /// for each. Entry i links to the stored row hash of entry i-1, which equals the recomputed one whenever entry i-1
    /// passed, and only the first failure counts; so every entry can be checked on its own.
    /// </summary>
    public bool AddBatch(IReadOnlyList<AuditEntry> batch)
    {
        if (_failure is not null)
        {
            return false;
        }

        // Small slices, taken by whichever core is free, so that no core idles long at the end of a batch.
        var slices = Math.Max(1, batch.Count / 64);
        var firstFailure = new (int Index, long Seq, string Problem)?[slices];
        var (expectedSeq, previousRowHash) = (_expectedSeq, _previousRowHash);
        Parallel.For(0, slices, slice =>
        {
            for (int i = batch.Count * slice / slices, end = batch.Count * (slice + 1) / slices; i < end; i++)
            {
                if (Check(batch[i], expectedSeq + i, i == 0 ? previousRowHash : batch[i - 1].RowHash) is { } broken)
                {
                    firstFailure[slice] = (i, broken.Seq, broken.Problem);
                    return;
                }
            }
        });

        var failure = firstFailure.FirstOrDefault(f => f is not null);
        var passed = failure?.Index ?? batch.Count;
        if (passed > 0)
        {
            _previousRowHash = batch[passed - 1].RowHash;
            _expectedSeq += passed;
            _checked += passed;
        }

        return failure is not { } f || Fail(f.Seq, f.Problem);
    }

    public ChainVerificationResult Result() =>
        _failure ?? new ChainVerificationResult(true, _checked, null, null, _expectedSeq - 1, _previousRowHash);

    public static ChainVerificationResult Verify(IEnumerable<AuditEntry> entriesInSeqOrder, ChainStart? start = null)
    {
        var verifier = new HashChainVerifier(start);
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
    /// <see cref="Verify(IEnumerable{AuditEntry}, ChainStart?)"/>, on every core.
    /// </summary>
    public static ChainVerificationResult VerifyParallel(IEnumerable<AuditEntry> entriesInSeqOrder, ChainStart? start = null, int batchSize = DefaultBatchSize)
    {
        var verifier = new HashChainVerifier(start);
        foreach (var batch in entriesInSeqOrder.Chunk(batchSize))
        {
            if (!verifier.AddBatch(batch))
            {
                break;
            }
        }

        return verifier.Result();
    }

    /// <summary>Why <paramref name="entry"/> breaks the chain, or null when it is the entry expected after <paramref name="previousRowHash"/>.</summary>
    private static (long Seq, string Problem)? Check(AuditEntry entry, long expectedSeq, string previousRowHash)
    {
        if (entry.Seq != expectedSeq)
        {
            return (Math.Min(entry.Seq, expectedSeq), entry.Seq > expectedSeq
                ? $"entry {expectedSeq} is missing (the next stored entry is {entry.Seq}): an entry was deleted"
                : $"entry {entry.Seq} appears where {expectedSeq} was expected: an entry was inserted or reordered");
        }

        if (entry.Version != AuditEntryFormat.CurrentVersion)
        {
            return (entry.Seq, $"unknown entry format version {entry.Version}");
        }

        Span<byte> payload = stackalloc byte[32];
        HashChain.PayloadHash(entry, payload);
        if (!HashChain.HexEquals(payload, entry.PayloadHash))
        {
            return (entry.Seq, "its content does not match its payload hash: a value was edited");
        }

        Span<byte> previous = stackalloc byte[32];
        Span<byte> row = stackalloc byte[32];
        bool linked;
        if (HashChain.TryParseHash(previousRowHash, previous))
        {
            HashChain.RowHash(entry.Version, entry.Seq, payload, previous, row);
            linked = HashChain.HexEquals(row, entry.RowHash);
        }
        else
        {
            linked = entry.RowHash is ""; // what HashChain.RowHash gives for a previous row hash that is not hex
        }

        return linked ? null : (entry.Seq, "its row hash does not link to the previous entry: an entry was inserted, swapped or re-hashed");
    }

    private bool Fail(long seq, string problem)
    {
        _failure = new ChainVerificationResult(false, _checked, seq, problem, _expectedSeq - 1, _previousRowHash);
        return false;
    }
}
