using ComplianceConsole.Core.Auditing;
using ComplianceConsole.Data;
using ComplianceConsole.Data.Capture;
using ComplianceConsole.Data.Interceptors;
using Microsoft.Extensions.Options;

namespace ComplianceConsole.Web.Auditing;

/// <summary>
/// Every few seconds: seals changes made outside the console (sqlite3 shell, other tools) into the chain, and
/// replays entries that never-block mode spooled. Failures are logged and retried; lines that can never be
/// replayed are quarantined (logged as errors), never dropped.
/// </summary>
public sealed class AuditSealingService(DatabaseSettings settings, AuditSpool spool, IOptions<AuditOptions> options, ILogger<AuditSealingService> log) : BackgroundService
{
    private string? _lastStop;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(TimeSpan.FromSeconds(Math.Max(1, options.Value.OutOfBandSealSeconds)));
        while (await timer.WaitForNextTickAsync(stoppingToken))
        {
            await using var db = ConsoleDbContextFactory.Create(settings);
            try
            {
                var sealedCount = await db.Database.SealOutOfBandAsync(stoppingToken);
                if (sealedCount > 0)
                {
                    log.LogWarning("Sealed {Count} out-of-band change(s) made outside the console into the audit chain.", sealedCount);
                }
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                log.LogError(ex, "Sealing out-of-band changes failed; they stay captured and are retried.");
            }

            try
            {
                Report(await db.Database.ReplaySpoolAsync(spool, stoppingToken));
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                log.LogError(ex, "Spool replay failed; the spooled entries stay in {Spool} and are retried.", spool.Path);
            }
        }
    }

    private void Report(SpoolReplayResult result)
    {
        if (result.Replayed > 0)
        {
            log.LogWarning("Replayed {Count} spooled transaction(s) from never-block mode into the audit chain.", result.Replayed);
        }

        foreach (var line in result.Quarantined)
        {
            log.LogError("Quarantined spool line {Where} in {Quarantine}: {Reason}. It is not in the audit chain.", line.Where, spool.QuarantinePath, line.Reason);
        }

        // Logged once per distinct cause, not at every tick while the store stays broken.
        if (result.StoppedBy is not null && result.StoppedBy != _lastStop)
        {
            log.LogError("Spool replay stopped, entries stay spooled: {Error}", result.StoppedBy);
        }

        _lastStop = result.StoppedBy;
    }
}
