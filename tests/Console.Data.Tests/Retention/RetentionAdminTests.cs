using ComplianceConsole.Core.Auditing;
using ComplianceConsole.Core.Chain;
using ComplianceConsole.Core.Retention;
using ComplianceConsole.Data.Archive;
using ComplianceConsole.Data.Capture;
using ComplianceConsole.Data.Domain;
using ComplianceConsole.Data.Queries;
using ComplianceConsole.Data.Retention;
using ComplianceConsole.Data.Tests.Queries;
using Microsoft.EntityFrameworkCore;

namespace ComplianceConsole.Data.Tests.Retention;

/// <summary>Policies with floors and the four-eyes rule, legal holds, each change an event with its reason; one purge at a time; writers during a purge.</summary>
public sealed class RetentionAdminTests : IAsyncLifetime
{
    private static readonly AuditContext Olivia = new(new AuditActor("u-olivia", "olivia@example.test", ["ComplianceOfficer"]), "page:/retention", "corr-olivia");
    private static readonly AuditContext Omar = new(new AuditActor("u-omar", "omar@example.test", ["ComplianceOfficer"]), "page:/retention", "corr-omar");
    private readonly TestClock _clock = new(new DateTimeOffset(2026, 12, 1, 9, 0, 0, TimeSpan.Zero));
    private readonly DirectoryInfo _folder = Directory.CreateTempSubdirectory("cc-retention-admin-");
    private SqliteTestDatabase _store = null!;
    private RetentionAdmin _admin = null!;

    public async Task InitializeAsync()
    {
        _store = await SqliteTestDatabase.CreateAsync();
        var options = new RetentionOptions { Floors = [new FloorSetting { Scope = "Payments", Days = 365, Regulation = "PCI DSS" }] };
        _admin = new RetentionAdmin(new RetentionPlanner(new AuditSearchService(new AuditVocabulary(), _clock)), options);
    }

    public async Task DisposeAsync()
    {
        await _store.DisposeAsync();
        _folder.Delete(recursive: true);
    }

    private async Task<List<AuditEntry>> EventsAsync(string name) => (await _store.AllEntriesAsync()).Where(e => e.EventName == name).ToList();

    [Fact]
    public async Task Lengthening_applies_at_once_and_shortening_waits_for_a_second_officer()
    {
        await using (var db = _store.Audited(Olivia))
        {
            // From forever, any period shortens; from a year, seven years lengthens.
            Assert.True((await _admin.RequestAsync(db, "Customers", 365, "A year to start with", Olivia.Actor.Name)).Pending);
            await db.RetentionChanges.ExecuteDeleteAsync();
            db.RetentionPolicies.Add(new RetentionPolicy { Scope = "Customers", Days = 365, Reason = "seed", ChangedBy = "seed", ChangedAtUtc = _clock.Now.UtcDateTime });
            await db.SaveChangesAsync();
            var set = await _admin.RequestAsync(db, "Customers", 2557, "Seven years for customer files", Olivia.Actor.Name);
            Assert.True(set.Done && !set.Pending, set.Message);
            var shorten = await _admin.RequestAsync(db, "Customers", 365, "One year is enough", Olivia.Actor.Name);
            Assert.True(shorten.Pending, shorten.Message);
            var again = await _admin.RequestAsync(db, "Customers", 30, "Even shorter", Olivia.Actor.Name);
            Assert.False(again.Done);
            Assert.Contains("already waits for approval", again.Message);
        }

        long change;
        await using (var db = _store.Unaudited())
        {
            Assert.Equal(2557, (await db.RetentionPolicies.SingleAsync(p => p.Scope == "Customers")).Days); // not yet shortened
            change = (await db.RetentionChanges.SingleAsync(c => c.Status == RetentionChange.Pending)).Id;
        }

        await using (var db = _store.Audited(Olivia))
        {
            var own = await _admin.ApproveAsync(db, change, Olivia.Actor.Name);
            Assert.False(own.Done);
            Assert.Contains("a second officer", own.Message);
        }

        await using (var db = _store.Audited(Omar))
        {
            Assert.True((await _admin.ApproveAsync(db, change, Omar.Actor.Name)).Done);
        }

        await using (var check = _store.Unaudited())
        {
            Assert.Equal(365, (await check.RetentionPolicies.SingleAsync(p => p.Scope == "Customers")).Days);
        }

        var changed = await EventsAsync(AuditEventNames.RetentionPolicyChanged);
        Assert.Equal(2, changed.Count); // the lengthening, and the approved shortening
        var approved = EventSummary.Metadata(changed[^1].Metadata);
        Assert.Equal(("2557", "365", "One year is enough", "olivia@example.test", "omar@example.test"),
            (approved["before"], approved["after"], approved["reason"], approved["requestedBy"], approved["approvedBy"]));
        Assert.Equal("omar@example.test", changed[^1].ActorName);
        Assert.Equal(2, (await EventsAsync(AuditEventNames.RetentionPolicyRequested)).Count);
    }

    [Fact]
    public async Task A_floor_a_missing_reason_and_the_anchors_are_refused_with_what_to_do()
    {
        await using var db = _store.Audited(Olivia);
        var below = await _admin.RequestAsync(db, "Payments", 30, "Too much data", Olivia.Actor.Name);
        Assert.False(below.Done);
        Assert.Equal("Payments must keep entries at least 1 year (365 days) under PCI DSS. Choose 365 days or more, or forever.", below.Message);
        var noReason = await _admin.RequestAsync(db, "Payments", 400, "  ", Olivia.Actor.Name);
        Assert.Contains("Give a reason", noReason.Message);
        var anchors = await _admin.RequestAsync(db, RetentionScopes.Anchors, 30, "Tidy up", Olivia.Actor.Name);
        Assert.Contains("kept forever", anchors.Message);
        Assert.Empty(await db.RetentionPolicies.ToListAsync());
        Assert.Empty(await EventsAsync(AuditEventNames.RetentionPolicyChanged));
    }

    [Fact]
    public async Task A_rejected_change_leaves_the_policy_and_records_the_note()
    {
        await using (var db = _store.Audited(Olivia))
        {
            Assert.True((await _admin.RequestAsync(db, "Documents", 30, "Drafts", Olivia.Actor.Name)).Pending);
        }

        await using (var db = _store.Audited(Omar))
        {
            var id = (await db.RetentionChanges.SingleAsync()).Id;
            Assert.False((await _admin.RejectAsync(db, id, Omar.Actor.Name, "")).Done);
            Assert.True((await _admin.RejectAsync(db, id, Omar.Actor.Name, "Legal wants three years")).Done);
            Assert.Empty(await db.RetentionPolicies.ToListAsync());
        }

        var rejected = Assert.Single(await EventsAsync(AuditEventNames.RetentionPolicyRejected));
        Assert.Equal(("Legal wants three years", "rejected"), (EventSummary.Metadata(rejected.Metadata)["note"], EventSummary.Metadata(rejected.Metadata)["outcome"]));
    }

    [Fact]
    public async Task Holds_need_a_valid_query_a_reason_and_a_reference_and_their_release_is_recorded()
    {
        await using var db = _store.Audited(Olivia);
        Assert.Contains("does not parse", (await _admin.PlaceHoldAsync(db, "table:(", null, null, "r", "CASE-1", Olivia.Actor.Name)).Message);
        Assert.Contains("Say what the hold covers", (await _admin.PlaceHoldAsync(db, "", null, null, "r", "CASE-1", Olivia.Actor.Name)).Message);
        Assert.Contains("reference", (await _admin.PlaceHoldAsync(db, "table:Payments", null, null, "r", " ", Olivia.Actor.Name)).Message);
        Assert.True((await _admin.PlaceHoldAsync(db, "table:Payments", null, null, "Inquiry", "CASE-1", Olivia.Actor.Name)).Done);
        var hold = await db.LegalHolds.SingleAsync();
        Assert.False((await _admin.ReleaseHoldAsync(db, hold.Id, "", Olivia.Actor.Name)).Done);
        Assert.True((await _admin.ReleaseHoldAsync(db, hold.Id, "Case closed", Olivia.Actor.Name)).Done);
        Assert.False((await _admin.ReleaseHoldAsync(db, hold.Id, "Again", Olivia.Actor.Name)).Done);

        var placed = Assert.Single(await EventsAsync(AuditEventNames.HoldPlaced));
        var released = Assert.Single(await EventsAsync(AuditEventNames.HoldReleased));
        Assert.Equal(("table:Payments", "CASE-1"), (EventSummary.Metadata(placed.Metadata)["query"], EventSummary.Metadata(placed.Metadata)["reference"]));
        Assert.Equal("Case closed", EventSummary.Metadata(released.Metadata)["reason"]);
    }

    [Fact]
    public async Task The_dry_run_counts_each_scope_its_oldest_entry_what_would_go_and_what_holds_keep()
    {
        var start = _clock.Now;
        await using (var db = _store.Audited(time: _clock))
        {
            _clock.Now = start.AddDays(-400);
            db.Tags.AddRange(Enumerable.Range(0, 30).Select(i => new Tag { Name = $"old {i}" }));
            await db.SaveChangesAsync();
            _clock.Now = start.AddDays(-10);
            await db.Database.RecordAuditEventAsync(new AuditEventRequest(AuditEventNames.LoginFailed, "x@example.test"));
            // Counted into the rollups up to here; what follows is above their mark.
            while (await Rollups.AuditRollups.CatchUpAsync(db) > 0)
            {
            }

            _clock.Now = start.AddDays(-1);
            db.Tags.AddRange(Enumerable.Range(0, 5).Select(i => new Tag { Name = $"new {i}" }));
            await db.SaveChangesAsync();
            _clock.Now = start;
            db.RetentionPolicies.Add(new RetentionPolicy { Scope = "Tags", Days = 30, Reason = "t", ChangedBy = "t", ChangedAtUtc = start.UtcDateTime });
            db.LegalHolds.Add(new LegalHold { Query = "table:Tags record:3", Reason = "t", Reference = "CASE-3", PlacedBy = "t", PlacedAtUtc = start.UtcDateTime });
            await db.SaveChangesAsync();
        }

        await using var check = _store.Unaudited();
        var preview = await _admin.PreviewAsync(check, new AuditOptions());
        var tags = preview.Scopes.Single(s => s.Scope == "Tags");
        Assert.Equal((35L, start.AddDays(-400).UtcDateTime, 29L, 1L), (tags.Entries, tags.OldestUtc, tags.WouldPurge, tags.Held));
        Assert.Equal("CASE-3", Assert.Single(tags.HeldBy).Reference);
        Assert.True(tags.EstimatedBytes > 0);
        var auth = preview.Scopes.Single(s => s.Scope == "auth.*");
        Assert.Equal((1L, start.AddDays(-10).UtcDateTime, 0L), (auth.Entries, auth.OldestUtc, auth.WouldPurge)); // no policy: nothing goes
        Assert.Equal(RetentionScopes.Anchors, preview.Scopes[^1].Scope);
        Assert.Contains(preview.Scopes, s => s.Scope == "Payments" && s.Floor is { Days: 365 });
        Assert.Equal((29L, 1L), (preview.WouldPurge, preview.Held));
    }

    [Fact]
    public async Task Two_purges_at_once_run_one_and_the_other_says_so()
    {
        await using (var db = _store.Audited(time: _clock))
        {
            _clock.Now = _clock.Now.AddDays(-400);
            db.Tags.AddRange(Enumerable.Range(0, 50).Select(i => new Tag { Name = $"old {i}" }));
            await db.SaveChangesAsync();
            _clock.Now = _clock.Now.AddDays(400);
            db.RetentionPolicies.Add(new RetentionPolicy { Scope = "Tags", Days = 30, Reason = "t", ChangedBy = "t", ChangedAtUtc = _clock.Now.UtcDateTime });
            await db.SaveChangesAsync();
        }

        using var key = CheckpointKey.LoadOrCreate(Path.Combine(_folder.FullName, "key.pem"));
        var gate = new TaskCompletionSource();
        var planner = new RetentionPlanner(new AuditSearchService(new AuditVocabulary(), _clock));
        var options = new RetentionOptions();
        var first = new RetentionPurger(planner, options, new FolderArchiveSink(Path.Combine(_folder.FullName, "a")), key, null, _clock)
        {
            Fault = async (step, _) =>
            {
                if (step == PurgeStep.Archived)
                {
                    await gate.Task; // holds its lease while the second one tries
                }
            },
        };
        var second = new RetentionPurger(planner, options, new FolderArchiveSink(Path.Combine(_folder.FullName, "a")), key, null, _clock);
        var running = Task.Run(() => first.RunAsync(() => _store.Audited(AuditContext.ForJob("retention.purge"), _clock), "schedule"));
        await using (var db = _store.Unaudited())
        {
            var deadline = DateTime.UtcNow.AddSeconds(30);
            while (!await db.PurgeRuns.AnyAsync(r => r.Phase == PurgeRun.Archived) && DateTime.UtcNow < deadline)
            {
                await Task.Delay(50);
            }
        }

        var refused = await second.RunAsync(() => _store.Audited(AuditContext.ForJob("retention.purge"), _clock), "Run now");
        gate.SetResult();
        var done = await running;

        Assert.Equal("busy", refused.Status);
        Assert.Contains("Another purge is running", refused.Message);
        Assert.Equal(("done", 50L), (done.Status, done.Deleted));
        Assert.Single(Directory.GetDirectories(Path.Combine(_folder.FullName, "a")));
    }

    [Fact]
    public async Task After_a_kill_the_next_purge_takes_the_dead_processs_lease_and_closes_its_run()
    {
        await using (var db = _store.Unaudited())
        {
            // What a purge killed with -9 leaves: its lease (not yet expired) and its run, still marked running.
            db.JobLeases.Add(new JobLease { Name = RetentionPurger.JobName, Holder = $"{Environment.MachineName}:{int.MaxValue - 7}:dead", ExpiresAtUtc = _clock.Now.UtcDateTime.AddMinutes(9) });
            db.JobRuns.Add(new JobRun { Job = JobNames.Purge, TriggeredBy = "schedule", StartedAtUtc = _clock.Now.UtcDateTime.AddMinutes(-20), HeartbeatAtUtc = _clock.Now.UtcDateTime.AddMinutes(-19), Status = JobRun.Running });
            await db.SaveChangesAsync();
        }

        using var key = CheckpointKey.LoadOrCreate(Path.Combine(_folder.FullName, "key.pem"));
        var purger = new RetentionPurger(new RetentionPlanner(new AuditSearchService(new AuditVocabulary(), _clock)), new RetentionOptions(),
            new FolderArchiveSink(Path.Combine(_folder.FullName, "k")), key, null, _clock);
        var outcome = await purger.RunAsync(() => _store.Audited(AuditContext.ForJob("retention.purge"), _clock), "schedule");

        Assert.NotEqual("busy", outcome.Status);
        await using var check = _store.Unaudited();
        var abandoned = await check.JobRuns.SingleAsync();
        Assert.Equal(JobRun.Failed, abandoned.Status);
        Assert.Contains("stopped without finishing", abandoned.Error);
        Assert.Null(await JobLeases.CurrentAsync(check, RetentionPurger.JobName)); // released at the end

        // A lease of another machine is respected until it expires.
        Assert.False(JobLeases.IsDeadHere("other-host:1:x"));
        Assert.False(JobLeases.IsDeadHere($"{Environment.MachineName}:{Environment.ProcessId}:x"));
    }

    [Fact]
    public async Task Writers_during_a_purge_all_commit_and_are_all_in_the_chain()
    {
        await using (var db = _store.Audited(time: _clock))
        {
            _clock.Now = _clock.Now.AddDays(-400);
            db.Tags.AddRange(Enumerable.Range(0, 3000).Select(i => new Tag { Name = $"old {i}" }));
            await db.SaveChangesAsync();
            _clock.Now = _clock.Now.AddDays(400);
            db.RetentionPolicies.Add(new RetentionPolicy { Scope = "Tags", Days = 30, Reason = "t", ChangedBy = "t", ChangedAtUtc = _clock.Now.UtcDateTime });
            await db.SaveChangesAsync();
        }

        using var key = CheckpointKey.LoadOrCreate(Path.Combine(_folder.FullName, "key.pem"));
        var purger = new RetentionPurger(new RetentionPlanner(new AuditSearchService(new AuditVocabulary(), _clock)), new RetentionOptions { DeleteBatch = 100 },
            new FolderArchiveSink(Path.Combine(_folder.FullName, "w")), key, null, _clock);
        using var stop = new CancellationTokenSource();
        var written = 0;
        var failures = new List<string>();
        var writer = Task.Run(async () =>
        {
            while (!stop.IsCancellationRequested)
            {
                try
                {
                    await using var db = _store.Audited(time: _clock);
                    db.Customers.Add(new Customer { Name = $"During {written}" });
                    await db.SaveChangesAsync();
                    written++;
                }
                catch (Exception ex)
                {
                    failures.Add(ex.Message);
                }
            }
        });

        var outcome = await purger.RunAsync(() => _store.Audited(AuditContext.ForJob("retention.purge"), _clock), "schedule");
        await Task.Delay(200);
        await stop.CancelAsync();
        await writer;

        Assert.Empty(failures);
        Assert.Equal(3000, outcome.Deleted);
        Assert.True(written > 0);
        var entries = await _store.AllEntriesAsync();
        Assert.Equal(written, entries.Count(e => e.TableName == "Customers" && e.Operation == AuditOperations.Insert));
        await using var check = _store.Unaudited();
        Assert.Equal(written, await check.Customers.CountAsync());
        Assert.True((await check.VerifyAuditChainAsync()).IsValid);
    }
}
