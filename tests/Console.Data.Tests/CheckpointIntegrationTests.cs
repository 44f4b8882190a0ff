using ComplianceConsole.Core.Auditing;
using ComplianceConsole.Core.Chain;
using ComplianceConsole.Data.Capture;
using ComplianceConsole.Data.Domain;

namespace ComplianceConsole.Data.Tests;

/// <summary>Signed checkpoints against a real store: what the chain alone cannot show, verify now names.</summary>
public sealed class CheckpointIntegrationTests : IDisposable
{
    private readonly DirectoryInfo _folder = Directory.CreateTempSubdirectory("cc-checkpoints-");

    private async Task<(SqliteTestDatabase Store, CheckpointKey Key, FolderCheckpointSink Sink)> SignedStoreAsync()
    {
        var store = await SqliteTestDatabase.CreateAsync();
        var key = CheckpointKey.LoadOrCreate(Path.Combine(_folder.FullName, "key.pem"));
        var sink = new FolderCheckpointSink(Path.Combine(_folder.FullName, "out"));
        for (var round = 0; round < 3; round++)
        {
            await using (var db = store.Audited())
            {
                for (var i = 0; i < 10; i++)
                {
                    db.Tags.Add(new Tag { Name = $"r{round}-{i}" });
                }

                await db.SaveChangesAsync();
            }

            await using (var db = store.Audited(AuditContext.ForJob("checkpoint")))
            {
                Assert.NotNull(await AuditCheckpoints.SignAsync(db, key, sink, TimeProvider.System));
                Assert.Null(await AuditCheckpoints.SignAsync(db, key, sink, TimeProvider.System)); // the chain has not moved
            }
        }

        return (store, key, sink);
    }

    private static async Task<AuditVerificationReport> VerifyAsync(SqliteTestDatabase store, CheckpointKey key, FolderCheckpointSink sink)
    {
        var read = await sink.ReadAllAsync();
        await using var db = store.Unaudited();
        return await db.VerifyAuditChainAsync(new CheckpointVerifier(read, key.PublicKey), read.Checkpoints.Select(c => c.Checkpoint.Signature).ToHashSet());
    }

    [Fact]
    public async Task An_intact_store_is_proven_up_to_its_last_checkpoint()
    {
        var (store, key, sink) = await SignedStoreAsync();
        await using var _ = store;
        var report = await VerifyAsync(store, key, sink);
        Assert.True(report.IsValid, report.Describe());
        Assert.Contains("complete and unaltered up to seq", report.Describe());
        Assert.Equal(3, (await store.AllEntriesAsync()).Count(e => e.EventName == AuditEventNames.CheckpointSigned));
    }

    [Fact]
    public async Task Truncating_the_newest_entries_is_named_with_the_first_missing_seq()
    {
        var (store, key, sink) = await SignedStoreAsync();
        await using var _ = store;
        var head = (await store.AllEntriesAsync()).Max(e => e.Seq);
        await store.ExecuteRawAsync("DROP TRIGGER audit_entries_refuse_delete");
        await store.ExecuteRawAsync($"DELETE FROM AuditEntries WHERE Seq > {head - 8}");
        var report = await VerifyAsync(store, key, sink);
        Assert.False(report.IsValid);
        Assert.True(report.Chain.IsValid); // the chain alone cannot see it
        Assert.Contains($"entries {head - 7}..", report.Describe());
        Assert.Contains("truncated below checkpoint", report.Describe());
    }

    [Fact]
    public async Task Rewriting_from_an_entry_with_recomputed_hashes_is_named()
    {
        var (store, key, sink) = await SignedStoreAsync();
        await using var _ = store;
        var entries = await store.AllEntriesAsync();
        var from = entries[5].Seq;
        // Someone with write access rewrites from seq 'from' and recomputes every hash after it.
        await store.ExecuteRawAsync("DROP TRIGGER audit_entries_refuse_update");
        var previous = entries[4].RowHash;
        foreach (var entry in entries.Skip(5))
        {
            var forged = HashChain.Seal(entry with { ActorName = "mallory@example.test" }, entry.Seq, previous);
            previous = forged.RowHash;
            await store.ExecuteRawAsync($"UPDATE AuditEntries SET ActorName = 'mallory@example.test', PayloadHash = '{forged.PayloadHash}', RowHash = '{forged.RowHash}' WHERE Seq = {entry.Seq}");
        }

        var report = await VerifyAsync(store, key, sink);
        Assert.True(report.Chain.IsValid); // internally consistent
        Assert.False(report.IsValid);
        Assert.Contains("rewritten", report.Describe());
        Assert.Contains("checkpoints.jsonl:1", report.Describe()); // the first checkpoint that disagrees
    }

    [Fact]
    public async Task A_removed_or_forged_checkpoint_is_named()
    {
        var (store, key, sink) = await SignedStoreAsync();
        await using var _ = store;
        var lines = await File.ReadAllLinesAsync(sink.FilePath);
        await File.WriteAllLinesAsync(sink.FilePath, lines.Take(2)); // the newest line removed: only the chain's record shows it
        var removed = await VerifyAsync(store, key, sink);
        Assert.False(removed.IsValid);
        Assert.Contains("is not in the checkpoint folder", removed.Describe());

        await File.WriteAllLinesAsync(sink.FilePath, [lines[0], lines[1].Replace("\"entryCount\":", "\"entryCount\":1"), lines[2]]);
        var forged = await VerifyAsync(store, key, sink);
        Assert.False(forged.IsValid);
        Assert.Contains("checkpoints.jsonl:2", forged.Describe());
    }

    public void Dispose() => _folder.Delete(recursive: true);
}
