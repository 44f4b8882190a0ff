using Microsoft.EntityFrameworkCore;

namespace ComplianceConsole.Data.Retention;

/// <summary>The runs of every job, as /jobs lists them: started, heartbeat while it runs, finished with its figures or its error.</summary>
public static class JobLog
{
    public static async Task<long> StartAsync(ConsoleDbContext db, string job, string triggeredBy, DateTime nowUtc, CancellationToken cancellationToken = default)
    {
        var run = new JobRun { Job = job, TriggeredBy = triggeredBy, StartedAtUtc = nowUtc, HeartbeatAtUtc = nowUtc, Status = JobRun.Running };
        db.JobRuns.Add(run);
        await db.SaveChangesAsync(cancellationToken);
        db.Entry(run).State = EntityState.Detached;
        return run.Id;
    }

    public static Task HeartbeatAsync(ConsoleDbContext db, long id, DateTime nowUtc, CancellationToken cancellationToken = default) =>
        db.JobRuns.Where(r => r.Id == id).ExecuteUpdateAsync(s => s.SetProperty(r => r.HeartbeatAtUtc, nowUtc), cancellationToken);

    public static Task FinishAsync(ConsoleDbContext db, long id, DateTime nowUtc, string? error, string? summary, JobFigures? figures = null) =>
        db.JobRuns.Where(r => r.Id == id).ExecuteUpdateAsync(s => s
            .SetProperty(r => r.Status, error is null ? JobRun.Succeeded : JobRun.Failed)
            .SetProperty(r => r.FinishedAtUtc, nowUtc)
            .SetProperty(r => r.HeartbeatAtUtc, nowUtc)
            .SetProperty(r => r.Error, error == null ? null : error.Length > 4000 ? error.Substring(0, 4000) : error)
            .SetProperty(r => r.Summary, summary == null ? null : summary.Length > 2000 ? summary.Substring(0, 2000) : summary)
            .SetProperty(r => r.RowsArchived, figures == null ? 0 : figures.Archived)
            .SetProperty(r => r.RowsDeleted, figures == null ? 0 : figures.Deleted)
            .SetProperty(r => r.ArchiveLocation, figures == null ? null : figures.Location)
            .SetProperty(r => r.ArchiveSha256, figures == null ? null : figures.Sha256), CancellationToken.None);

    /// <summary>A run recorded once it is over (short, frequent work: a checkpoint, a rollup pass).</summary>
    public static async Task RecordAsync(ConsoleDbContext db, string job, string triggeredBy, DateTime startedUtc, DateTime finishedUtc, string? error, string? summary,
        CancellationToken cancellationToken = default)
    {
        var run = new JobRun
        {
            Job = job, TriggeredBy = triggeredBy, StartedAtUtc = startedUtc, FinishedAtUtc = finishedUtc, HeartbeatAtUtc = finishedUtc,
            Status = error is null ? JobRun.Succeeded : JobRun.Failed, Error = error?.Length > 4000 ? error[..4000] : error, Summary = summary?.Length > 2000 ? summary[..2000] : summary,
        };
        db.JobRuns.Add(run);
        await db.SaveChangesAsync(cancellationToken);
        db.Entry(run).State = EntityState.Detached;
    }

    /// <summary>The purge's trouble, if any: its newest run failed, or a run has been silent longer than <paramref name="stuckMinutes"/>.</summary>
    public static async Task<string?> PurgeProblemAsync(ConsoleDbContext db, DateTime nowUtc, int stuckMinutes, CancellationToken cancellationToken = default)
    {
        stuckMinutes = Math.Max(1, stuckMinutes);
        if (await Stuck(db, nowUtc, TimeSpan.FromMinutes(stuckMinutes)).Where(r => r.Job == JobNames.Purge).FirstOrDefaultAsync(cancellationToken) is { } stuck)
        {
            return $"The retention purge started {stuck.StartedAtUtc:yyyy-MM-dd HH:mm} UTC has not reported for over {stuckMinutes} minutes: it is stuck or its process died. The next run finishes its work; see /jobs.";
        }

        var last = await db.JobRuns.AsNoTracking().Where(r => r.Job == JobNames.Purge && r.Status != JobRun.Running).OrderByDescending(r => r.Id).FirstOrDefaultAsync(cancellationToken);
        return last?.Status == JobRun.Failed
            ? $"The last retention purge ({last.StartedAtUtc:yyyy-MM-dd HH:mm} UTC) failed: {last.Error} Nothing unarchived was deleted; see /jobs and run it again."
            : null;
    }

    /// <summary>
    /// Runs of <paramref name="job"/> still marked running whose heartbeat is older than <paramref name="silentFor"/>: their
    /// process stopped without finishing (killed, crashed). Marked failed, saying so; the next run finishes their work.
    /// </summary>
    public static Task<int> CloseAbandonedAsync(ConsoleDbContext db, string job, DateTime nowUtc, TimeSpan silentFor, CancellationToken cancellationToken = default)
    {
        var before = nowUtc - silentFor;
        return db.JobRuns.Where(r => r.Job == job && r.Status == JobRun.Running && r.HeartbeatAtUtc < before).ExecuteUpdateAsync(s => s
            .SetProperty(r => r.Status, JobRun.Failed)
            .SetProperty(r => r.FinishedAtUtc, nowUtc)
            .SetProperty(r => r.Error, "It stopped without finishing: the process running it ended (killed or crashed). A later run finished its work; see the runs above."), cancellationToken);
    }

    /// <summary>Runs still marked running whose heartbeat is older than <paramref name="stuckAfter"/>: stuck (the process died or hangs).</summary>
    public static IQueryable<JobRun> Stuck(ConsoleDbContext db, DateTime nowUtc, TimeSpan stuckAfter)
    {
        var before = nowUtc - stuckAfter;
        return db.JobRuns.AsNoTracking().Where(r => r.Status == JobRun.Running && r.HeartbeatAtUtc < before);
    }
}

/// <summary>What a run archived and deleted, and where its archive is.</summary>
public sealed record JobFigures(long Archived, long Deleted, string? Location, string? Sha256);

/// <summary>
/// A lease row per job: one holder at a time, until it expires. Taken atomically (an update that only matches a free or
/// expired lease, or the insert of a new one), renewed while the work goes on, released at the end. It guards the purge
/// against a double run however Quartz fires (a misfire, two nodes, Run now while the schedule fires).
/// </summary>
public static class JobLeases
{
    public static async Task<bool> TryTakeAsync(ConsoleDbContext db, string name, string holder, DateTime nowUtc, TimeSpan duration, CancellationToken cancellationToken = default)
    {
        var until = nowUtc + duration;
        // A lease held by a process of this machine that is gone (killed, crashed) is over now, not when it would expire.
        if (await CurrentAsync(db, name, cancellationToken) is { } current && current.ExpiresAtUtc >= nowUtc && current.Holder != holder && IsDeadHere(current.Holder))
        {
            await db.JobLeases.Where(l => l.Name == name && l.Holder == current.Holder).ExecuteUpdateAsync(s => s.SetProperty(l => l.ExpiresAtUtc, nowUtc.AddTicks(-1)), cancellationToken);
        }

        if (await db.JobLeases.Where(l => l.Name == name && (l.ExpiresAtUtc < nowUtc || l.Holder == holder))
                .ExecuteUpdateAsync(s => s.SetProperty(l => l.Holder, holder).SetProperty(l => l.ExpiresAtUtc, until), cancellationToken) == 1)
        {
            return true;
        }

        if (await db.JobLeases.AnyAsync(l => l.Name == name, cancellationToken))
        {
            return false;
        }

        try
        {
            db.JobLeases.Add(new JobLease { Name = name, Holder = holder, ExpiresAtUtc = until });
            await db.SaveChangesAsync(cancellationToken);
            return true;
        }
        catch (DbUpdateException)
        {
            return false; // another node inserted it first
        }
        finally
        {
            db.ChangeTracker.Clear();
        }
    }

    /// <summary>Whether <paramref name="holder"/> (machine:pid:id) names a process of this machine that no longer runs.</summary>
    public static bool IsDeadHere(string holder)
    {
        var parts = holder.Split(':');
        if (parts.Length < 3 || !string.Equals(parts[0], Environment.MachineName, StringComparison.OrdinalIgnoreCase) || !int.TryParse(parts[1], out var pid))
        {
            return false;
        }

        try
        {
            using var process = System.Diagnostics.Process.GetProcessById(pid);
            return process.HasExited;
        }
        catch (ArgumentException)
        {
            return true; // no such process
        }
    }

    public static async Task<JobLease?> CurrentAsync(ConsoleDbContext db, string name, CancellationToken cancellationToken = default) =>
        await db.JobLeases.AsNoTracking().FirstOrDefaultAsync(l => l.Name == name, cancellationToken);

    public static Task ReleaseAsync(ConsoleDbContext db, string name, string holder) =>
        db.JobLeases.Where(l => l.Name == name && l.Holder == holder).ExecuteDeleteAsync(CancellationToken.None);
}

/// <summary>The jobs the console runs, by the name their runs are listed under.</summary>
public static class JobNames
{
    public const string Purge = RetentionPurger.JobName;
    public const string Checkpoint = "audit.checkpoint";
    public const string Verification = "audit.verification";
    public const string Reconciliation = "audit.reconciliation";
    public const string Rollups = "audit.rollups";

    public static readonly IReadOnlyList<string> All = [Purge, Checkpoint, Verification, Reconciliation, Rollups];

    public static string Describe(string job) => job switch
    {
        Purge => "Retention purge",
        Checkpoint => "Signed checkpoint",
        Verification => "Chain verification",
        Reconciliation => "Reconciliation",
        Rollups => "Rollups and text index",
        _ => job,
    };
}
