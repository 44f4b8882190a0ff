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

        if (entry.Seq != _expectedSeq)
        {
            return Fail(Math.Min(entry.Seq, _expectedSeq), entry.Seq > _expectedSeq
                ? $"entry {_expectedSeq} is missing (the next stored entry is {entry.Seq}): an entry was deleted"
                : $"entry {entry.Seq} appears where {_expectedSeq} was expected: an entry was inserted or reordered");
        }

        if (entry.Version != AuditEntryFormat.CurrentVersion)
        {
            return Fail(entry.Seq, $"unknown entry format version {entry.Version}");
        }

        var payload = HashChain.PayloadHash(entry);
        if (!string.Equals(payload, entry.PayloadHash, StringComparison.Ordinal))
        {
            return Fail(entry.Seq, "its content does not match its payload hash: a value was edited");
        }

        var row = HashChain.RowHash(entry.Version, entry.Seq, payload, _previousRowHash);
        if (!string.Equals(row, entry.RowHash, StringComparison.Ordinal))
        {
            return Fail(entry.Seq, "its row hash does not link to the previous entry: an entry was inserted, swapped or re-hashed");
        }

        _previousRowHash = row;
        _expectedSeq++;
        _checked++;
        return true;
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

    private bool Fail(long seq, string problem)
    {
        _failure = new ChainVerificationResult(false, _checked, seq, problem, _expectedSeq - 1, _previousRowHash);
        return false;
    }
}
