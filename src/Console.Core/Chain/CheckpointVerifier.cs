using System.Globalization;

namespace ComplianceConsole.Core.Chain;

public enum CheckpointProblemKind
{
    /// <summary>A line that is not a checkpoint.</summary>
    Unreadable,

    /// <summary>A checkpoint whose signature is not the console key's: edited or forged.</summary>
    BadSignature,

    /// <summary>A checkpoint that does not link to the one before it: a checkpoint was removed or reordered.</summary>
    BrokenLink,

    /// <summary>The chain ends below a checkpoint: its newest entries were removed.</summary>
    Truncated,

    /// <summary>The chain's row hash at a checkpoint's seq is not the signed one: the chain was recomputed from some seq.</summary>
    Rewritten,

    /// <summary>The chain holds another number of entries up to a checkpoint's seq than the checkpoint signed.</summary>
    CountMismatch,
}

/// <summary>One problem, in a line an auditor can act on. <see cref="FirstAffectedSeq"/> is the first entry that may be missing or altered.</summary>
public sealed record CheckpointProblem(CheckpointProblemKind Kind, CheckpointSource Source, long? FirstAffectedSeq, string Message);

/// <summary>What the checkpoints prove about the chain, and every problem found.</summary>
/// <param name="CheckpointsRead">Checkpoints read, whatever their state.</param>
/// <param name="Problems">Every problem, in the order found.</param>
/// <param name="NewestProven">
/// The newest checkpoint the chain matches, below any break the chain verifier found: the chain is complete and
/// unaltered from its first entry up to its seq. Null when no checkpoint proves anything.
/// </param>
public sealed record CheckpointVerification(int CheckpointsRead, IReadOnlyList<CheckpointProblem> Problems, StoredCheckpoint? NewestProven)
{
    public bool IsValid => Problems.Count == 0;

    /// <summary>One line on what is proven, then one line per problem.</summary>
    public string Describe()
    {
        var proven = NewestProven is { } p
            ? $"Checkpoints: the chain is complete and unaltered up to seq {p.Checkpoint.Seq}, signed at {CheckpointVerifier.Time(p.Checkpoint)} ({p.Source})."
            : CheckpointsRead == 0
                ? "Checkpoints: none signed yet, so nothing proves that the newest entries are all there."
                : "Checkpoints: no signed checkpoint matches the chain.";
        return string.Join(Environment.NewLine, Problems.Select(problem => "  " + problem.Message).Prepend(
            IsValid ? proven : $"{proven} {Problems.Count} problem(s):"));
    }
}

/// <summary>
/// Checks the chain against its signed checkpoints. The constructor checks every signature and the links between
/// checkpoints in the order written; then <see cref="Observe"/> takes each stored entry's seq and row hash in seq order,
/// as the chain is streamed, and <see cref="Complete"/> reports truncation. Only the checkpoints are held in memory.
/// Row hashes prove the entries only where the chain verifies, so run <see cref="HashChainVerifier"/> over the same stream.
/// </summary>
public sealed class CheckpointVerifier
{
    private readonly int _checkpointsRead;
    private readonly List<CheckpointProblem> _problems = [];
    private readonly List<StoredCheckpoint> _signedBySeq;
    private readonly List<StoredCheckpoint> _matched = [];
    private int _next;
    private long? _firstSeq;
    private long _lastSeq;
    private long _count;

    public CheckpointVerifier(CheckpointReadResult read, CheckpointPublicKey publicKey)
    {
        _checkpointsRead = read.Checkpoints.Count + read.Unreadable.Count;
        _problems.AddRange(read.Unreadable.Select(u =>
            new CheckpointProblem(CheckpointProblemKind.Unreadable, u.Source, null, $"{u.Source} cannot be read: {u.Reason}")));

        var signed = new List<StoredCheckpoint>();
        StoredCheckpoint? before = null;
        foreach (var stored in read.Checkpoints)
        {
            var (checkpoint, source) = (stored.Checkpoint, stored.Source);
            if (before is null ? checkpoint.PreviousSignature is not null : checkpoint.PreviousSignature != before.Checkpoint.Signature)
            {
                Problem(CheckpointProblemKind.BrokenLink, source, null, before is null
                    ? $"checkpoint at {source} (seq {checkpoint.Seq}) links to a checkpoint that is not in the file: the checkpoints before it were removed"
                    : $"checkpoint at {source} (seq {checkpoint.Seq}) does not link to the line before it: a checkpoint was removed or reordered");
            }

            if (checkpoint.KeyId != publicKey.KeyId)
            {
                Problem(CheckpointProblemKind.BadSignature, source, null,
                    $"checkpoint at {source} (seq {checkpoint.Seq}) names key {checkpoint.KeyId}, not the key {publicKey.KeyId} given to verify with: it was forged, or the wrong public key was given");
            }
            else if (!publicKey.Verifies(checkpoint))
            {
                Problem(CheckpointProblemKind.BadSignature, source, null,
                    $"checkpoint at {source} (seq {checkpoint.Seq}) has an invalid signature: it was edited or forged");
            }
            else
            {
                signed.Add(stored);
            }

            before = stored;
        }

        _signedBySeq = [.. signed.OrderBy(s => s.Checkpoint.Seq)];
    }

    /// <summary>Takes the next stored entry, in seq order. Call it for every entry, also after the chain verifier found a break.</summary>
    public void Observe(long seq, string rowHash) => Observe(seq, seq, rowHash);

    /// <summary>
    /// Call for each live entry (<paramref name="firstSeq"/> = <paramref name="throughSeq"/>) and each range a retention
    /// purge removed (<paramref name="rowHash"/> is its last entry's, null when not known), in seq order. A checkpoint inside a removed range,
    /// before its last entry, cannot be compared with the live store; the range's archive holds the entry it signed.
    /// </summary>
    public void Observe(long firstSeq, long throughSeq, string? rowHash)
    {
        _firstSeq ??= firstSeq;
        _count += throughSeq - firstSeq + 1;
        for (; _next < _signedBySeq.Count && _signedBySeq[_next].Checkpoint.Seq <= throughSeq; _next++)
        {
            if (_signedBySeq[_next].Checkpoint.Seq < firstSeq || _signedBySeq[_next].Checkpoint.Seq == throughSeq && rowHash is not null)
            {
                Compare(_signedBySeq[_next], throughSeq, rowHash ?? "");
            }
        }

        _lastSeq = throughSeq;
    }

    public CheckpointVerification Complete(ChainVerificationResult chain)
    {
        if (_next < _signedBySeq.Count)
        {
            var (newest, first) = (_signedBySeq[^1], _lastSeq + 1);
            Problem(CheckpointProblemKind.Truncated, newest.Source, first,
                $"entries {first}..{newest.Checkpoint.Seq} are missing: truncated below checkpoint {newest.Source} (seq {newest.Checkpoint.Seq}, signed {Time(newest.Checkpoint)})");
        }

        var proven = _matched.LastOrDefault(m => chain.IsValid || m.Checkpoint.Seq < chain.FirstBrokenSeq);
        return new CheckpointVerification(_checkpointsRead, _problems, proven);
    }

    internal static string Time(Checkpoint checkpoint) => checkpoint.SignedAtUtc.ToString("yyyy-MM-dd HH:mm:ss'Z'", CultureInfo.InvariantCulture);

    /// <summary>Compares a checkpoint with the entry observed at its seq, or just after it when the store has no entry at its seq.</summary>
    private void Compare(StoredCheckpoint stored, long seq, string rowHash)
    {
        var (checkpoint, source) = (stored.Checkpoint, stored.Source);
        var lastMatch = _matched.LastOrDefault(m => m.Checkpoint.Seq < checkpoint.Seq);
        var from = lastMatch is null ? Math.Min(_firstSeq!.Value, checkpoint.Seq) : lastMatch.Checkpoint.Seq + 1;
        if (seq != checkpoint.Seq || rowHash != checkpoint.RowHash)
        {
            var stores = seq == checkpoint.Seq ? $"the store has {Short(rowHash)}" : $"the store has no entry {checkpoint.Seq}";
            Problem(CheckpointProblemKind.Rewritten, source, from,
                $"entries in seq {from}..{checkpoint.Seq} were rewritten: checkpoint {source} signed seq {checkpoint.Seq} with row hash {Short(checkpoint.RowHash)}, {stores}; "
                + (lastMatch is null ? "no earlier checkpoint matches" : $"the last checkpoint that matches is seq {lastMatch.Checkpoint.Seq}"));
        }
        else if (_count != checkpoint.EntryCount)
        {
            Problem(CheckpointProblemKind.CountMismatch, source, from,
                $"checkpoint {source} signed {checkpoint.EntryCount} entries up to seq {checkpoint.Seq}, the store has {_count}: entries were removed or added before it");
        }
        else
        {
            _matched.Add(stored);
        }
    }

    private static string Short(string hash) => hash.Length > 12 ? hash[..12] + "…" : hash;

    private void Problem(CheckpointProblemKind kind, CheckpointSource source, long? firstAffectedSeq, string message) =>
        _problems.Add(new CheckpointProblem(kind, source, firstAffectedSeq, message));
}
