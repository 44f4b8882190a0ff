using ComplianceConsole.Data;
using ComplianceConsole.Data.Queries;
using ComplianceConsole.Data.Rollups;

namespace ComplianceConsole.Web.Auditing;

/// <summary>
/// Keeps the audit browser's read side ready, off the write path: reads the trail's vocabulary once at start-up (so the
/// first search of a large store does not pay for it), then keeps the full-text index (<see cref="AuditTextIndex"/>) and the
/// hourly rollups (<see cref="AuditRollups"/>) close behind the chain, and takes the baseline of a large table whose
/// capture just began (<see cref="Data.Capture.AuditBaseline"/>), a chunk per transaction so writers wait at most one chunk.
/// </summary>
public sealed class AuditReadSideService(DatabaseSettings settings, AuditVocabulary vocabulary, Microsoft.Extensions.Options.IOptions<Core.Auditing.AuditOptions> options, ILogger<AuditReadSideService> log) : BackgroundService
{
    private const int Batch = 20_000;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        try
        {
            await using var db = ConsoleDbContextFactory.Create(settings);
            await vocabulary.CurrentAsync(db, stoppingToken);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            log.LogWarning(ex, "The trail's vocabulary could not be read at start-up; the first search reads it instead.");
        }

        using var timer = new PeriodicTimer(TimeSpan.FromSeconds(3));
        do
        {
            await CatchUpAsync(db => AuditTextIndex.CatchUpAsync(db, Batch, stoppingToken),
                "The full-text index could not catch up; free text searches the indexed part and says how far it lags. It tries again.", stoppingToken);

            var counted = await CatchUpAsync(async db => (int)await AuditRollups.CatchUpAsync(db, Batch, cancellationToken: stoppingToken),
                "The hourly rollups could not catch up; the histogram counts the entries above their mark directly (slower, still exact). It tries again.", stoppingToken);
            await ListRollupsAsync(counted, stoppingToken);

            await CatchUpAsync(async db => await Data.Capture.AuditBaseline.ContinueAsync(db.Database, options.Value, cancellationToken: stoppingToken) > 0 ? Batch : 0,
                "The baseline of a newly captured table could not go on; reconciliation counts its rows as awaiting the baseline. It tries again.", stoppingToken);
        }
        while (await timer.WaitForNextTickAsync(stoppingToken));
    }

    /// <summary>Runs one catch-up in batches until it is current; a failure is logged and tried again at the next tick. Returns what it did, or the failure.</summary>
    private async Task<(long Done, string? Error)> CatchUpAsync(Func<ConsoleDbContext, Task<int>> step, string failure, CancellationToken stoppingToken)
    {
        long total = 0;
        try
        {
            int done;
            do
            {
                await using var db = ConsoleDbContextFactory.Create(settings);
                total += done = await step(db);
            }
            while (done == Batch && !stoppingToken.IsCancellationRequested);
            return (total, null);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            log.LogWarning(ex, failure);
            return (total, ex.Message);
        }
    }

    private DateTime _windowStart = DateTime.UtcNow;
    private long _windowCounted;
    private int _windowPasses;

    /// <summary>
    /// The rollups run every few seconds: /jobs lists them as one run per ten minutes that counted something (entries and
    /// passes), and a failure at once, so the list shows they keep up without a row per tick.
    /// </summary>
    private async Task ListRollupsAsync((long Done, string? Error) pass, CancellationToken stoppingToken)
    {
        _windowCounted += pass.Done;
        _windowPasses += pass.Done > 0 ? 1 : 0;
        var now = DateTime.UtcNow;
        if (pass.Error is null && (now - _windowStart < TimeSpan.FromMinutes(10) || _windowCounted == 0))
        {
            if (_windowCounted == 0)
            {
                _windowStart = now;
            }

            return;
        }

        try
        {
            await using var db = ConsoleDbContextFactory.Create(settings);
            await Data.Retention.JobLog.RecordAsync(db, Data.Retention.JobNames.Rollups, "schedule", _windowStart, now, pass.Error,
                $"Since {_windowStart:HH:mm} UTC: counted {_windowCounted:N0} entries into the hourly rollups in {_windowPasses:N0} pass(es), keeping them and the text index current.", stoppingToken);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            log.LogWarning(ex, "A rollup run could not be listed on /jobs.");
        }

        (_windowStart, _windowCounted, _windowPasses) = (now, 0, 0);
    }
}
