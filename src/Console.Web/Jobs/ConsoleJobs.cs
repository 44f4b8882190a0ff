using ComplianceConsole.Core.Auditing;
using ComplianceConsole.Data;
using ComplianceConsole.Data.Archive;
using ComplianceConsole.Data.Capture;
using ComplianceConsole.Data.Queries;
using ComplianceConsole.Data.Retention;
using ComplianceConsole.Web.Auditing;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using Quartz;

namespace ComplianceConsole.Web.Jobs;

/// <summary>
/// Quartz, in one place: the scheduler keeps its jobs and triggers in the console's own database (the ADO job store:
/// QRTZ_* tables, created when missing), one node on SQLite, clustered on SQL Server. The purge runs on the configured
/// cron schedule; a schedule missed while the console was down fires once as soon as it is back (misfire: fire and
/// proceed), and never twice at once (DisallowConcurrentExecution here, the purge's own lease row across nodes).
/// </summary>
public static class ConsoleJobs
{
    public static readonly JobKey PurgeJob = new(JobNames.Purge, "console");
    public static readonly TriggerKey PurgeSchedule = new(JobNames.Purge + ".schedule", "console");

    public static IServiceCollection AddConsoleJobs(this IServiceCollection services, IConfiguration configuration, string contentRoot)
    {
        var database = DatabaseSettings.From(configuration, contentRoot);
        services.Configure<RetentionOptions>(configuration.GetSection("Retention"));
        services.AddSingleton(sp => new RetentionPlanner(sp.GetRequiredService<AuditSearchService>()));
        services.AddSingleton(sp => new RetentionAdmin(sp.GetRequiredService<RetentionPlanner>(), sp.GetRequiredService<IOptions<RetentionOptions>>().Value));
        services.AddSingleton<RetentionRunner>();
        services.AddSingleton<JobsService>();
        services.AddScoped<RetentionActions>();

        var retention = configuration.GetSection("Retention").Get<RetentionOptions>() ?? new RetentionOptions();
        Validate(retention, database.Provider);
        services.AddQuartz(q =>
        {
            q.ConfigureScheduler(o =>
            {
                o.InstanceName = "ComplianceConsole";
                o.GenerateInstanceId = true; // a cluster node per process on SQL Server
            });
            q.UsePersistentStore(store =>
            {
                store.UseSystemTextJsonSerializer();
                store.ProvisionSchema();
                if (database.Provider == DatabaseProvider.SqlServer)
                {
                    store.UseSqlServer(database.ConnectionString);
                    store.UseClustering(); // every node runs the scheduler; a trigger fires on one of them
                }
                else
                {
                    store.UseSqlite(database.ConnectionString); // Quartz refuses clustering on SQLite: one node
                }
            });
            q.AddJob<RetentionPurgeJob>(j => j.WithIdentity(PurgeJob).StoreDurably().DisallowConcurrentExecution()
                .WithDescription("Archive, verify, anchor and delete expired audit entries"));
            if (!string.IsNullOrWhiteSpace(retention.Schedule))
            {
                q.AddTrigger(t => t.ForJob(PurgeJob).WithIdentity(PurgeSchedule).WithSchedule(CronScheduleBuilder.Create(retention.Schedule)
                    .InTimeZone(TimeZoneInfo.Utc).WithMisfireInstruction(CronTriggerMisfireInstruction.FireAndProceed)));
            }
        });
        services.AddQuartzHostedService(o =>
        {
            o.WaitForJobsToComplete = true;
            // Retention:RunsHere false: the scheduler stays in standby, so it fires nothing; Run now on this node still
            // asks the clustered store, and a node that runs the purge picks it up.
            o.AutoStart = retention.RunsHere;
        });
        return services;
    }

    /// <summary>A bad Retention setting stops start-up with what to write instead: never a purge on a surprising schedule or below a floor.</summary>
    internal static void Validate(RetentionOptions options, DatabaseProvider provider = DatabaseProvider.Sqlite)
    {
        if (!options.RunsHere && provider != DatabaseProvider.SqlServer)
        {
            throw new InvalidOperationException("Retention:RunsHere is false, but on SQLite this console is the only node: nothing would ever run the purge. "
                + "Remove the setting (or set it to true); it is for SQL Server nodes whose login is not in cc_audit_purger.");
        }

        if (!string.IsNullOrWhiteSpace(options.Schedule))
        {
            try
            {
                _ = new CronExpression(options.Schedule);
            }
            catch (Exception ex) when (ex is FormatException or ArgumentException)
            {
                throw new InvalidOperationException($"Retention:Schedule \"{options.Schedule}\" is not a Quartz cron expression ({ex.Message}). "
                    + "Write six fields, seconds minutes hours day-of-month month day-of-week, in UTC: \"0 30 2 * * ?\" runs daily at 02:30. Leave it empty to purge only on Run now.");
            }
        }

        if (options.DeleteBatch is < 1 or > 100_000)
        {
            throw new InvalidOperationException($"Retention:DeleteBatch is {options.DeleteBatch}: write a number of entries per delete transaction from 1 to 100,000 (2000 keeps a writer's wait short).");
        }

        if (options.LeaseMinutes < 1 || options.StuckMinutes < 1)
        {
            throw new InvalidOperationException("Retention:LeaseMinutes and Retention:StuckMinutes are minutes, at least 1 (defaults 10 and 30).");
        }

        foreach (var floor in options.Floors)
        {
            if (string.IsNullOrWhiteSpace(floor.Scope) || string.IsNullOrWhiteSpace(floor.Regulation) || floor.Days is < 1 or > Core.Retention.RetentionRules.MaxDays)
            {
                throw new InvalidOperationException($"Retention:Floors has an entry with Scope \"{floor.Scope}\", Days {floor.Days}, Regulation \"{floor.Regulation}\": "
                    + "each floor needs a Scope (a table such as Payments, or an event family such as auth.*), Days from 1 to 36,500 and the Regulation that sets it.");
            }
        }
    }
}

/// <summary>The purge as a Quartz job: who asked (the schedule, or the person who pressed Run now) travels in its data map.</summary>
public sealed class RetentionPurgeJob(RetentionRunner runner) : IJob
{
    public const string ActorId = "actorId";
    public const string ActorName = "actorName";
    public const string ActorRoles = "actorRoles";
    public const string Origin = "origin";

    public async ValueTask Execute(IJobExecutionContext context, CancellationToken cancellationToken)
    {
        var data = context.MergedJobDataMap;
        var who = data.ContainsKey(ActorName)
            ? new AuditContext(new AuditActor(data.GetString(ActorId) ?? "", data.GetString(ActorName) ?? "", (data.GetString(ActorRoles) ?? "").Split(',', StringSplitOptions.RemoveEmptyEntries)),
                data.GetString(Origin) ?? "page:/jobs", Guid.NewGuid().ToString("N"))
            : AuditContext.ForJob(JobNames.Purge);
        await runner.RunAsync(who, cancellationToken);
    }
}

/// <summary>Runs one purge: the run is listed on /jobs from start to end, and a failure is recorded in the chain and the list.</summary>
public sealed class RetentionRunner(DatabaseSettings settings, IOptions<RetentionOptions> retention, IOptions<AuditOptions> audit, IHostEnvironment host,
    RetentionPlanner planner, TimeProvider time, ILogger<RetentionRunner> log)
{
    public IArchiveSink Sink => new FolderArchiveSink(ContentPath.Resolve(retention.Value.ArchiveFolder, host.ContentRootPath));

    public async Task<PurgeOutcome?> RunAsync(AuditContext who, CancellationToken cancellationToken)
    {
        var by = who.Actor.Name;
        ConsoleDbContext Open() => ConsoleDbContextFactory.Create(settings, b => b.UseAuditTrail(new AuditContextAccessor(who), time));
        long runId;
        await using (var db = Open())
        {
            runId = await JobLog.StartAsync(db, JobNames.Purge, by.StartsWith("system:", StringComparison.Ordinal) ? "schedule" : by, time.GetUtcNow().UtcDateTime, cancellationToken);
        }

        var (key, checkpoints) = CheckpointService.Open(audit.Value.Checkpoints, host.ContentRootPath);
        using (key)
        {
            try
            {
                var purger = new RetentionPurger(planner, retention.Value, Sink, key, checkpoints, time);
                var outcome = await purger.RunAsync(Open, by, runId, cancellationToken);
                await using var db = Open();
                await JobLog.FinishAsync(db, runId, time.GetUtcNow().UtcDateTime, null, outcome.Message,
                    new JobFigures(outcome.Archived, outcome.Deleted, outcome.Location, outcome.ManifestSha256));
                log.LogInformation("Retention purge: {Message}", outcome.Message);
                return outcome;
            }
            catch (Exception ex)
            {
                log.LogError(ex, "The retention purge failed; nothing it had not archived, verified and anchored was deleted.");
                var reason = ex is OperationCanceledException ? "It was stopped (the console shut down); the next run finishes it." : ex.Message;
                await using var db = Open();
                await JobLog.FinishAsync(db, runId, time.GetUtcNow().UtcDateTime, reason, null);
                await db.Database.RecordAuditEventAsync(new AuditEventRequest(AuditEventNames.RetentionPurgeFailed, "retention/purge",
                    new Dictionary<string, string?> { ["reason"] = reason.Length > 500 ? reason[..500] : reason }), CancellationToken.None);
                return null;
            }
        }
    }
}

/// <summary>What /jobs and /health read about the jobs: the schedule, the runs, whether a purge failed or is stuck; and Run now.</summary>
public sealed class JobsService(ISchedulerFactory schedulers, DatabaseSettings settings, IOptions<RetentionOptions> retention, IOptions<AuditOptions> audit,
    IHostEnvironment host, TimeProvider time)
{
    public RetentionOptions Options => retention.Value;

    /// <summary>The purge's cron expression and next fire time (UTC), or nulls when it runs only on demand.</summary>
    public async Task<(string? Cron, DateTimeOffset? Next)> PurgeScheduleAsync(CancellationToken cancellationToken = default)
    {
        var scheduler = await schedulers.GetScheduler(cancellationToken);
        var trigger = await scheduler.GetTrigger(ConsoleJobs.PurgeSchedule, cancellationToken);
        return trigger is null ? (null, null) : (retention.Value.Schedule, trigger.NextFireTimeUtc);
    }

    /// <summary>Asks Quartz to run the purge now, as <paramref name="who"/>. False when a purge is already running.</summary>
    public async Task<bool> RunPurgeNowAsync(AuditContext who, CancellationToken cancellationToken = default)
    {
        await using (var db = ConsoleDbContextFactory.Create(settings))
        {
            if (await JobLeases.CurrentAsync(db, JobNames.Purge, cancellationToken) is { } lease && lease.ExpiresAtUtc > time.GetUtcNow().UtcDateTime
                && !JobLeases.IsDeadHere(lease.Holder))
            {
                return false;
            }
        }

        var scheduler = await schedulers.GetScheduler(cancellationToken);

        await scheduler.TriggerJob(ConsoleJobs.PurgeJob, new JobDataMap
        {
            [RetentionPurgeJob.ActorId] = who.Actor.Id, [RetentionPurgeJob.ActorName] = who.Actor.Name,
            [RetentionPurgeJob.ActorRoles] = string.Join(',', who.Actor.Roles), [RetentionPurgeJob.Origin] = who.Origin,
        }, cancellationToken);
        return true;
    }

    /// <summary>Signs a checkpoint, or brings the rollups and the text index up to the head, now: the run is listed like a scheduled one.</summary>
    public async Task<RetentionResult> RunNowAsync(string job, AuditContext who, CancellationToken cancellationToken = default)
    {
        var started = time.GetUtcNow().UtcDateTime;
        string? error = null, summary = null;
        try
        {
            if (job == JobNames.Checkpoint)
            {
                var (key, sink) = CheckpointService.Open(audit.Value.Checkpoints, host.ContentRootPath);
                using (key)
                {
                    await using var signing = ConsoleDbContextFactory.Create(settings, b => b.UseAuditTrail(new AuditContextAccessor(who), time));
                    var checkpoint = await AuditCheckpoints.SignAsync(signing, key, sink, time, cancellationToken);
                    summary = checkpoint is null ? "The chain had not moved since the last checkpoint: nothing to sign." : $"Signed seq {checkpoint.Seq:N0} into {sink.FilePath}.";
                }
            }
            else
            {
                long counted = 0, step;
                do
                {
                    await using var db = ConsoleDbContextFactory.Create(settings);
                    counted += step = await Data.Rollups.AuditRollups.CatchUpAsync(db, cancellationToken: cancellationToken);
                    await AuditTextIndex.CatchUpAsync(db, Data.Rollups.AuditRollups.DefaultBatch, cancellationToken);
                }
                while (step > 0);
                summary = $"Counted {counted:N0} entries into the rollups; the text index is current.";
            }
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            error = ex.Message;
        }

        await using (var db = ConsoleDbContextFactory.Create(settings))
        {
            await JobLog.RecordAsync(db, job, who.Actor.Name, started, time.GetUtcNow().UtcDateTime, error, summary, CancellationToken.None);
        }

        return new RetentionResult(error is null, error is null ? summary! : $"It failed: {error}");
    }

    /// <summary>The newest runs, optionally of one job.</summary>
    public async Task<List<JobRun>> RunsAsync(string? job, int take, CancellationToken cancellationToken = default)
    {
        await using var db = ConsoleDbContextFactory.Create(settings);
        var runs = db.JobRuns.AsNoTracking();
        if (job is not null)
        {
            runs = runs.Where(r => r.Job == job);
        }

        return await runs.OrderByDescending(r => r.StartedAtUtc).ThenByDescending(r => r.Id).Take(take).ToListAsync(cancellationToken);
    }

    /// <summary>The newest run's id (of one job, or of all): a page showing the runs reloads when it moves.</summary>
    public async Task<long?> NewestRunIdAsync(string? job, CancellationToken cancellationToken = default)
    {
        await using var db = ConsoleDbContextFactory.Create(settings);
        return await db.JobRuns.AsNoTracking().Where(r => job == null || r.Job == job).MaxAsync(r => (long?)r.Id, cancellationToken);
    }

    /// <summary>The purge's trouble, if any (<see cref="JobLog.PurgeProblemAsync"/>).</summary>
    public async Task<string?> PurgeProblemAsync(CancellationToken cancellationToken = default)
    {
        await using var db = ConsoleDbContextFactory.Create(settings);
        return await JobLog.PurgeProblemAsync(db, time.GetUtcNow().UtcDateTime, retention.Value.StuckMinutes, cancellationToken);
    }
}
