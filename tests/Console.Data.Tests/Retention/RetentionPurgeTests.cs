using ComplianceConsole.Core.Auditing;
using ComplianceConsole.Core.Chain;
using ComplianceConsole.Data.Archive;
using ComplianceConsole.Data.Capture;
using ComplianceConsole.Data.Domain;
using ComplianceConsole.Data.History;
using ComplianceConsole.Data.Queries;
using ComplianceConsole.Data.Retention;
using ComplianceConsole.Data.Tests.Queries;
using Microsoft.EntityFrameworkCore;

namespace ComplianceConsole.Data.Tests.Retention;

/// <summary>
/// The purge end to end on a real SQLite file: archive, verify, anchor, delete; a chain with holes that still verifies; a
/// legal hold respected; history and reconciliation after the purge; and a failure at each step finished by the next run.
/// </summary>
public sealed class RetentionPurgeTests : IAsyncLifetime
{
    private static readonly DateTimeOffset Long = new(2025, 1, 10, 9, 0, 0, TimeSpan.Zero);
    private static readonly DateTimeOffset Today = new(2026, 12, 1, 9, 0, 0, TimeSpan.Zero);
    private readonly DirectoryInfo _folder = Directory.CreateTempSubdirectory("cc-retention-");
    private readonly TestClock _clock = new(Long);
    private SqliteTestDatabase _store = null!;
    private CheckpointKey _key = null!;

    private string Archives => Path.Combine(_folder.FullName, "archives");

    public async Task InitializeAsync()
    {
        _store = await SqliteTestDatabase.CreateAsync();
        _key = CheckpointKey.LoadOrCreate(Path.Combine(_folder.FullName, "key.pem"));

        // Long ago: twenty tags, each renamed once, three deleted; a failed login. Then, recently, more changes.
        await using (var db = _store.Audited(time: _clock))
        {
            db.Tags.AddRange(Enumerable.Range(0, 20).Select(i => new Tag { Name = $"tag {i}" }));
            await db.SaveChangesAsync();
            _clock.Now = Long.AddHours(1);
            foreach (var tag in db.Tags)
            {
                tag.Name += " (renamed)";
            }

            await db.SaveChangesAsync();
            await db.Tags.Where(t => t.Id <= 3).ExecuteDeleteAsync();
            await db.Database.RecordAuditEventAsync(new AuditEventRequest(AuditEventNames.LoginFailed, "someone@example.test"));
            _clock.Now = Today.AddDays(-2);
            var recent = await db.Tags.SingleAsync(t => t.Id == 10);
            recent.Name = "tag 10 (recent)";
            db.Customers.Add(new Customer { Name = "Recent Ltd" });
            await db.SaveChangesAsync();
        }

        _clock.Now = Today;
    }

    public async Task DisposeAsync()
    {
        _key.Dispose();
        await _store.DisposeAsync();
        _folder.Delete(recursive: true);
    }

    private RetentionPurger Purger(Func<PurgeStep, long, ValueTask>? fault = null, int batch = 7) =>
        new(new RetentionPlanner(new AuditSearchService(new AuditVocabulary(), _clock)), new RetentionOptions { DeleteBatch = batch },
            new FolderArchiveSink(Archives), _key, null, _clock) { Fault = fault };

    private Task<PurgeOutcome> PurgeAsync(RetentionPurger purger) =>
        purger.RunAsync(() => _store.Audited(AuditContext.ForJob(RetentionPurger.JobName), _clock), "schedule");

    private async Task SetPolicyAsync(string scope, int? days)
    {
        await using var db = _store.Unaudited();
        db.RetentionPolicies.Add(new RetentionPolicy { Scope = scope, Days = days, Reason = "test", ChangedBy = "test", ChangedAtUtc = Today.UtcDateTime });
        await db.SaveChangesAsync();
    }

    private async Task<AuditVerificationReport> VerifyAsync()
    {
        await using var db = _store.Unaudited();
        return await db.VerifyAuditChainAsync();
    }

    [Fact]
    public async Task A_purge_archives_verifies_anchors_and_deletes_and_the_chain_with_holes_still_verifies()
    {
        await SetPolicyAsync("Tags", 365);
        await SetPolicyAsync("auth.*", 30);
        var before = await _store.AllEntriesAsync();
        var expired = before.Where(e => e.OccurredAtUtc < Today.UtcDateTime.AddDays(-30) && (e.TableName == "Tags" || e.EventName == AuditEventNames.LoginFailed)).ToList();

        var outcome = await PurgeAsync(Purger());

        Assert.Equal("done", outcome.Status);
        Assert.Equal(expired.Count, outcome.Archived);
        Assert.Equal(expired.Count, outcome.Deleted);
        var after = await _store.AllEntriesAsync();
        Assert.DoesNotContain(after, e => expired.Any(x => x.Seq == e.Seq));
        Assert.Contains(after, e => e.TableName == "Customers"); // no policy: kept
        Assert.Contains(after, e => e.EventName == AuditTriggerInstaller.CaptureChangedEvent); // audit.* has no policy

        var report = await VerifyAsync();
        Assert.True(report.IsValid, report.Describe());
        Assert.Equal(expired.Count, report.Chain.EntriesRemoved);

        var archive = await ArchiveVerifier.VerifyAsync(outcome.Location!, _key.PublicKey);
        Assert.True(archive.IsValid, string.Join(" ", archive.Problems));
        Assert.Equal(expired.Count, archive.EntriesChecked);
        Assert.Equal(expired.Select(e => e.Seq), (await System.IO.File.ReadAllLinesAsync(Path.Combine(outcome.Location!, "entries.jsonl")))
            .Select(l => System.Text.Json.JsonDocument.Parse(l).RootElement.GetProperty("seq").GetInt64()));

        var anchor = Assert.Single(after, e => e.EventName == AuditEventNames.RetentionPurged);
        var details = EventSummary.Metadata(anchor.Metadata);
        Assert.Equal((outcome.RunId, archive.Manifest!.Hash()), (details[AnchorFields.RunId], details[AnchorFields.ManifestSha256]));
    }

    [Fact]
    public async Task History_and_reconciliation_still_work_for_a_purged_record()
    {
        await SetPolicyAsync("Tags", 30);
        await PurgeAsync(Purger());

        await using var db = _store.Unaudited();
        var reconcile = await Reconciler.RunAsync(db, new AuditOptions());
        Assert.True(reconcile.Clean, string.Join(" ", reconcile.Mismatches.Select(m => m.Describe())));

        // Tag 5: every entry purged, a snapshot keeps its state; tag 10: its old entries purged, its recent rename live.
        var five = await db.AuditEntries.Where(e => e.TableName == "Tags" && e.RecordKey == "{\"Id\":5}").ToListAsync();
        var snapshot = Assert.Single(five);
        Assert.Equal(AuditEventNames.RetentionSnapshot, snapshot.EventName);
        Assert.Equal("tag 4 (renamed)", Core.History.RecordHistory.Replay(five)["Name"]!.Value.GetString());
        var ten = await db.AuditEntries.Where(e => e.TableName == "Tags" && e.RecordKey == "{\"Id\":10}").ToListAsync();
        Assert.Equal("tag 10 (recent)", Core.History.RecordHistory.Replay(ten)["Name"]!.Value.GetString());
        Assert.DoesNotContain(await db.AuditEntries.Where(e => e.TableName == "Tags" && e.RecordKey == "{\"Id\":2}").ToListAsync(),
            e => e.EventName == AuditEventNames.RetentionSnapshot); // deleted before the cut: nothing to keep

        // The purge snapshotted many tags in one transaction: that does not make them "changed in the same transactions".
        var history = new RecordHistoryQuery(new ComplianceConsole.Data.Queries.AuditSearchService(new ComplianceConsole.Data.Queries.AuditVocabulary(), TimeProvider.System));
        Assert.Empty(await history.RelatedAsync(db, new RecordRef("Tags", "{\"Id\":5}"), []));
    }

    [Fact]
    public async Task A_legal_hold_keeps_its_entries_and_the_run_reports_them()
    {
        await SetPolicyAsync("Tags", 30);
        await using (var db = _store.Unaudited())
        {
            db.LegalHolds.Add(new LegalHold { Query = "table:Tags record:7", Reason = "litigation", Reference = "CASE-1", PlacedBy = "olivia", PlacedAtUtc = Today.UtcDateTime });
            await db.SaveChangesAsync();
        }

        var outcome = await PurgeAsync(Purger());

        Assert.Equal(2, outcome.Held); // the insert and the rename of tag 7
        var kept = (await _store.AllEntriesAsync()).Where(e => e.TableName == "Tags" && e.RecordKey == "{\"Id\":7}" && e.Operation != AuditOperations.Event).ToList();
        Assert.Equal(2, kept.Count);
        var archive = await ArchiveVerifier.VerifyAsync(outcome.Location!, _key.PublicKey);
        Assert.Equal(2, Assert.Single(archive.Manifest!.Holds).Held);
        Assert.True((await VerifyAsync()).IsValid);
    }

    [Fact]
    public async Task Entries_a_hold_kept_after_they_were_archived_go_at_the_next_run_once_it_is_released()
    {
        await SetPolicyAsync("Tags", 30);
        bool Tag7(AuditEntry e) => e.TableName == "Tags" && e.RecordKey == "{\"Id\":7}" && e.Operation != AuditOperations.Event;

        // The hold is placed after the run archived and anchored tag 7's entries, before it deleted them: they stay.
        var first = await PurgeAsync(Purger(async (step, _) =>
        {
            if (step == PurgeStep.Anchored)
            {
                await using var db = _store.Unaudited();
                db.LegalHolds.Add(new LegalHold { Query = "table:Tags record:7", Reason = "litigation", Reference = "CASE-1", PlacedBy = "olivia", PlacedAtUtc = Today.UtcDateTime });
                await db.SaveChangesAsync();
            }
        }));
        Assert.Equal("done", first.Status);
        Assert.Equal(2, (await _store.AllEntriesAsync()).Count(Tag7));

        // The case closes; nothing else has expired since. The next run deletes what the hold kept (archived and anchored
        // by the first run), writes no new archive, and says so; the run after it has nothing to do.
        await using (var db = _store.Unaudited())
        {
            await db.LegalHolds.ExecuteUpdateAsync(s => s.SetProperty(h => h.ReleasedAtUtc, Today.UtcDateTime).SetProperty(h => h.ReleasedBy, "olivia").SetProperty(h => h.ReleaseReason, "case closed"));
        }

        _clock.Now = Today.AddHours(1);
        var second = await PurgeAsync(Purger());
        Assert.Equal("done", second.Status);
        Assert.Equal((0L, 2L, 0L), (second.Archived, second.Deleted, second.Held));
        Assert.Contains("released", second.Message);
        Assert.DoesNotContain(await _store.AllEntriesAsync(), Tag7);
        var archive = Assert.Single(Directory.GetDirectories(Archives)); // the first run's archive holds them
        var archived = (await File.ReadAllLinesAsync(Path.Combine(archive, Core.Retention.ArchiveManifest.EntriesJson))).Select(l => System.Text.Json.JsonDocument.Parse(l).RootElement);
        Assert.Equal(2, archived.Count(e => e.GetProperty("subject").GetString() == "Tags" && e.GetProperty("record").GetString() == "{\"Id\":7}"));
        var report = await VerifyAsync();
        Assert.True(report.IsValid, report.Describe());
        Assert.Equal("nothing", (await PurgeAsync(Purger())).Status);
    }

    [Fact]
    public void The_delete_covers_far_apart_ranges_in_their_own_windows_and_near_ones_in_shared_windows()
    {
        Assert.Equal([(1L, 10L), (11L, 12L), (1000L, 1005L)], RetentionPurger.Windows([(1, 5), (8, 12), (1000, 1005)], 10).ToList());
        Assert.Equal([(5L, 5L)], RetentionPurger.Windows([(5, 5)], 2000).ToList());
        Assert.Empty(RetentionPurger.Windows([], 2000));
    }

    [Theory]
    [InlineData(PurgeStep.WritingArchive)]
    [InlineData(PurgeStep.Archived)]
    [InlineData(PurgeStep.Anchored)]
    [InlineData(PurgeStep.Deleting)]
    public async Task A_run_that_fails_at_any_step_is_finished_by_the_next_with_one_archive_and_one_anchor(PurgeStep failAt)
    {
        await SetPolicyAsync("Tags", 30);
        var expected = (await _store.AllEntriesAsync()).Count(e => e.TableName == "Tags" && e.OccurredAtUtc < Today.UtcDateTime.AddDays(-30));

        var crash = Purger(async (step, rows) =>
        {
            await Task.Yield();
            if (step == failAt)
            {
                throw new IOException($"simulated crash at {step}");
            }
        }, batch: 5);
        await Assert.ThrowsAsync<IOException>(() => PurgeAsync(crash));

        // Whatever was left, the store still verifies, and nothing was deleted that no verified archive holds.
        var midway = await VerifyAsync();
        Assert.True(midway.IsValid, midway.Describe());
        var anchorsMidway = (await _store.AllEntriesAsync()).Count(e => e.EventName == AuditEventNames.RetentionPurged);
        Assert.Equal(failAt is PurgeStep.Anchored or PurgeStep.Deleting ? 1 : 0, anchorsMidway);

        var outcome = await PurgeAsync(Purger());

        Assert.Equal("done", outcome.Status);
        Assert.True(outcome.Resumed);
        var after = await _store.AllEntriesAsync();
        Assert.Single(after, e => e.EventName == AuditEventNames.RetentionPurged);
        Assert.DoesNotContain(after, e => e.TableName == "Tags" && e.OccurredAtUtc < Today.UtcDateTime.AddDays(-30) && e.Operation != AuditOperations.Event);
        Assert.Single(Directory.GetDirectories(Archives)); // archived once, nothing half-written left
        var archive = await ArchiveVerifier.VerifyAsync(outcome.Location!, _key.PublicKey);
        Assert.True(archive.IsValid, string.Join(" ", archive.Problems));
        Assert.Equal(expected, archive.Manifest!.Entries);
        var report = await VerifyAsync();
        Assert.True(report.IsValid, report.Describe());

        // And a third run finds nothing left to do.
        Assert.Equal("nothing", (await PurgeAsync(Purger())).Status);
    }

    [Fact]
    public async Task The_store_refuses_a_delete_outside_a_purge_and_any_change_to_a_removed_range()
    {
        await SetPolicyAsync("Tags", 30);
        await PurgeAsync(Purger());

        var live = (await _store.AllEntriesAsync()).First(e => e.TableName == "Customers");
        var refused = await Assert.ThrowsAnyAsync<Exception>(() => _store.ExecuteRawAsync($"DELETE FROM AuditEntries WHERE Seq = {live.Seq}"));
        Assert.Contains("append-only", refused.Message);
        refused = await Assert.ThrowsAnyAsync<Exception>(() => _store.ExecuteRawAsync("DELETE FROM AuditRemovedRanges"));
        Assert.Contains("append-only", refused.Message);
        refused = await Assert.ThrowsAnyAsync<Exception>(() => _store.ExecuteRawAsync("UPDATE AuditRemovedRanges SET ThroughSeq = ThroughSeq + 1"));
        Assert.Contains("append-only", refused.Message);
    }

    [Fact]
    public async Task Verification_catches_a_forged_removal_and_a_tampered_archive()
    {
        await SetPolicyAsync("Tags", 30);
        var outcome = await PurgeAsync(Purger());

        // Someone drops the guard, deletes a live entry and records a removed range for it: no anchor digest matches.
        var live = (await _store.AllEntriesAsync()).First(e => e.TableName == "Customers");
        await _store.ExecuteRawAsync("DROP TRIGGER audit_entries_refuse_delete");
        await _store.ExecuteRawAsync($"INSERT INTO AuditRemovedRanges (FirstSeq, ThroughSeq, LastRowHash, RunId) VALUES ({live.Seq}, {live.Seq}, '{live.RowHash}', '{outcome.RunId}')");
        await _store.ExecuteRawAsync($"DELETE FROM AuditEntries WHERE Seq = {live.Seq}");
        var report = await VerifyAsync();
        Assert.False(report.Chain.IsValid);
        Assert.Contains("do not match what its anchor recorded", report.Chain.Problem);

        // An archive file edited after the run: its SHA-256 no longer matches the signed manifest.
        var csv = Path.Combine(outcome.Location!, "entries.csv");
        await System.IO.File.AppendAllTextAsync(csv, "x");
        var archive = await ArchiveVerifier.VerifyAsync(outcome.Location!, _key.PublicKey);
        Assert.False(archive.IsValid);
        Assert.Contains(archive.Problems, p => p.Contains("entries.csv"));
    }
}
