using System.Diagnostics;
using ComplianceConsole.Core.Auditing;
using ComplianceConsole.Core.Export;
using ComplianceConsole.Core.Query;
using ComplianceConsole.Data;
using ComplianceConsole.Data.Archive;
using ComplianceConsole.Data.Capture;
using ComplianceConsole.Data.Domain;
using ComplianceConsole.Data.Queries;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace ComplianceConsole.Web.Auditing;

/// <summary>Section "Exports": where export files are kept, and for how long.</summary>
public sealed class ExportOptions
{
    public string Folder { get; set; } = "App_Data/exports";

    /// <summary>Hours an export file is kept; then it is deleted (its record in the chain stays).</summary>
    public int ExpiryHours { get; set; } = 24;
}

/// <summary>One export, running or done, as its requester (and Admins) see it.</summary>
public sealed record ExportJob(string File, string OwnerId, string Owner, string Format, string Scope, string Query, DateTime StartedUtc, long Rows, double PerSecond, bool Running,
    bool Cancelled, string? Error, ExportManifest? Manifest, DateTime? ExpiresUtc);

/// <summary>
/// Exports started from the console run here, in the background: they survive the page closing, report progress (rows,
/// rate), can be cancelled, and leave their file in <see cref="ExportOptions.Folder"/> for <see cref="ExportOptions.ExpiryHours"/>.
/// Finished exports are also read back from the chain (<c>audit.exported</c>), so the list survives a restart.
/// </summary>
public sealed class ExportJobs(DatabaseSettings settings, AuditSearchService search, IOptions<AuditOptions> audit, IOptions<ExportOptions> exports, IHostEnvironment host, ILogger<ExportJobs> log)
{
    private readonly Lock _gate = new();
    private readonly Dictionary<string, (ExportJob Job, CancellationTokenSource Stop)> _jobs = new();

    public event Action? Changed;

    public string Folder => ContentPath.Resolve(exports.Value.Folder, host.ContentRootPath);

    public TimeSpan Expiry => TimeSpan.FromHours(exports.Value.ExpiryHours);

    /// <summary>Starts an export of <paramref name="subject"/> for <paramref name="who"/>; returns its file name (its id).</summary>
    public string Start(AuditContext who, ExportSubject subject, AuditFileOptions options)
    {
        Directory.CreateDirectory(Folder);
        var kind = subject switch { HistoryExport => "history", ChartExport => "chart", _ => "audit" };
        var file = $"{kind}-{DateTime.UtcNow:yyyyMMdd-HHmmss}-{Guid.NewGuid().ToString("N")[..8]}.{options.Format.ToString().ToLowerInvariant()}";
        var stop = new CancellationTokenSource();
        lock (_gate)
        {
            _jobs[file] = (new ExportJob(file, who.Actor.Id, who.Actor.Name, options.Format.ToString().ToLowerInvariant(), subject.Scope, subject.Query, DateTime.UtcNow, 0, 0, true, false, null,
                null, null), stop);
        }

        Changed?.Invoke();
        _ = Task.Run(() => RunAsync(file, who, subject, options, stop.Token));
        return file;
    }

    public void Cancel(string file, string userId, bool admin)
    {
        lock (_gate)
        {
            if (_jobs.TryGetValue(file, out var job) && (admin || job.Job.OwnerId == userId))
            {
                job.Stop.Cancel();
            }
        }
    }

    /// <summary>The exports this console process ran for <paramref name="userId"/> (for the notification when one is ready).</summary>
    public IReadOnlyList<ExportJob> Mine(string userId)
    {
        lock (_gate)
        {
            return _jobs.Values.Select(j => j.Job).Where(j => j.OwnerId == userId).ToList();
        }
    }

    /// <summary>The job once it has ended, or as it stands after <paramref name="timeout"/>.</summary>
    public async Task<ExportJob?> WaitAsync(string file, TimeSpan timeout)
    {
        var ended = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        void Check()
        {
            if (Current(file) is not { Running: true })
            {
                ended.TrySetResult();
            }
        }

        Changed += Check;
        try
        {
            Check();
            await Task.WhenAny(ended.Task, Task.Delay(timeout));
            return Current(file);
        }
        finally
        {
            Changed -= Check;
        }
    }

    public ExportJob? Current(string file)
    {
        lock (_gate)
        {
            return _jobs.TryGetValue(file, out var job) ? job.Job : null;
        }
    }

    private async Task RunAsync(string file, AuditContext who, ExportSubject subject, AuditFileOptions options, CancellationToken cancellationToken)
    {
        var watch = Stopwatch.StartNew();
        try
        {
            var (key, _) = CheckpointService.Open(audit.Value.Checkpoints, host.ContentRootPath);
            using (key)
            {
                await using var db = ConsoleDbContextFactory.Create(settings, b => b.UseAuditTrail(new AuditContextAccessor(who with { CorrelationId = Guid.NewGuid().ToString("N") })));
                var progress = new Sync(rows => Update(file, j => j with { Rows = rows, PerSecond = rows / Math.Max(watch.Elapsed.TotalSeconds, 0.001) }));
                var result = await new AuditExporter(search).RunAsync(db, subject, options, Path.Combine(Folder, file), key, who.Actor.Name, progress, cancellationToken: cancellationToken);
                Update(file, j => j with
                {
                    Running = false, Rows = result.Manifest.Rows, PerSecond = result.Manifest.Rows / Math.Max(watch.Elapsed.TotalSeconds, 0.001), Manifest = result.Manifest,
                    ExpiresUtc = DateTime.UtcNow + Expiry,
                });
            }
        }
        catch (OperationCanceledException)
        {
            Update(file, j => j with { Running = false, Cancelled = true });
        }
        catch (Exception ex)
        {
            log.LogError(ex, "The export {File} failed.", file);
            Update(file, j => j with { Running = false, Error = "The export could not be written: " + ex.Message });
        }
    }

    private void Update(string file, Func<ExportJob, ExportJob> change)
    {
        lock (_gate)
        {
            var (job, stop) = _jobs[file];
            _jobs[file] = (change(job), stop);
        }

        Changed?.Invoke();
    }

    /// <summary>The exports of this process that the chain does not list as done (running, cancelled, failed) that a user may see.</summary>
    public IReadOnlyList<ExportJob> Unrecorded(string userId, bool admin)
    {
        lock (_gate)
        {
            return _jobs.Values.Select(j => j.Job).Where(j => (admin || j.OwnerId == userId) && j.Manifest is null).ToList();
        }
    }

    /// <summary>The exports a user may see (an Admin: everyone's), newest first: the running ones, then those the chain records.</summary>
    public async Task<List<ExportJob>> ListAsync(string userId, bool admin, CancellationToken cancellationToken = default)
    {
        var running = Unrecorded(userId, admin);
        await using var db = ConsoleDbContextFactory.Create(settings);
        var recorded = await db.AuditEntries.AsNoTracking()
            .Where(e => e.EventName == AuditEventNames.AuditExported && e.Target == "audit-trail" && (admin || e.ActorId == userId))
            .OrderByDescending(e => e.Seq).Take(200).ToListAsync(cancellationToken);
        return [.. running.OrderByDescending(j => j.StartedUtc), .. recorded.Select(Recorded).OfType<ExportJob>()];
    }

    /// <summary>A finished export as the chain records it, with its manifest while the file is kept; null for a record without a plain file name.</summary>
    private ExportJob? Recorded(AuditEntry e)
    {
        var details = EventSummary.Metadata(e.Metadata);
        if (details.GetValueOrDefault("file") is not { Length: > 0 } name || name.Contains('/') || name.Contains('\\'))
        {
            return null;
        }

        var path = Path.Combine(Folder, name);
        ExportManifest? manifest = null;
        if (File.Exists(path) && File.Exists(ExportManifest.PathFor(path)) && ExportManifest.TryParse(File.ReadAllText(ExportManifest.PathFor(path)), out var m, out _))
        {
            manifest = m;
        }

        return new ExportJob(name, e.ActorId ?? "", e.ActorName ?? "", details.GetValueOrDefault("format") ?? "", details.GetValueOrDefault("scope") ?? "search",
            details.GetValueOrDefault("query") ?? "", e.OccurredAtUtc, long.TryParse(details.GetValueOrDefault("rows"), out var rows) ? rows : 0, 0, false, false, null, manifest,
            e.OccurredAtUtc + Expiry);
    }

    /// <summary>
    /// Whether <paramref name="userId"/> may download <paramref name="file"/>: its requester, or an Admin; null when no finished
    /// export has that name. Reads the one <c>audit.exported</c> entry that names the file.
    /// </summary>
    public async Task<bool?> MayDownloadAsync(string file, string userId, bool admin, CancellationToken cancellationToken = default)
    {
        await using var db = ConsoleDbContextFactory.Create(settings);
        var candidates = await db.AuditEntries.AsNoTracking()
            .Where(e => e.EventName == AuditEventNames.AuditExported && e.Target == "audit-trail" && e.Metadata!.Contains(file))
            .OrderByDescending(e => e.Seq).Take(10).ToListAsync(cancellationToken);
        var export = candidates.Select(Recorded).FirstOrDefault(j => j?.File == file && j.Manifest is not null);
        return export is null ? null : admin || export.OwnerId == userId;
    }

    /// <summary>Deletes the files past their expiry (their records in the chain stay).</summary>
    public int DeleteExpired()
    {
        if (!Directory.Exists(Folder))
        {
            return 0;
        }

        var deleted = 0;
        foreach (var path in Directory.GetFiles(Folder))
        {
            if (File.GetLastWriteTimeUtc(path) + Expiry < DateTime.UtcNow)
            {
                File.Delete(path);
                deleted++;
            }
        }

        return deleted;
    }

    private sealed class Sync(Action<long> report) : IProgress<long>
    {
        public void Report(long value) => report(value);
    }
}

/// <summary>Deletes expired export files every ten minutes.</summary>
public sealed class ExportCleanup(ExportJobs jobs, ILogger<ExportCleanup> log) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(TimeSpan.FromMinutes(10));
        do
        {
            try
            {
                if (jobs.DeleteExpired() is > 0 and var n)
                {
                    log.LogInformation("Deleted {Count} expired export file(s).", n);
                }
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                log.LogWarning(ex, "Expired exports could not be deleted; tried again in ten minutes.");
            }
        }
        while (await timer.WaitForNextTickAsync(stoppingToken));
    }
}
