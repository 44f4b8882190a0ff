using ComplianceConsole.Core.Auditing;
using ComplianceConsole.Data;
using ComplianceConsole.Data.Capture;
using ComplianceConsole.Data.Domain;
using ComplianceConsole.Data.Interceptors;
using ComplianceConsole.Data.Queries;
using ComplianceConsole.Data.Retention;
using ComplianceConsole.Web.Jobs;
using ComplianceConsole.Web.Setup;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.FileProviders;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace ComplianceConsole.Web.Tests;

/// <summary>A purge that fails is listed as failed, recorded in the chain, shown on /health, and deletes nothing.</summary>
public sealed class RetentionRunnerTests() : ConsoleComponentTest("olivia@example.test", "ComplianceOfficer")
{
    private sealed class Ahead(TimeSpan by) : TimeProvider
    {
        public override DateTimeOffset GetUtcNow() => DateTimeOffset.UtcNow + by;
    }

    private sealed class Host(string root) : IHostEnvironment
    {
        public string EnvironmentName { get; set; } = "Test";
        public string ApplicationName { get; set; } = "ComplianceConsole.Web";
        public string ContentRootPath { get; set; } = root;
        public IFileProvider ContentRootFileProvider { get; set; } = new NullFileProvider();
    }

    [Fact]
    public async Task A_purge_that_cannot_write_its_archive_fails_visibly_and_deletes_nothing()
    {
        var root = Directory.CreateTempSubdirectory("cc-runner-");
        try
        {
            await using (var db = ConsoleDbContextFactory.Create(Settings, b => b.UseAuditTrail(new AuditContextAccessor(AuditContext.ForJob("test")))))
            {
                db.Tags.AddRange(Enumerable.Range(0, 5).Select(i => new Tag { Name = $"tag {i}" }));
                db.RetentionPolicies.Add(new RetentionPolicy { Scope = "Tags", Days = 1, Reason = "t", ChangedBy = "t", ChangedAtUtc = DateTime.UtcNow });
                await db.SaveChangesAsync();
            }

            long before;
            await using (var db = Db())
            {
                before = await db.AuditEntries.LongCountAsync();
            }

            // The archive folder sits under a file: it cannot be created.
            var blocker = Path.Combine(root.FullName, "blocker");
            await File.WriteAllTextAsync(blocker, "not a folder");
            var clock = new Ahead(TimeSpan.FromDays(10));
            var audit = new AuditOptions();
            audit.Checkpoints.Folder = Path.Combine(root.FullName, "checkpoints");
            audit.Checkpoints.KeyPath = Path.Combine(root.FullName, "key.pem");
            var retention = new RetentionOptions { ArchiveFolder = Path.Combine(blocker, "archives") };
            var runner = new RetentionRunner(Settings, Options.Create(retention), Options.Create(audit), new Host(root.FullName),
                new RetentionPlanner(new AuditSearchService(new AuditVocabulary(), clock)), clock, NullLogger<RetentionRunner>.Instance);

            Assert.Null(await runner.RunAsync(AuditContext.ForJob(JobNames.Purge), default));

            await using (var db = Db())
            {
                var run = await db.JobRuns.SingleAsync(r => r.Job == JobNames.Purge);
                Assert.Equal((JobRun.Failed, "schedule"), (run.Status, run.TriggeredBy));
                Assert.False(string.IsNullOrEmpty(run.Error));
                var failed = await db.AuditEntries.SingleAsync(e => e.EventName == AuditEventNames.RetentionPurgeFailed);
                Assert.Equal(run.Error!.Length > 500 ? run.Error[..500] : run.Error, EventSummary.Metadata(failed.Metadata)["reason"]);
                Assert.Equal(before + 1, await db.AuditEntries.LongCountAsync()); // nothing deleted; the failure recorded
                Assert.Equal(0, await db.AuditRemovedRanges.CountAsync());

                var problem = await JobLog.PurgeProblemAsync(db, clock.GetUtcNow().UtcDateTime, retention.StuckMinutes);
                Assert.NotNull(problem);
                Assert.Contains("failed", problem);
                Assert.Contains("Nothing unarchived was deleted", problem);
                var health = await HealthEndpoint.CheckAsync(Services.GetRequiredService<IDbContextFactory<ConsoleDbContext>>(), Services.GetRequiredService<AuditSpool>(), false, default, problem);
                Assert.Equal(("Degraded", problem), (health.Status, health.Message));
            }
        }
        finally
        {
            root.Delete(recursive: true);
        }
    }

    [Fact]
    public async Task A_purge_whose_heartbeat_stopped_is_stuck()
    {
        await using var db = Db();
        var started = DateTime.UtcNow.AddHours(-2);
        db.JobRuns.Add(new JobRun { Job = JobNames.Purge, TriggeredBy = "schedule", StartedAtUtc = started, HeartbeatAtUtc = started, Status = JobRun.Running });
        await db.SaveChangesAsync();

        var problem = await JobLog.PurgeProblemAsync(db, DateTime.UtcNow, stuckMinutes: 30);
        Assert.NotNull(problem);
        Assert.Contains("has not reported for over 30 minutes", problem);
        Assert.Null(await JobLog.PurgeProblemAsync(db, started.AddMinutes(5), stuckMinutes: 30));
    }
}
