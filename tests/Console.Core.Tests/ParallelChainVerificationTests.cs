using ComplianceConsole.Core.Auditing;
using ComplianceConsole.Core.Chain;

namespace ComplianceConsole.Core.Tests;

public sealed class ParallelChainVerificationTests
{
    private const int Length = 3000; // long enough for AddBatch to split a batch across every core

    private static readonly List<AuditEntry> Valid = Chain();

    private static List<AuditEntry> Chain()
    {
        var entries = new List<AuditEntry>();
        var previous = HashChain.GenesisHash;
        for (var i = 1; i <= Length; i++)
        {
            var entry = HashChain.Seal(new AuditEntry
            {
                OccurredAtUtc = new DateTime(2026, 1, 1, 0, 0, 0, DateTimeKind.Utc).AddSeconds(i),
                Operation = AuditOperations.Update,
                TableName = "Customers",
                RecordKey = $"{{\"Id\":{i}}}",
                OldValues = "{\"Name\":\"Zoë \\\"old\\\"\"}",
                NewValues = $"{{\"Name\":\"new {i}\"}}",
                ActorId = "u1",
                Origin = "page:/customers",
            }, i, previous);
            previous = entry.RowHash;
            entries.Add(entry);
        }

        return entries;
    }

    /// <summary>Every kind of tampering HashChainTests covers, at a few places in the chain, and an untouched chain.</summary>
    public static TheoryData<string> Tamperings() =>
    [
        "none", "edited 1", "edited 1500", "edited 3000", "rehashed 257", "deleted 1024", "deleted 3000 (truncated)",
        "inserted 700", "duplicate 2048", "swapped 999", "version 2222", "edited 100 and 2900", "anchored 1001",
    ];

    private static (List<AuditEntry> Entries, ChainStart? Start) Tampered(string tampering)
    {
        var chain = Valid.ToList();
        var words = tampering.Split(' ');
        var at = words.Length > 1 ? int.Parse(words[1]) - 1 : 0;
        switch (words[0])
        {
            case "edited":
                chain[at] = chain[at] with { NewValues = "{\"Name\":\"forged\"}" };
                if (words.Length > 3)
                {
                    var second = int.Parse(words[3]) - 1;
                    chain[second] = chain[second] with { ActorId = "someone-else" };
                }

                break;
            case "rehashed":
                var forged = chain[at] with { ActorId = "someone-else" };
                chain[at] = forged with { PayloadHash = HashChain.PayloadHash(forged) };
                break;
            case "deleted": chain.RemoveAt(at); break;
            case "inserted": chain.Insert(at, HashChain.Seal(chain[at] with { NewValues = "{}" }, at + 1, chain[at - 1].RowHash)); break;
            case "duplicate": chain.Insert(at, chain[at - 1] with { NewValues = "{\"Name\":\"again\"}" }); break;
            case "swapped": (chain[at], chain[at + 1]) = (chain[at + 1] with { Seq = chain[at].Seq }, chain[at] with { Seq = chain[at + 1].Seq }); break;
            case "version": chain[at] = chain[at] with { Version = 2 }; break;
            case "anchored": return (chain.Skip(at).ToList(), new ChainStart(at + 1, chain[at - 1].RowHash));
        }

        return (chain, null);
    }

    [Theory]
    [MemberData(nameof(Tamperings))]
    public void Batches_on_every_core_give_exactly_the_one_by_one_result(string tampering)
    {
        var (entries, start) = Tampered(tampering);
        var expected = HashChainVerifier.Verify(entries, start);

        foreach (var batchSize in new[] { 1, 7, 1000, HashChainVerifier.DefaultBatchSize })
        {
            Assert.Equal(expected, HashChainVerifier.VerifyParallel(entries, start, batchSize));
        }

        Assert.Equal(tampering == "none" || tampering.StartsWith("anchored", StringComparison.Ordinal) || tampering.EndsWith("(truncated)", StringComparison.Ordinal), expected.IsValid);
    }

    [Fact]
    public void The_earliest_of_several_breaks_is_named_whichever_core_finds_it_first()
    {
        var (entries, _) = Tampered("edited 100 and 2900");

        var result = HashChainVerifier.VerifyParallel(entries);

        Assert.Equal(100, result.FirstBrokenSeq);
        Assert.Equal(99, result.EntriesChecked);
        Assert.Equal(Valid[98].RowHash, result.LastRowHash);
    }

    [Fact]
    public void Single_entries_and_batches_can_be_mixed_and_nothing_is_checked_after_a_break()
    {
        var verifier = new HashChainVerifier();
        Assert.True(verifier.Add(Valid[0]));
        Assert.True(verifier.AddBatch(Valid[1..10]));
        Assert.True(verifier.Add(Valid[10]));
        Assert.False(verifier.AddBatch([Valid[12], Valid[13]]));
        Assert.False(verifier.AddBatch(Valid[11..20]));

        Assert.Equal("BROKEN at seq 12: entry 12 is missing (the next stored entry is 13) and no retention purge recorded its removal: an entry was deleted (11 entries before it verified).", verifier.Result().Describe());
    }
}
