using ComplianceConsole.Core.Auditing;
using ComplianceConsole.Core.Chain;

namespace ComplianceConsole.Core.Tests;

public sealed class HashChainTests
{
    private static List<AuditEntry> Chain(int count)
    {
        var entries = new List<AuditEntry>();
        var previous = HashChain.GenesisHash;
        for (var i = 1; i <= count; i++)
        {
            var entry = HashChain.Seal(new AuditEntry
            {
                OccurredAtUtc = new DateTime(2026, 1, 1, 0, 0, 0, DateTimeKind.Utc).AddMinutes(i),
                Operation = AuditOperations.Update,
                TableName = "Customers",
                RecordKey = $"{{\"Id\":{i}}}",
                OldValues = "{\"Name\":\"old\"}",
                NewValues = $"{{\"Name\":\"new {i}\"}}",
                ChangedColumns = "[\"Name\"]",
                ActorId = "u1",
                Origin = "page:/customers",
            }, i, previous);
            previous = entry.RowHash;
            entries.Add(entry);
        }

        return entries;
    }

    [Theory]
    [InlineData("de-DE")]
    [InlineData("tr-TR")]
    [InlineData("ar-SA")]
    [InlineData("th-TH")]
    public void Hashes_do_not_depend_on_the_culture_of_the_machine_that_seals_or_verifies(string culture)
    {
        var invariant = Chain(5);
        var previous = System.Globalization.CultureInfo.CurrentCulture;
        try
        {
            System.Globalization.CultureInfo.CurrentCulture = new System.Globalization.CultureInfo(culture);
            Assert.Equal(invariant.Select(e => e.RowHash), Chain(5).Select(e => e.RowHash));
            Assert.True(HashChainVerifier.Verify(invariant).IsValid);
        }
        finally
        {
            System.Globalization.CultureInfo.CurrentCulture = previous;
        }
    }

    [Fact]
    public void An_untouched_chain_verifies()
    {
        var result = HashChainVerifier.Verify(Chain(10));
        Assert.True(result.IsValid);
        Assert.Equal(10, result.EntriesChecked);
        Assert.Equal(10, result.LastSeq);
        Assert.StartsWith("OK: 10 entries", result.Describe());
    }

    [Fact]
    public void An_edited_value_is_named_by_its_seq()
    {
        var chain = Chain(10);
        chain[4] = chain[4] with { NewValues = "{\"Name\":\"forged\"}" };
        var result = HashChainVerifier.Verify(chain);
        Assert.False(result.IsValid);
        Assert.Equal(5, result.FirstBrokenSeq);
        Assert.Contains("edited", result.Problem);
    }

    [Fact]
    public void An_edit_with_a_recomputed_payload_hash_still_breaks_the_link()
    {
        var chain = Chain(10);
        var forged = chain[4] with { ActorId = "someone-else" };
        chain[4] = forged with { PayloadHash = HashChain.PayloadHash(forged) };
        var result = HashChainVerifier.Verify(chain);
        Assert.Equal(5, result.FirstBrokenSeq);
        Assert.Contains("row hash", result.Problem);
    }

    [Fact]
    public void A_deleted_row_is_named_by_the_missing_seq()
    {
        var chain = Chain(10);
        chain.RemoveAt(6);
        var result = HashChainVerifier.Verify(chain);
        Assert.Equal(7, result.FirstBrokenSeq);
        Assert.Contains("deleted", result.Problem);
    }

    [Fact]
    public void A_deleted_last_row_is_invisible_without_an_external_checkpoint_but_the_count_drops()
    {
        // The chain alone cannot notice truncation of its tail: that is what signed checkpoints (roadmap 21) are for.
        var chain = Chain(10);
        chain.RemoveAt(9);
        var result = HashChainVerifier.Verify(chain);
        Assert.True(result.IsValid);
        Assert.Equal(9, result.LastSeq);
    }

    [Fact]
    public void An_inserted_row_is_named()
    {
        var chain = Chain(10);
        var intruder = HashChain.Seal(chain[3] with { NewValues = "{\"Name\":\"intruder\"}" }, 5, chain[3].RowHash);
        // Renumbering everything after it is what an insert in the middle takes.
        var tampered = chain.Take(4).Append(intruder).Concat(chain.Skip(4).Select(e => e with { Seq = e.Seq + 1 })).ToList();
        var result = HashChainVerifier.Verify(tampered);
        Assert.False(result.IsValid);
        Assert.Equal(6, result.FirstBrokenSeq);
    }

    [Fact]
    public void An_inserted_row_with_a_duplicate_seq_is_named()
    {
        var chain = Chain(10);
        chain.Insert(5, chain[4] with { NewValues = "{\"Name\":\"again\"}" });
        var result = HashChainVerifier.Verify(chain);
        Assert.Equal(5, result.FirstBrokenSeq);
    }

    [Fact]
    public void Swapped_rows_are_named()
    {
        var chain = Chain(10);
        var (a, b) = (chain[2], chain[3]);
        chain[2] = b with { Seq = a.Seq };
        chain[3] = a with { Seq = b.Seq };
        var result = HashChainVerifier.Verify(chain);
        Assert.Equal(3, result.FirstBrokenSeq);
    }

    [Fact]
    public void Verification_can_start_from_a_retention_anchor()
    {
        var chain = Chain(10);
        var start = new ChainStart(6, chain[4].RowHash);
        Assert.True(HashChainVerifier.Verify(chain.Skip(5), start).IsValid);
        Assert.Equal(6, HashChainVerifier.Verify(chain.Skip(6), start).FirstBrokenSeq);
    }

    [Fact]
    public void Row_hash_follows_the_documented_formula()
    {
        var entry = Chain(1)[0];
        var input = new byte[76];
        System.Buffers.Binary.BinaryPrimitives.WriteInt32BigEndian(input, 1);
        System.Buffers.Binary.BinaryPrimitives.WriteInt64BigEndian(input.AsSpan(4), 1);
        Convert.FromHexString(entry.PayloadHash).CopyTo(input, 12);
        var expected = Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(input));
        Assert.Equal(expected, entry.RowHash);
        var payload = System.Text.Encoding.UTF8.GetBytes(CanonicalJson.Of(entry));
        Assert.Equal(Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(payload)), entry.PayloadHash);
    }
}
