using System.Diagnostics;
using System.Globalization;
using ComplianceConsole.Core.Auditing;
using ComplianceConsole.Data;
using ComplianceConsole.Data.Capture;
using ComplianceConsole.Data.History;
using Microsoft.Extensions.Options;

namespace ComplianceConsole.Web.Auditing;

/// <summary>What a background check is doing, or did last: for the integrity page's progress bar, rate and result.</summary>
public sealed record CheckProgress(string Kind, string StartedBy, DateTime StartedAtUtc, long Done, long Total, double PerSecond, bool Running, bool? Passed, string? Result);

/// <summary>
/// The integrity page's long work, run in the console's process and not in the page: a full verification of the chain,
/// or a reconciliation of the live rows. One of each at a time; it survives the page being closed, can be cancelled, and
/// records its outcome in the chain as the Admin who started it (<c>audit.verified</c>, <c>audit.reconciled</c> or
/// <c>audit.reconcile_mismatch</c>). Every reader of the page sees the progress and the result.
/// </summary>
public sealed class BackgroundChecks(DatabaseSettings settings, IOptions<AuditOptions> options, ILogger<BackgroundChecks> log)
{
    public const string Verify = "verify";
    public const string Reconcile = "reconcile";

    private readonly Lock _gate = new();
    private readonly Dictionary<string, (CheckProgress Progress, CancellationTokenSource? Stop)> _checks = new();

    /// <summary>Raised from the worker thread whenever a check moves; subscribers marshal to their own context.</summary>
    public event Action? Changed;

    public CheckProgress? Current(string kind)
    {
        lock (_gate)
        {
            return _checks.TryGetValue(kind, out var check) ? check.Progress : null;
        }
    }

    /// <summary>Starts a check unless one of its kind is running; returns false when one is.</summary>
    public bool Start(string kind, AuditContext who)
    {
        var stop = new CancellationTokenSource();
        lock (_gate)
        {
            if (_checks.TryGetValue(kind, out var running) && running.Progress.Running)
            {
                return false;
            }

            _checks[kind] = (new CheckProgress(kind, who.Actor.Name, DateTime.UtcNow, 0, 0, 0, true, null, null), stop);
        }

        Changed?.Invoke();
        _ = Task.Run(() => RunAsync(kind, who, stop.Token));
        return true;
    }

    public void Cancel(string kind)
    {
        lock (_gate)
        {
            if (_checks.TryGetValue(kind, out var check))
            {
                check.Stop?.Cancel();
            }
        }
    }

    private async Task RunAsync(string kind, AuditContext who, CancellationToken cancellationToken)
    {
        var job = kind == Verify ? Data.Retention.JobNames.Verification : Data.Retention.JobNames.Reconciliation;
        long runId = 0;
        try
        {
            await using var runs = ConsoleDbContextFactory.Create(settings);
            runId = await Data.Retention.JobLog.StartAsync(runs, job, who.Actor.Name, DateTime.UtcNow, CancellationToken.None);
        }
        catch (Exception ex)
        {
            log.LogWarning(ex, "The {Check} could not be listed on /jobs; it runs anyway.", kind);
        }

        await RunCheckAsync(kind, who, cancellationToken);
        if (runId > 0 && Current(kind) is { } done)
        {
            await using var runs = ConsoleDbContextFactory.Create(settings);
            await Data.Retention.JobLog.FinishAsync(runs, runId, DateTime.UtcNow, done.Passed == true ? null : done.Result ?? "It did not finish.", done.Passed == true ? done.Result : null);
        }
    }

    private async Task RunCheckAsync(string kind, AuditContext who, CancellationToken cancellationToken)
    {
        var watch = Stopwatch.StartNew();
        var lastReport = TimeSpan.Zero;
        void Report(long done, long total)
        {
            // At most five times a second: each report redraws every open integrity page.
            if (watch.Elapsed - lastReport < TimeSpan.FromMilliseconds(200) && done < total)
            {
                return;
            }

            lastReport = watch.Elapsed;
            Update(kind, p => p with { Done = done, Total = total, PerSecond = done / Math.Max(watch.Elapsed.TotalSeconds, 0.001) });
        }

        try
        {
            var context = who with { Origin = "page:/integrity", CorrelationId = Guid.NewGuid().ToString("N") };
            await using var db = ConsoleDbContextFactory.Create(settings, b => b.UseAuditTrail(new AuditContextAccessor(context)));
            if (kind == Verify)
            {
                var total = await Microsoft.EntityFrameworkCore.EntityFrameworkQueryableExtensions.LongCountAsync(db.AuditEntries, cancellationToken);
                var report = await db.VerifyAuditChainAsync(cancellationToken: cancellationToken, progress: new Sync(done => Report(done, total)));
                var chain = report.Chain;
                await db.Database.RecordAuditEventAsync(new AuditEventRequest(AuditEventNames.Verified, "audit-chain", new Dictionary<string, string?>
                {
                    ["result"] = report.IsValid ? "ok" : "broken",
                    ["throughSeq"] = chain.LastSeq.ToString(CultureInfo.InvariantCulture),
                    ["entries"] = chain.EntriesChecked.ToString(CultureInfo.InvariantCulture),
                    ["brokenAtSeq"] = chain.FirstBrokenSeq?.ToString(CultureInfo.InvariantCulture),
                    ["problem"] = report.IsValid ? null : WebAuditContextAccessor.Truncate(report.Describe(), 1000),
                    ["seconds"] = watch.Elapsed.TotalSeconds.ToString("0.0", CultureInfo.InvariantCulture),
                }), CancellationToken.None);
                Finish(kind, report.IsValid, report.IsValid ? chain.Describe() : report.Describe(), watch, chain.EntriesChecked);
            }
            else
            {
                var report = await Reconciler.RunAsync(db, options.Value, progress: new Sync<ReconcileProgress>(p => Report(p.Rows, p.TableRows)), cancellationToken: cancellationToken);
                await Reconciler.RecordAsync(db.Database, report, context, CancellationToken.None);
                Finish(kind, report.Clean, report.Clean
                    ? $"Every one of {report.Rows:N0} live rows matches the trail."
                    : $"{report.MismatchCount:N0} row(s) do not match the trail: " + string.Join(" ", report.Mismatches.Take(3).Select(m => m.Describe())), watch, report.Rows);
            }
        }
        catch (OperationCanceledException)
        {
            Finish(kind, null, "Cancelled: nothing was recorded.", watch, null);
        }
        catch (Exception ex)
        {
            // Whatever went wrong, the check ends and says so: a page must never show one running forever.
            log.LogError(ex, "The {Check} started from the integrity page failed.", kind);
            Finish(kind, false, "It could not finish: " + ex.Message, watch, null);
        }
    }

    private void Finish(string kind, bool? passed, string result, Stopwatch watch, long? done) =>
        Update(kind, p => p with
        {
            Running = false, Passed = passed, Result = result, Done = done ?? p.Done,
            PerSecond = (done ?? p.Done) / Math.Max(watch.Elapsed.TotalSeconds, 0.001),
        });

    private void Update(string kind, Func<CheckProgress, CheckProgress> change)
    {
        lock (_gate)
        {
            var (progress, stop) = _checks[kind];
            _checks[kind] = (change(progress), stop);
        }

        Changed?.Invoke();
    }

    /// <summary>Reports on the worker's own thread (Progress&lt;T&gt; would post to the thread pool, out of order).</summary>
    private sealed class Sync(Action<long> report) : IProgress<long>
    {
        public void Report(long value) => report(value);
    }

    private sealed class Sync<T>(Action<T> report) : IProgress<T>
    {
        public void Report(T value) => report(value);
    }
}
