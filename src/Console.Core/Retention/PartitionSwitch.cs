using ComplianceConsole.Core.Chain;

namespace ComplianceConsole.Core.Retention;

/// <summary>One partition of a store partitioned on seq (SQL Server): its number, its lowest and highest seq, its rows.</summary>
public sealed record SeqPartition(int Number, long FirstSeq, long LastSeq, long Rows);

/// <summary>
/// Which partitions a retention purge may switch out whole (a metadata operation) instead of deleting in batches: every
/// seq from the partition's first row to its last lies inside the removed ranges, none of them is kept by a legal hold,
/// and the run's retention anchor follows the last. The archive-then-delete order still holds: ranges and anchor are
/// written only after the archive was verified, and a partition holding anything else is left to the batched delete.
/// </summary>
public static class PartitionSwitch
{
    public static IReadOnlyList<SeqPartition> Switchable(IEnumerable<SeqPartition> partitions, IReadOnlyList<RemovedRange> ranges, IReadOnlyCollection<long> kept, long anchorSeq)
    {
        var ordered = ranges.OrderBy(r => r.FirstSeq).ToList();
        return partitions
            .Where(p => p.Rows > 0 && p.LastSeq < anchorSeq && Covered(ordered, p.FirstSeq, p.LastSeq) && !kept.Any(k => k >= p.FirstSeq && k <= p.LastSeq))
            .OrderBy(p => p.Number)
            .ToList();
    }

    /// <summary>Whether every seq from <paramref name="first"/> to <paramref name="last"/> is inside one of the ranges (adjacent ranges join).</summary>
    private static bool Covered(List<RemovedRange> ordered, long first, long last)
    {
        var next = first;
        foreach (var range in ordered)
        {
            if (range.FirstSeq > next)
            {
                return false; // a seq before this range that no range covers
            }

            if (range.ThroughSeq >= next)
            {
                next = range.ThroughSeq + 1;
                if (next > last)
                {
                    return true;
                }
            }
        }

        return false;
    }
}
