using System.Globalization;
using System.Text.Json;
using ComplianceConsole.Core.Auditing;
using ComplianceConsole.Core.Chain;

namespace ComplianceConsole.Core.Tests;

/// <summary>
/// A 30-entry chain after two retention purges. Run A removed seq 1-4 and 10-12 and anchored at seq 16; run B removed
/// 13-15 (adjacent to A's 10-12, but a range of its own) and 18-19 and anchored at seq 24. Each anchor records the
/// count and digest of its run's ranges, computed as the purger does, and comes after them in seq order.
/// </summary>
public sealed class RemovedRangeChainTests : IDisposable
{
    private const int Length = 30;
    private const string RunA = "run-a";
    private const string RunB = "run-b";
    private const long AnchorA = 16;
    private const long AnchorB = 24;
    private static readonly DateTimeOffset Start = new(2026, 1, 1, 0, 0, 0, TimeSpan.Zero);
    private static readonly long[] RemovedByA = [1, 2, 3, 4, 10, 11, 12];
    private static readonly long[] RemovedByB = [13, 14, 15, 18, 19];

    /// <summary>The chain as it was before any purge.</summary>
    private static readonly List<AuditEntry> Full = BuildChain();

    private readonly DirectoryInfo _folder = Directory.CreateTempSubdirectory("cc-removed-ranges-");
    private readonly FolderCheckpointSink _sink;
    private readonly CheckpointKey _key;

    public RemovedRangeChainTests()
    {
        _sink = new FolderCheckpointSink(Path.Combine(_folder.FullName, "checkpoints"));
        _key = CheckpointKey.LoadOrCreate(Path.Combine(_folder.FullName, "keys", "checkpoint-key.pem"));
    }

    public void Dispose()
    {
        _key.Dispose();
        _folder.Delete(recursive: true);
    }

    private static List<AuditEntry> BuildChain()
    {
        var entries = new List<AuditEntry>();
        var previous = HashChain.GenesisHash;
        for (var seq = 1L; seq <= Length; seq++)
        {
            var at = Start.UtcDateTime.AddDays(seq);
            var entry = seq switch
            {
                AnchorA => Anchor(RunA, RemovedByA, entries, at),
                AnchorB => Anchor(RunB, RemovedByB, entries, at),
                _ when seq % 3 == 0 => new AuditEntry
                {
                    OccurredAtUtc = at,
                    Operation = AuditOperations.Event,
                    EventName = "auth.login_failed",
                    ActorId = "u" + seq,
                    Origin = "page:/login",
                    Metadata = JsonSerializer.Serialize(new Dictionary<string, string?> { ["reason"] = "bad password", ["attempt"] = seq.ToString(CultureInfo.InvariantCulture) }),
                },
                _ => new AuditEntry
                {
                    OccurredAtUtc = at,
                    Operation = AuditOperations.Update,
                    TableName = "Customers",
                    RecordKey = $"{{\"Id\":{seq}}}",
                    OldValues = "{\"Name\":\"old\"}",
                    NewValues = $"{{\"Name\":\"new {seq}\"}}",
                    ChangedColumns = "[\"Name\"]",
                    ActorId = "u1",
                    Origin = "page:/customers",
                },
            };
            entries.Add(entry = HashChain.Seal(entry, seq, previous));
            previous = entry.RowHash;
        }

        return entries;
    }

    /// <summary>A <c>retention.purged</c> event recording the ranges of <paramref name="removed"/>, as the purger writes it.</summary>
    private static AuditEntry Anchor(string runId, long[] removed, List<AuditEntry> before, DateTime at)
    {
        var digest = RemovedRangeDigest.Of(RangesOf(runId, removed, before));
        return new AuditEntry
        {
            OccurredAtUtc = at,
            Operation = AuditOperations.Event,
            EventName = AuditEventNames.RetentionPurged,
            Target = "retention/" + runId,
            Origin = "job:retention",
            Metadata = JsonSerializer.Serialize(new Dictionary<string, string?>
            {
                [AnchorFields.RunId] = runId,
                [AnchorFields.Entries] = digest.Entries.ToString(CultureInfo.InvariantCulture),
                [AnchorFields.Ranges] = digest.Ranges.ToString(CultureInfo.InvariantCulture),
                [AnchorFields.RangesSha256] = digest.Sha256(),
            }),
        };
    }

    private static List<RemovedRange> RangesOf(string runId, long[] removed, List<AuditEntry> chain) =>
        RemovedRange.RunsOf(removed.Select(seq => (seq, chain[(int)seq - 1].RowHash)), runId).ToList();

    private static AuditEntry At(long seq) => Full[(int)seq - 1];

    /// <summary>The ranges the store keeps after both purges, in seq order.</summary>
    private static List<RemovedRange> StoredRanges() =>
        [.. RangesOf(RunA, RemovedByA, Full).Concat(RangesOf(RunB, RemovedByB, Full)).OrderBy(r => r.FirstSeq)];

    /// <summary>The live entries after both purges, with <paramref name="kept"/> still there and <paramref name="deleted"/> gone too.</summary>
    private static List<AuditEntry> Live(long[]? kept = null, long[]? deleted = null) =>
        [.. Full.Where(e => (kept ?? []).Contains(e.Seq) || !(RemovedByA.Contains(e.Seq) || RemovedByB.Contains(e.Seq) || (deleted ?? []).Contains(e.Seq)))];

    private static List<RemovedRange> With(List<RemovedRange> ranges, RemovedRange extra) => [.. ranges.Append(extra).OrderBy(r => r.FirstSeq)];

    private static List<RemovedRange> Replace(List<RemovedRange> ranges, long firstSeq, Func<RemovedRange, RemovedRange> change) =>
        [.. ranges.Select(r => r.FirstSeq == firstSeq ? change(r) : r)];

    private static List<AuditEntry> Replace(List<AuditEntry> entries, long seq, Func<AuditEntry, AuditEntry> change) =>
        [.. entries.Select(e => e.Seq == seq ? change(e) : e)];

    private static readonly string ForgedHash = new('f', 64);

    private sealed record Scenario(List<AuditEntry> Entries, List<RemovedRange> Ranges);

    private static Scenario Of(string name) => name switch
    {
        "purged" => new(Live(), StoredRanges()),
        "no ranges" => new(Live(), []),
        "range 13-15 dropped" => new(Live(), [.. StoredRanges().Where(r => r.FirstSeq != 13)]),
        "deleted 7" => new(Live(deleted: [7]), StoredRanges()),
        "deleted 5 (right after the range from seq 1)" => new(Live(deleted: [5]), StoredRanges()),
        "deleted 20 (right after a range)" => new(Live(deleted: [20]), StoredRanges()),
        "last row hash of 1-4 altered" => new(Live(), Replace(StoredRanges(), 1, r => r with { LastRowHash = ForgedHash })),
        "last row hash of 10-12 altered" => new(Live(), Replace(StoredRanges(), 10, r => r with { LastRowHash = ForgedHash })),
        "last row hash of 18-19 altered" => new(Live(), Replace(StoredRanges(), 18, r => r with { LastRowHash = ForgedHash })),
        "1-4 stretched over deleted 5" => new(Live(deleted: [5]), Replace(StoredRanges(), 1, r => r with { ThroughSeq = 5, LastRowHash = At(5).RowHash })),
        "forged 7 in run-a" => new(Live(deleted: [7]), With(StoredRanges(), new(7, 7, At(7).RowHash, RunA))),
        "forged 22 in run-b" => new(Live(deleted: [22]), With(StoredRanges(), new(22, 22, At(22).RowHash, RunB))),
        "forged 27 in run-x (no anchor)" => new(Live(deleted: [27]), With(StoredRanges(), new(27, 27, At(27).RowHash, "run-x"))),
        "forged 26 in run-b (after its anchor)" => new(Live(deleted: [26]), With(StoredRanges(), new(26, 26, At(26).RowHash, RunB))),
        "overlapping 10-12 and 12-15" => new(Live(), Replace(StoredRanges(), 13, r => r with { FirstSeq = 12 })),
        "range beyond the newest entry" => new(Live(deleted: [26, 27, 28, 29, 30]), With(StoredRanges(), new(29, 30, At(30).RowHash, "run-x"))),
        "truncated 26-30" => new(Live(deleted: [26, 27, 28, 29, 30]), StoredRanges()),
        "kept 1" => new(Live(kept: [1]), StoredRanges()),
        "kept 11" => new(Live(kept: [11]), StoredRanges()),
        "kept 12 (last of its range)" => new(Live(kept: [12]), StoredRanges()),
        "kept 11 and 12" => new(Live(kept: [11, 12]), StoredRanges()),
        "run-b not yet deleted" => new(Live(kept: RemovedByB), StoredRanges()),
        "nothing deleted yet" => new(Full.ToList(), StoredRanges()),
        "kept 11 edited" => new(Replace(Live(kept: [11]), 11, e => e with { NewValues = "{\"Name\":\"forged\"}" }), StoredRanges()),
        "kept 12 edited" => new(Replace(Live(kept: [12]), 12, e => e with { ActorId = "someone-else" }), StoredRanges()),
        "kept 12 re-sealed" => new(Replace(Live(kept: [12]), 12, e => HashChain.Seal(e with { ActorId = "someone-else" }, 12, At(11).RowHash)), StoredRanges()),
        _ => throw new ArgumentException(name),
    };

    /// <summary>Every scenario: whether it verifies, where it breaks, and a piece of the problem a user reads.</summary>
    public static TheoryData<string, bool, long?, string?> Expectations() => new()
    {
        { "purged", true, null, null },
        { "no ranges", false, 1, "entry 1 is missing (the next stored entry is 5) and no retention purge recorded its removal: an entry was deleted" },
        { "range 13-15 dropped", false, 13, "entry 13 is missing (the next stored entry is 16)" },
        { "deleted 7", false, 7, "entry 7 is missing (the next stored entry is 8) and no retention purge recorded its removal" },
        { "deleted 5 (right after the range from seq 1)", false, 5, "entry 5 is missing (the next stored entry is 6)" },
        { "deleted 20 (right after a range)", false, 20, "entry 20 is missing (the next stored entry is 21)" },
        { "last row hash of 1-4 altered", false, 5, "does not link to the previous entry" },
        { "last row hash of 10-12 altered", false, AnchorA, "the removed ranges of purge run run-a (2 in the store) do not match what its anchor recorded" },
        { "last row hash of 18-19 altered", false, 20, "does not link to the previous entry" },
        { "1-4 stretched over deleted 5", false, AnchorA, "do not match what its anchor recorded" },
        { "forged 7 in run-a", false, AnchorA, "the removed ranges of purge run run-a (3 in the store) do not match what its anchor recorded (2): a range was added, removed or altered" },
        { "forged 22 in run-b", false, AnchorB, "the removed ranges of purge run run-b (3 in the store) do not match what its anchor recorded (2)" },
        { "forged 27 in run-x (no anchor)", false, null, "1 removed range(s) of purge run run-x have no anchor in the chain: entries were deleted without a retention purge" },
        { "forged 26 in run-b (after its anchor)", false, null, null },
        { "overlapping 10-12 and 12-15", false, 12, "the removed range 12..15 overlaps the one before it or is empty" },
        { "range beyond the newest entry", false, 29, "a removed range 29..30 is recorded beyond the newest entry" },
        { "truncated 26-30", true, null, null },
        { "kept 1", true, null, null },
        { "kept 11", true, null, null },
        { "kept 12 (last of its range)", true, null, null },
        { "kept 11 and 12", true, null, null },
        { "run-b not yet deleted", true, null, null },
        { "nothing deleted yet", true, null, null },
        { "kept 11 edited", false, 11, "its content does not match its payload hash: a value was edited" },
        { "kept 12 edited", false, 12, "its content does not match its payload hash" },
        { "kept 12 re-sealed", false, 12, "its row hash is not the one its removed range records" },
    };

    public static TheoryData<string> Names() => [.. Expectations().Select(row => (string)row[0])];

    public static TheoryData<string> ValidNames() => [.. Expectations().Where(row => (bool)row[1]).Select(row => (string)row[0])];

    [Fact]
    public void The_fixture_is_what_the_tests_assume()
    {
        Assert.Equal(
            [(1L, 4L, RunA), (10L, 12L, RunA), (13L, 15L, RunB), (18L, 19L, RunB)],
            StoredRanges().Select(r => (r.FirstSeq, r.ThroughSeq, r.RunId)));
        Assert.Equal(18, Live().Count);
        Assert.True(HashChainVerifier.Verify(Full, removed: StoredRanges()).IsValid); // ranges written, nothing deleted yet
    }

    [Fact]
    public void A_store_that_lost_its_range_records_is_caught_at_the_first_anchor_even_with_every_entry_still_there()
    {
        var result = HashChainVerifier.Verify(Full);

        Assert.False(result.IsValid);
        Assert.Equal(AnchorA, result.FirstBrokenSeq);
        Assert.Contains("the removed ranges of purge run run-a (0 in the store) do not match what its anchor recorded (2)", result.Problem);
    }

    [Fact]
    public void A_purged_chain_verifies_across_its_holes_and_says_how_much_retention_removed()
    {
        var result = HashChainVerifier.Verify(Live(), removed: StoredRanges());

        Assert.True(result.IsValid, result.Describe());
        Assert.Equal(18, result.EntriesChecked);
        Assert.Equal(12, result.EntriesRemoved);
        Assert.Equal(4, result.RangesRemoved);
        Assert.Equal(Length, result.LastSeq);
        Assert.Equal(At(Length).RowHash, result.LastRowHash);
        Assert.Equal(
            "OK: 18 entries verified, chain intact up to seq 30. 12 entries in 4 range(s) were removed by retention; each range is recorded with the row hash the chain links through, and proven by its anchor.",
            result.Describe());
    }

    [Fact]
    public void Without_its_ranges_the_purged_chain_is_broken_at_the_first_missing_seq()
    {
        var result = HashChainVerifier.Verify(Live());

        Assert.False(result.IsValid);
        Assert.Equal(1, result.FirstBrokenSeq);
        Assert.Equal("BROKEN at seq 1: entry 1 is missing (the next stored entry is 5) and no retention purge recorded its removal: an entry was deleted (0 entries before it verified).", result.Describe());
    }

    [Fact]
    public void An_entry_deleted_outside_any_range_is_named_by_its_seq()
    {
        var result = HashChainVerifier.Verify(Live(deleted: [7]), removed: StoredRanges());

        Assert.Equal("BROKEN at seq 7: entry 7 is missing (the next stored entry is 8) and no retention purge recorded its removal: an entry was deleted (2 entries before it verified).", result.Describe());
        Assert.Equal(6, result.LastSeq);
        Assert.Equal(At(6).RowHash, result.LastRowHash);
    }

    [Fact]
    public void A_forged_range_over_an_entry_an_attacker_deleted_breaks_the_chain_at_the_anchor_of_its_run()
    {
        // Entry 7 links through the forged range perfectly (it records 7's real row hash); only the anchor can tell.
        var result = HashChainVerifier.Verify(Live(deleted: [7]), removed: With(StoredRanges(), new(7, 7, At(7).RowHash, RunA)));

        Assert.False(result.IsValid);
        Assert.Equal(AnchorA, result.FirstBrokenSeq);
        Assert.Contains("do not match what its anchor recorded", result.Problem);
        Assert.Equal(4, result.EntriesChecked); // 5, 6, 8 and 9 verified before the anchor
    }

    [Fact]
    public void A_range_with_no_anchor_is_not_valid()
    {
        var result = HashChainVerifier.Verify(Live(deleted: [27]), removed: With(StoredRanges(), new(27, 27, At(27).RowHash, "run-x")));

        Assert.False(result.IsValid);
        Assert.Contains("run-x have no anchor", result.Describe());
    }

    [Theory]
    [InlineData(new long[] { 11 }, 11)]
    [InlineData(new long[] { 12 }, 11)]
    [InlineData(new long[] { 1 }, 11)]
    [InlineData(new long[] { 1, 11, 12 }, 9)]
    public void Entries_kept_inside_a_range_still_verify_and_are_not_counted_as_removed(long[] kept, long removed)
    {
        var result = HashChainVerifier.Verify(Live(kept: kept), removed: StoredRanges());

        Assert.True(result.IsValid, result.Describe());
        Assert.Equal(18 + kept.Length, result.EntriesChecked);
        Assert.Equal(removed, result.EntriesRemoved);
        Assert.Equal(Length, result.LastSeq);
    }

    [Fact]
    public void An_edited_entry_kept_inside_a_range_is_caught_by_its_payload_hash()
    {
        var result = HashChainVerifier.Verify(Replace(Live(kept: [11]), 11, e => e with { NewValues = "{\"Name\":\"forged\"}" }), removed: StoredRanges());

        Assert.Equal("BROKEN at seq 11: its content does not match its payload hash: a value was edited (5 entries before it verified).", result.Describe());
    }

    [Fact]
    public void A_range_whose_last_entry_is_still_there_must_record_its_row_hash()
    {
        var result = HashChainVerifier.Verify(Live(kept: [12]), removed: Replace(StoredRanges(), 10, r => r with { LastRowHash = ForgedHash }));

        Assert.False(result.IsValid);
        Assert.Equal(12, result.FirstBrokenSeq);
        Assert.Contains("removed range", result.Problem);
    }

    [Theory]
    [MemberData(nameof(Expectations))]
    public void Each_scenario_verifies_or_breaks_where_a_user_would_expect(string scenario, bool valid, long? brokenAt, string? problem)
    {
        var (entries, ranges) = Of(scenario);

        var result = HashChainVerifier.Verify(entries, removed: ranges);

        Assert.True(valid == result.IsValid, result.Describe());
        if (brokenAt is not null)
        {
            Assert.Equal(brokenAt, result.FirstBrokenSeq);
        }

        if (problem is not null)
        {
            Assert.Contains(problem, result.Problem);
        }

        if (!valid)
        {
            Assert.StartsWith($"BROKEN at seq {result.FirstBrokenSeq}: ", result.Describe());
        }
    }

    [Theory]
    [MemberData(nameof(Names))]
    public void Batches_on_every_core_give_exactly_the_one_by_one_result(string scenario)
    {
        var (entries, ranges) = Of(scenario);
        var expected = HashChainVerifier.Verify(entries, removed: ranges);

        foreach (var batchSize in new[] { 1, 3, 7, HashChainVerifier.DefaultBatchSize })
        {
            var actual = HashChainVerifier.VerifyParallel(entries, batchSize: batchSize, removed: ranges);
            Assert.True(expected == actual, $"batch size {batchSize}: expected \"{expected.Describe()}\", got \"{actual.Describe()}\"");
        }
    }

    [Theory]
    [MemberData(nameof(ValidNames))]
    public void The_observer_is_told_of_every_seq_once_in_order_with_the_row_hash_it_ends_in(string scenario)
    {
        var (entries, ranges) = Of(scenario);
        var told = new List<(long First, long Through, string? RowHash)>();
        var verifier = new HashChainVerifier(removed: ranges) { Observer = (first, through, hash) => told.Add((first, through, hash)) };
        foreach (var entry in entries)
        {
            verifier.Add(entry);
        }

        var result = verifier.Result();

        Assert.True(result.IsValid);
        var expectedFirst = 1L;
        foreach (var (first, through, hash) in told)
        {
            Assert.True(first == expectedFirst, $"told of {first}..{through} after {expectedFirst - 1}: [{string.Join(", ", told.Select(t => $"{t.First}..{t.Through}"))}]");
            Assert.True(through >= first);
            if (hash is not null || !entries.Any(e => e.Seq == through + 1))
            {
                Assert.Equal(At(through).RowHash, hash); // null only for removed entries just before a kept one, whose last hash is not known live
            }

            expectedFirst = through + 1;
        }

        Assert.Equal(result.LastSeq, expectedFirst - 1);
        Assert.Equal(result.LastSeq, verifier.ObservedThrough);
    }

    /// <summary>Signs checkpoints of <see cref="Full"/>, before the purges, at <paramref name="seqs"/>: each held every entry up to it.</summary>
    private async Task SignAsync(params long[] seqs)
    {
        var signer = new CheckpointSigner(_key);
        Checkpoint? previous = null;
        foreach (var seq in seqs)
        {
            previous = signer.Sign(previous, seq, At(seq).RowHash, seq, Start.AddDays(seq).AddHours(1));
            await _sink.AppendAsync(previous);
        }
    }

    /// <summary>Verifies as the integrity page does: batches, the verifier's observer wired to the checkpoints, and the entries after a break told directly.</summary>
    private async Task<(ChainVerificationResult Chain, CheckpointVerification Checkpoints)> VerifyAsync(Scenario scenario, int batchSize)
    {
        var checkpoints = new CheckpointVerifier(await _sink.ReadAllAsync(), _key.PublicKey);
        var verifier = new HashChainVerifier(removed: scenario.Ranges) { Observer = checkpoints.Observe };
        var intact = true;
        foreach (var batch in scenario.Entries.Chunk(batchSize))
        {
            intact = intact && verifier.AddBatch(batch);
            if (!intact)
            {
                foreach (var entry in batch.Where(e => e.Seq > verifier.ObservedThrough))
                {
                    checkpoints.Observe(entry.Seq, entry.RowHash);
                }
            }
        }

        var chain = verifier.Result();
        return (chain, checkpoints.Complete(chain));
    }

    [Theory]
    [InlineData(1)]
    [InlineData(HashChainVerifier.DefaultBatchSize)]
    public async Task Checkpoints_at_the_end_of_a_removed_range_and_after_it_match_and_one_inside_a_range_is_not_a_problem(int batchSize)
    {
        // 4 and 12 end removed ranges (their entries are gone), 11 is inside one, 20 and 30 are live.
        await SignAsync(4, 11, 12, 20, 30);

        var (chain, result) = await VerifyAsync(Of("purged"), batchSize);

        Assert.True(chain.IsValid);
        Assert.True(result.IsValid, result.Describe());
        Assert.Equal(5, result.CheckpointsRead);
        Assert.Equal(30, result.NewestProven!.Checkpoint.Seq);
    }

    [Theory]
    [InlineData(4)]
    [InlineData(12)]
    [InlineData(15)]
    [InlineData(19)]
    public async Task A_checkpoint_at_the_end_of_a_removed_range_alone_is_proven_through_the_range_s_row_hash_and_count(long seq)
    {
        // The entry it signed is gone: only the range's last row hash, and a count that includes the removed entries, prove it.
        await SignAsync(seq);

        var (chain, result) = await VerifyAsync(Of("purged"), 1);

        Assert.True(chain.IsValid, chain.Describe());
        Assert.True(result.IsValid, result.Describe());
        Assert.Equal(seq, result.NewestProven!.Checkpoint.Seq);
    }

    [Fact]
    public async Task A_checkpoint_signed_at_the_end_of_a_range_whose_row_hash_was_altered_reports_a_rewrite()
    {
        await SignAsync(12);

        var (_, result) = await VerifyAsync(new(Live(), Replace(StoredRanges(), 10, r => r with { LastRowHash = ForgedHash })), 1);

        var problem = Assert.Single(result.Problems);
        Assert.Equal(CheckpointProblemKind.Rewritten, problem.Kind);
        Assert.Contains($"the store has {ForgedHash[..12]}", problem.Message);
        Assert.Null(result.NewestProven);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(HashChainVerifier.DefaultBatchSize)]
    public async Task Truncation_after_a_purge_is_still_caught(int batchSize)
    {
        await SignAsync(4, 11, 12, 20, 30);

        var (chain, result) = await VerifyAsync(Of("truncated 26-30"), batchSize);

        Assert.True(chain.IsValid); // the chain alone cannot tell
        var problem = Assert.Single(result.Problems);
        Assert.Equal(CheckpointProblemKind.Truncated, problem.Kind);
        Assert.Equal(26, problem.FirstAffectedSeq);
        Assert.StartsWith("entries 26..30 are missing: truncated below checkpoint checkpoints.jsonl:5 (seq 30", problem.Message);
        Assert.Equal(20, result.NewestProven!.Checkpoint.Seq);
    }

    [Theory]
    [InlineData("kept 1")]
    [InlineData("kept 11")]
    [InlineData("kept 12 (last of its range)")]
    [InlineData("kept 11 and 12")]
    [InlineData("run-b not yet deleted")]
    [InlineData("nothing deleted yet")]
    public async Task Entries_kept_inside_a_range_do_not_upset_the_checkpoints(string scenario)
    {
        await SignAsync(4, 11, 12, 20, 30);

        var (chain, result) = await VerifyAsync(Of(scenario), 1);

        Assert.True(chain.IsValid, chain.Describe());
        Assert.True(result.IsValid, result.Describe());
        Assert.Equal(30, result.NewestProven!.Checkpoint.Seq);
    }
}
