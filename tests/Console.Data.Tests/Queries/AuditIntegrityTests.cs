using ComplianceConsole.Core.Auditing;
using ComplianceConsole.Core.Chain;
using ComplianceConsole.Data.Capture;
using ComplianceConsole.Data.Domain;
using ComplianceConsole.Data.History;
using ComplianceConsole.Data.Interceptors;
using Microsoft.EntityFrameworkCore;

namespace ComplianceConsole.Data.Tests.Queries;

/// <summary>The integrity report: green when everything holds, amber for what is not done yet, red, with the seq, when the chain or the rows were altered.</summary>
public sealed class AuditIntegrityTests : IDisposable
{
    private readonly DirectoryInfo _folder = Directory.CreateTempSubdirectory("cc-integrity-");

    public void Dispose() => _folder.Delete(recursive: true);

    private AuditSpoolSummary EmptySpool() => new AuditSpool(Path.Combine(_folder.FullName, "spool.jsonl")).Summarize();

    private static IntegrityLevel Level(IntegrityReport report, string key) => report.Items.Single(i => i.Key == key).Level;

    private static string Sentence(IntegrityReport report, string key) => report.Items.Single(i => i.Key == key).Sentence;

    [Fact]
    public async Task A_new_store_is_amber_for_what_was_never_done_then_green_once_verified_signed_and_reconciled()
    {
        await using var store = await SqliteTestDatabase.CreateAsync();
        await using (var db = store.Audited())
        {
            db.Tags.Add(new Tag { Name = "integrity" });
            await db.SaveChangesAsync();
        }

        await using (var db = store.Unaudited())
        {
            var first = await AuditIntegrity.ReadAsync(db, EmptySpool(), DateTime.UtcNow);
            Assert.Equal(IntegrityLevel.Amber, first.Level);
            Assert.Equal(["checkpoint", "reconciliation", "verification"], first.Items.Where(i => i.Level == IntegrityLevel.Amber).Select(i => i.Key).Order(StringComparer.Ordinal));
            Assert.Contains("never been verified", Sentence(first, "verification"));
        }

        var key = CheckpointKey.LoadOrCreate(Path.Combine(_folder.FullName, "key.pem"));
        await using (var db = store.Audited(AuditContext.ForJob("checkpoint")))
        {
            Assert.NotNull(await AuditCheckpoints.SignAsync(db, key, new FolderCheckpointSink(Path.Combine(_folder.FullName, "checkpoints")), TimeProvider.System));
            var head = await db.AuditEntries.MaxAsync(e => e.Seq);
            await db.Database.RecordAuditEventAsync(new AuditEventRequest(AuditEventNames.Verified, "audit-chain",
                new Dictionary<string, string?> { ["result"] = "ok", ["throughSeq"] = head.ToString(System.Globalization.CultureInfo.InvariantCulture) }));
            await Reconciler.RecordAsync(db.Database, await Reconciler.RunAsync(db, new AuditOptions()), AuditContext.ForJob("reconcile"));
        }

        await using (var db = store.Unaudited())
        {
            var report = await AuditIntegrity.ReadAsync(db, EmptySpool(), DateTime.UtcNow);
            Assert.True(report.Level == IntegrityLevel.Green, string.Join("\n", report.Items.Select(i => $"{i.Key} {i.Level}: {i.Sentence}")));
            Assert.Contains("agrees with it", Sentence(report, "checkpoint"));
            Assert.Contains("system:checkpoint", Sentence(report, "verification"));

            // A verification grows old.
            Assert.Equal(IntegrityLevel.Amber, Level(await AuditIntegrity.ReadAsync(db, EmptySpool(), DateTime.UtcNow.AddDays(8)), "verification"));
        }

        // A change made outside the console, not sealed yet.
        await store.ExecuteRawAsync("INSERT INTO Tags (Name) VALUES ('outside')");
        await using (var db = store.Unaudited())
        {
            var report = await AuditIntegrity.ReadAsync(db, EmptySpool(), DateTime.UtcNow);
            Assert.Equal(IntegrityLevel.Amber, Level(report, "out-of-band"));
            Assert.Contains("1 change(s)", Sentence(report, "out-of-band"));
        }
    }

    [Fact]
    public async Task A_rewritten_checkpointed_entry_a_broken_verification_and_a_reconcile_mismatch_are_red_and_say_where()
    {
        await using var store = await SqliteTestDatabase.CreateAsync();
        await using (var db = store.Audited())
        {
            db.Tags.Add(new Tag { Name = "signed" });
            await db.SaveChangesAsync();
        }

        long signedSeq;
        var key = CheckpointKey.LoadOrCreate(Path.Combine(_folder.FullName, "key.pem"));
        await using (var db = store.Audited(AuditContext.ForJob("checkpoint")))
        {
            signedSeq = (await AuditCheckpoints.SignAsync(db, key, new FolderCheckpointSink(Path.Combine(_folder.FullName, "checkpoints")), TimeProvider.System))!.Seq;
            await db.Database.RecordAuditEventAsync(new AuditEventRequest(AuditEventNames.Verified, "audit-chain",
                new Dictionary<string, string?> { ["result"] = "broken", ["brokenAtSeq"] = "2", ["problem"] = "its payload hash does not match" }));
            await Reconciler.RecordAsync(db.Database, new ReconcileReport([], [], 3, 10, TimeSpan.FromSeconds(1), signedSeq), AuditContext.ForJob("reconcile"));
        }

        // Someone rewrites the checkpointed entry's row hash (after removing the guard that refuses it).
        await store.DropUpdateGuardAsync();
        await store.ExecuteRawAsync($"UPDATE AuditEntries SET RowHash = '{new string('0', 64)}' WHERE Seq = {signedSeq}");

        await using (var db = store.Unaudited())
        {
            var report = await AuditIntegrity.ReadAsync(db, EmptySpool(), DateTime.UtcNow);
            Assert.Equal(IntegrityLevel.Red, report.Level);
            Assert.Equal(IntegrityLevel.Red, Level(report, "checkpoint"));
            Assert.Contains($"seq {signedSeq:N0}", Sentence(report, "checkpoint"));
            Assert.Contains("rewritten", Sentence(report, "checkpoint"));
            Assert.Equal(IntegrityLevel.Red, Level(report, "verification"));
            Assert.Contains("broken at seq 2", Sentence(report, "verification"));
            Assert.Equal(IntegrityLevel.Red, Level(report, "reconciliation"));
            Assert.Contains("3 row(s) changed without capture", Sentence(report, "reconciliation"));
        }
    }

    [Fact]
    public async Task The_checkpoint_item_judges_the_file_outside_the_database_removed_lines_a_forged_signature_and_a_missing_file_are_red()
    {
        await using var store = await SqliteTestDatabase.CreateAsync();
        var key = CheckpointKey.LoadOrCreate(Path.Combine(_folder.FullName, "key.pem"));
        var sink = new FolderCheckpointSink(Path.Combine(_folder.FullName, "checkpoints"));
        for (var i = 0; i < 2; i++)
        {
            await using (var db = store.Audited())
            {
                db.Tags.Add(new Tag { Name = $"signed-{i}" });
                await db.SaveChangesAsync();
            }

            await using (var db = store.Audited(AuditContext.ForJob("checkpoint")))
            {
                Assert.NotNull(await AuditCheckpoints.SignAsync(db, key, sink, TimeProvider.System));
            }
        }

        async Task<IntegrityItem> ItemAsync(CheckpointFile file)
        {
            await using var db = store.Unaudited();
            return (await AuditIntegrity.ReadAsync(db, EmptySpool(), DateTime.UtcNow, file)).Items.Single(i => i.Key == "checkpoint");
        }

        CheckpointFile Read()
        {
            var read = sink.ReadAllAsync().GetAwaiter().GetResult();
            return new CheckpointFile(sink.FilePath, read.Last, read.Last is { } last && key.PublicKey.Verifies(last), read.Unreadable.Count);
        }

        var whole = Read();
        var green = await ItemAsync(whole);
        Assert.Equal(IntegrityLevel.Green, green.Level);
        Assert.Contains($"in {sink.FilePath}) covers seq {whole.Newest!.Seq:N0}, and the live chain agrees", green.Sentence);

        Assert.Equal(IntegrityLevel.Red, (await ItemAsync(whole with { SignatureValid = false })).Level);
        Assert.Contains("does not verify", (await ItemAsync(whole with { SignatureValid = false })).Sentence);
        Assert.Contains("holds none", (await ItemAsync(whole with { Newest = null })).Sentence);
        Assert.Contains("cannot be read", (await ItemAsync(whole with { UnreadableLines = 1 })).Sentence);

        // The newest line removed from the file: the chain recorded a newer checkpoint than the file holds.
        var lines = await File.ReadAllLinesAsync(sink.FilePath);
        await File.WriteAllLinesAsync(sink.FilePath, lines[..^1]);
        var cut = await ItemAsync(Read());
        Assert.Equal(IntegrityLevel.Red, cut.Level);
        Assert.Contains($"newer than the newest in {sink.FilePath}", cut.Sentence);

        // The chain cut below the file's checkpoint: the entry it covers is gone.
        await File.WriteAllLinesAsync(sink.FilePath, lines);
        await store.ExecuteRawAsync("DROP TRIGGER IF EXISTS audit_entries_refuse_delete");
        await store.ExecuteRawAsync($"DELETE FROM AuditEntries WHERE Seq >= {whole.Newest.Seq}");
        var gone = await ItemAsync(Read());
        Assert.Equal(IntegrityLevel.Red, gone.Level);
        Assert.Contains("gone from the chain", gone.Sentence);
    }
}
