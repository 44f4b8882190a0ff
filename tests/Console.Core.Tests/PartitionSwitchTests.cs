using ComplianceConsole.Core.Chain;
using ComplianceConsole.Core.Retention;

namespace ComplianceConsole.Core.Tests;

public sealed class PartitionSwitchTests
{
    private static RemovedRange Range(long first, long through) => new(first, through, new string('a', 64), "run");

    [Fact]
    public void Only_partitions_wholly_inside_removed_ranges_with_nothing_held_and_the_anchor_after_are_switched()
    {
        var partitions = new[]
        {
            new SeqPartition(1, 1, 999, 999),       // inside [1, 1999] (two adjacent runs' ranges)
            new SeqPartition(2, 1000, 1999, 1000),  // inside too, but a hold keeps seq 1500
            new SeqPartition(3, 2000, 2999, 1000),  // only half removed
            new SeqPartition(4, 3000, 3999, 0),     // empty: nothing to switch
            new SeqPartition(5, 4000, 4999, 1000),  // removed, but the anchor is inside it, not after
        };
        var ranges = new[] { Range(1, 1200), Range(1201, 1999), Range(2000, 2499), Range(4000, 4999) };

        var switchable = PartitionSwitch.Switchable(partitions, ranges, kept: [1500], anchorSeq: 4500);

        Assert.Equal([1], switchable.Select(p => p.Number));
    }

    [Fact]
    public void A_gap_between_ranges_keeps_the_partition()
    {
        var partition = new SeqPartition(1, 1, 100, 99);
        Assert.Empty(PartitionSwitch.Switchable([partition], [Range(1, 49), Range(51, 100)], [], anchorSeq: 200)); // seq 50 is not removed
        Assert.Single(PartitionSwitch.Switchable([partition], [Range(51, 100), Range(1, 50)], [], anchorSeq: 200)); // order does not matter
    }
}
