using System.Globalization;
using System.Security.Cryptography;
using System.Text;

namespace ComplianceConsole.Core.Chain;

/// <summary>
/// A run of consecutive entries that a retention purge removed from the chain (or is removing): seq
/// <see cref="FirstSeq"/> to <see cref="ThroughSeq"/>, with the row hash of the last one, which the entry after the run
/// links to. Written in the transaction of the purge's anchor (<c>retention.purged</c>, which names <see cref="RunId"/>
/// and the digest of its ranges), before anything is deleted; the store refuses to change or remove it. So the live chain
/// still proves itself across the hole, and the archive of the run holds the entries themselves.
/// </summary>
public sealed record RemovedRange(long FirstSeq, long ThroughSeq, string LastRowHash, string RunId)
{
    public long Entries => ThroughSeq - FirstSeq + 1;

    /// <summary>The line the digest of a run's ranges hashes: <c>first-through:lastRowHash\n</c>.</summary>
    public string Line() => string.Create(CultureInfo.InvariantCulture, $"{FirstSeq}-{ThroughSeq}:{LastRowHash}\n");

    /// <summary>The runs of consecutive seqs in <paramref name="entriesInSeqOrder"/>, each with the row hash of its last entry.</summary>
    public static IEnumerable<RemovedRange> RunsOf(IEnumerable<(long Seq, string RowHash)> entriesInSeqOrder, string runId)
    {
        long first = 0, last = 0;
        string? hash = null;
        foreach (var (seq, rowHash) in entriesInSeqOrder)
        {
            if (hash is not null && seq != last + 1)
            {
                yield return new RemovedRange(first, last, hash, runId);
                hash = null;
            }

            if (hash is null)
            {
                first = seq;
            }

            (last, hash) = (seq, rowHash);
        }

        if (hash is not null)
        {
            yield return new RemovedRange(first, last, hash, runId);
        }
    }
}

/// <summary>The SHA-256 of a run's removed ranges, in seq order (<see cref="RemovedRange.Line"/>), with their counts: what the anchor records.</summary>
public sealed class RemovedRangeDigest
{
    private readonly IncrementalHash _hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);

    public long Ranges { get; private set; }

    public long Entries { get; private set; }

    public void Add(RemovedRange range)
    {
        _hash.AppendData(Encoding.ASCII.GetBytes(range.Line()));
        Ranges++;
        Entries += range.Entries;
    }

    public string Sha256() => Convert.ToHexStringLower(_hash.GetCurrentHash());

    public static RemovedRangeDigest Of(IEnumerable<RemovedRange> ranges)
    {
        var digest = new RemovedRangeDigest();
        foreach (var range in ranges)
        {
            digest.Add(range);
        }

        return digest;
    }
}
