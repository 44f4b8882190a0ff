using System.Security.Cryptography;
using ComplianceConsole.Core.Auditing;
using ComplianceConsole.Core.Chain;

namespace ComplianceConsole.Core.Tests;

public sealed class CheckpointTests : IDisposable
{
    private static readonly DateTimeOffset Start = new(2026, 1, 1, 0, 0, 0, TimeSpan.Zero);
    private readonly DirectoryInfo _folder = Directory.CreateTempSubdirectory("cc-checkpoints-");
    private readonly FolderCheckpointSink _sink;
    private readonly CheckpointKey _key;

    public CheckpointTests()
    {
        _sink = new FolderCheckpointSink(Path.Combine(_folder.FullName, "checkpoints"));
        _key = CheckpointKey.LoadOrCreate(Path.Combine(_folder.FullName, "keys", "checkpoint-key.pem"));
    }

    public void Dispose()
    {
        _key.Dispose();
        _folder.Delete(recursive: true);
    }

    private static List<AuditEntry> Chain(int count, int rewriteFrom = int.MaxValue)
    {
        var entries = new List<AuditEntry>();
        var previous = HashChain.GenesisHash;
        for (var i = 1; i <= count; i++)
        {
            var entry = HashChain.Seal(new AuditEntry
            {
                OccurredAtUtc = Start.UtcDateTime.AddMinutes(i),
                Operation = AuditOperations.Update,
                TableName = "Payments",
                RecordKey = $"{{\"Id\":{i}}}",
                OldValues = "{\"Amount\":\"10.00\"}",
                NewValues = i == rewriteFrom ? "{\"Amount\":\"0.01\"}" : $"{{\"Amount\":\"{i}.00\"}}",
                ActorId = "u1",
                Origin = "page:/payments",
            }, i, previous);
            previous = entry.RowHash;
            entries.Add(entry);
        }

        return entries;
    }

    /// <summary>Signs checkpoints at seq 10, 20 and 30 of a 30-entry chain: lines 1, 2 and 3 of the file.</summary>
    private async Task<List<AuditEntry>> SignedChainAsync()
    {
        var chain = Chain(30);
        var signer = new CheckpointSigner(_key);
        Checkpoint? previous = null;
        foreach (var seq in new[] { 10, 20, 30 })
        {
            previous = signer.Sign(previous, seq, chain[seq - 1].RowHash, seq, Start.AddMinutes(seq));
            await _sink.AppendAsync(previous);
        }

        return chain;
    }

    private async Task<CheckpointVerification> VerifyAsync(IEnumerable<AuditEntry> chain, CheckpointPublicKey? key = null, ChainStart? start = null)
    {
        var checkpoints = new CheckpointVerifier(await _sink.ReadAllAsync(), key ?? _key.PublicKey);
        var verifier = new HashChainVerifier(start);
        foreach (var entry in chain)
        {
            verifier.Add(entry);
            checkpoints.Observe(entry.Seq, entry.RowHash);
        }

        return checkpoints.Complete(verifier.Result());
    }

    private void EditLines(Func<List<string>, IEnumerable<string>> edit) =>
        File.WriteAllLines(_sink.FilePath, edit([.. File.ReadAllLines(_sink.FilePath)]));

    [Fact]
    public async Task An_untouched_chain_is_proven_up_to_its_newest_checkpoint()
    {
        var chain = await SignedChainAsync();

        var result = await VerifyAsync(chain);

        Assert.True(result.IsValid);
        Assert.Equal(30, result.NewestProven!.Checkpoint.Seq);
        Assert.Equal("Checkpoints: the chain is complete and unaltered up to seq 30, signed at 2026-01-01 00:30:00Z (checkpoints.jsonl:3).", result.Describe());
    }

    [Fact]
    public async Task Truncation_of_the_newest_entries_is_named_with_the_first_missing_seq_and_the_checkpoint()
    {
        var chain = await SignedChainAsync();
        var truncated = chain.Take(25).ToList();
        Assert.True(HashChainVerifier.Verify(truncated).IsValid); // the chain alone cannot tell

        var result = await VerifyAsync(truncated);

        var problem = Assert.Single(result.Problems);
        Assert.Equal(CheckpointProblemKind.Truncated, problem.Kind);
        Assert.Equal(26, problem.FirstAffectedSeq);
        Assert.Equal("entries 26..30 are missing: truncated below checkpoint checkpoints.jsonl:3 (seq 30, signed 2026-01-01 00:30:00Z)", problem.Message);
        Assert.Equal(20, result.NewestProven!.Checkpoint.Seq);
    }

    [Fact]
    public async Task A_chain_recomputed_from_some_seq_is_named_from_the_last_matching_checkpoint()
    {
        await SignedChainAsync();
        var rewritten = Chain(30, rewriteFrom: 15);
        Assert.True(HashChainVerifier.Verify(rewritten).IsValid); // every hash was recomputed

        var result = await VerifyAsync(rewritten);

        Assert.All(result.Problems, p => Assert.Equal(CheckpointProblemKind.Rewritten, p.Kind));
        Assert.Equal(["checkpoints.jsonl:2", "checkpoints.jsonl:3"], result.Problems.Select(p => p.Source.ToString()));
        Assert.Equal(11, result.Problems[0].FirstAffectedSeq);
        Assert.StartsWith("entries in seq 11..20 were rewritten: checkpoint checkpoints.jsonl:2 signed seq 20 with row hash ", result.Problems[0].Message);
        Assert.EndsWith("the last checkpoint that matches is seq 10", result.Problems[0].Message);
        Assert.Equal(10, result.NewestProven!.Checkpoint.Seq);
    }

    [Fact]
    public async Task A_rewrite_below_the_first_checkpoint_is_named_from_the_first_entry()
    {
        await SignedChainAsync();

        var result = await VerifyAsync(Chain(30, rewriteFrom: 3));

        Assert.Equal(1, result.Problems[0].FirstAffectedSeq);
        Assert.EndsWith("no earlier checkpoint matches", result.Problems[0].Message);
        Assert.Null(result.NewestProven);
        Assert.StartsWith("Checkpoints: no signed checkpoint matches the chain. 3 problem(s):", result.Describe());
    }

    [Fact]
    public async Task Entries_removed_from_the_front_behind_a_forged_anchor_are_a_count_mismatch()
    {
        var chain = await SignedChainAsync();

        var result = await VerifyAsync(chain.Skip(5), start: new ChainStart(6, chain[4].RowHash));

        Assert.Equal(3, result.Problems.Count);
        Assert.All(result.Problems, p => Assert.Equal(CheckpointProblemKind.CountMismatch, p.Kind));
        Assert.Equal("checkpoint checkpoints.jsonl:1 signed 10 entries up to seq 10, the store has 5: entries were removed or added before it", result.Problems[0].Message);
    }

    [Fact]
    public async Task A_deleted_checkpoint_line_is_named_by_the_line_that_no_longer_links()
    {
        var chain = await SignedChainAsync();
        EditLines(lines => lines.Where((_, i) => i != 1));

        var result = await VerifyAsync(chain);

        var problem = Assert.Single(result.Problems);
        Assert.Equal(CheckpointProblemKind.BrokenLink, problem.Kind);
        Assert.Equal("checkpoint at checkpoints.jsonl:2 (seq 30) does not link to the line before it: a checkpoint was removed or reordered", problem.Message);
    }

    [Fact]
    public async Task A_deleted_first_checkpoint_is_named()
    {
        var chain = await SignedChainAsync();
        EditLines(lines => lines.Skip(1));

        var result = await VerifyAsync(chain);

        Assert.Equal("checkpoint at checkpoints.jsonl:1 (seq 20) links to a checkpoint that is not in the file: the checkpoints before it were removed", Assert.Single(result.Problems).Message);
    }

    [Fact]
    public async Task An_edited_checkpoint_is_named_and_not_trusted()
    {
        // Truncate the chain to 25 and edit the last checkpoint to match it: its signature no longer holds.
        var chain = await SignedChainAsync();
        EditLines(lines => lines.Take(2).Append(lines[2].Replace($"\"{chain[29].RowHash}\"", $"\"{chain[24].RowHash}\"").Replace("\"seq\":30", "\"seq\":25")));

        var result = await VerifyAsync(chain.Take(25));

        var problem = Assert.Single(result.Problems);
        Assert.Equal(CheckpointProblemKind.BadSignature, problem.Kind);
        Assert.Equal("checkpoint at checkpoints.jsonl:3 (seq 25) has an invalid signature: it was edited or forged", problem.Message);
        Assert.Equal(20, result.NewestProven!.Checkpoint.Seq);
    }

    [Fact]
    public async Task A_checkpoint_signed_by_another_key_is_named()
    {
        var chain = await SignedChainAsync();
        using var forger = CheckpointKey.LoadOrCreate(Path.Combine(_folder.FullName, "forger.pem"));
        var read = await _sink.ReadAllAsync();
        var forged = new CheckpointSigner(forger).Sign(read.Checkpoints[1].Checkpoint, 25, chain[24].RowHash, 25, Start.AddMinutes(30));
        EditLines(lines => lines.Take(2).Append(forged.ToJson()));

        var result = await VerifyAsync(chain.Take(25));

        var problem = Assert.Single(result.Problems);
        Assert.Equal(CheckpointProblemKind.BadSignature, problem.Kind);
        Assert.StartsWith($"checkpoint at checkpoints.jsonl:3 (seq 25) names key {forger.PublicKey.KeyId}, not the key {_key.PublicKey.KeyId} given to verify with", problem.Message);
    }

    [Fact]
    public async Task A_torn_line_is_reported_and_the_next_checkpoint_starts_a_line_of_its_own()
    {
        var chain = await SignedChainAsync();
        var torn = (await _sink.ReadAllAsync()).Last!.ToJson();
        File.AppendAllText(_sink.FilePath, torn[..(torn.Length / 2)]); // a crash in the middle of a write

        var previous = (await _sink.ReadAllAsync()).Last;
        await _sink.AppendAsync(new CheckpointSigner(_key).Sign(previous, 30, chain[29].RowHash, 30, Start.AddMinutes(35)));
        var result = await VerifyAsync(chain);

        var problem = Assert.Single(result.Problems);
        Assert.Equal(CheckpointProblemKind.Unreadable, problem.Kind);
        Assert.StartsWith("checkpoints.jsonl:4 cannot be read: not a checkpoint (torn by a crash, or edited)", problem.Message);
        Assert.Equal("checkpoints.jsonl:5", result.NewestProven!.Source.ToString());
    }

    [Fact]
    public async Task A_garbage_line_is_reported_and_the_line_after_it_no_longer_links()
    {
        var chain = await SignedChainAsync();
        EditLines(lines => lines.Select((line, i) => i == 1 ? "{\"seq\": \"garbage\"" : line));

        var result = await VerifyAsync(chain);

        Assert.Equal(
            [(CheckpointProblemKind.Unreadable, "checkpoints.jsonl:2"), (CheckpointProblemKind.BrokenLink, "checkpoints.jsonl:3")],
            result.Problems.Select(p => (p.Kind, p.Source.ToString())));
    }

    [Fact]
    public async Task The_first_append_creates_the_file_flushes_its_folder_and_ends_the_line()
    {
        var sink = new FolderCheckpointSink(Path.Combine(_folder.FullName, "new", "folder"));

        await sink.AppendAsync(new CheckpointSigner(_key).Sign(null, 1, HashChain.GenesisHash, 1, Start));

        Assert.EndsWith("\n", File.ReadAllText(sink.FilePath));
        Assert.Single((await sink.ReadAllAsync()).Checkpoints);
    }

    [Fact]
    public void The_signed_text_is_the_documented_one()
    {
        var checkpoint = new Checkpoint(420, new string('a', 64), 419, new DateTime(2026, 2, 3, 4, 5, 6, DateTimeKind.Utc).AddTicks(7), null, "0123456789abcdef", "sig");

        Assert.Equal(
            $"cc-checkpoint-v1\n420\n{new string('a', 64)}\n419\n2026-02-03T04:05:06.0000007Z\n-\n0123456789abcdef",
            System.Text.Encoding.UTF8.GetString(checkpoint.SignedBytes()));
        Assert.True(Checkpoint.TryParse(checkpoint.ToJson(), out var read, out _));
        Assert.Equal(checkpoint, read);
    }

    [Fact]
    public void A_key_is_generated_once_private_to_its_owner_and_loaded_after()
    {
        var path = Path.Combine(_folder.FullName, "once", "key.pem");

        using var generated = CheckpointKey.LoadOrCreate(path);
        using var loaded = CheckpointKey.LoadOrCreate(path);

        Assert.True(generated.WasGenerated);
        Assert.False(loaded.WasGenerated);
        Assert.Equal(generated.PublicKey.KeyId, loaded.PublicKey.KeyId);
        Assert.Equal(generated.PublicKey.Pem, File.ReadAllText(Path.Combine(_folder.FullName, "once", "key.pub.pem")));
        if (!OperatingSystem.IsWindows())
        {
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(path));
        }
    }

    [Fact]
    public void A_key_in_an_environment_variable_is_used_and_nothing_is_written()
    {
        using var ecdsa = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var variable = "CC_TEST_CHECKPOINT_KEY_" + Guid.NewGuid().ToString("N");
        var path = Path.Combine(_folder.FullName, "unused.pem");
        Environment.SetEnvironmentVariable(variable, ecdsa.ExportPkcs8PrivateKeyPem());
        try
        {
            using var key = CheckpointKey.LoadOrCreate(path, variable);

            Assert.False(key.WasGenerated);
            Assert.Equal(Convert.ToHexStringLower(SHA256.HashData(ecdsa.ExportSubjectPublicKeyInfo()))[..16], key.PublicKey.KeyId);
            Assert.Equal($"environment variable {variable}", key.Source);
            Assert.False(File.Exists(path));
        }
        finally
        {
            Environment.SetEnvironmentVariable(variable, null);
        }
    }

    [Fact]
    public void A_public_key_where_a_private_key_belongs_is_refused_with_a_message_that_says_so()
    {
        var path = Path.Combine(_folder.FullName, "public-only.pem");
        File.WriteAllText(path, _key.PublicKey.Pem);

        var error = Assert.Throws<InvalidOperationException>(() => CheckpointKey.LoadOrCreate(path));

        Assert.Contains("not an unencrypted private key", error.Message);
    }

    [Fact]
    public async Task The_public_key_file_alone_verifies_and_another_key_does_not()
    {
        var chain = await SignedChainAsync();
        using var auditors = CheckpointPublicKey.FromPemFile(Path.Combine(_folder.FullName, "keys", "checkpoint-key.pub.pem"));
        using var other = CheckpointKey.LoadOrCreate(Path.Combine(_folder.FullName, "other.pem"));

        Assert.Equal(30, (await VerifyAsync(chain, auditors)).NewestProven!.Checkpoint.Seq);
        var wrongKey = await VerifyAsync(chain, other.PublicKey);
        Assert.Equal(3, wrongKey.Problems.Count(p => p.Kind == CheckpointProblemKind.BadSignature));
        Assert.Null(wrongKey.NewestProven);
    }

    [Fact]
    public async Task The_private_key_never_appears_in_the_checkpoint_file()
    {
        await SignedChainAsync();
        var privatePem = File.ReadAllText(Path.Combine(_folder.FullName, "keys", "checkpoint-key.pem"));
        var privateBody = string.Concat(privatePem.Split('\n').Where(l => !l.StartsWith("-----", StringComparison.Ordinal)));

        var file = File.ReadAllText(_sink.FilePath);

        Assert.DoesNotContain("PRIVATE", file);
        Assert.All(privateBody.Chunk(16).Select(c => new string(c)), piece => Assert.DoesNotContain(piece, file));
        Assert.DoesNotContain(privateBody, _key.Source + _key.PublicKey.Pem);
    }
}
