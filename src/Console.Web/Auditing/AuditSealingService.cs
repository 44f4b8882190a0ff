using ComplianceConsole.Core.Auditing;
using ComplianceConsole.Data;
using ComplianceConsole.Data.Capture;
using ComplianceConsole.Data.Interceptors;
using Microsoft.Extensions.Options;

namespace ComplianceConsole.Web.Auditing;

/// <summary>
/// Every few seconds: seals changes made outside the console (sqlite3 shell, other tools) into the chain, and
/// replays entries that never-block mode spooled. Failures are logged and retried; nothing is dropped.
/// </summary>
public sealed class AuditSealingService(DatabaseSettings settings, AuditSpool spool, IOptions<AuditOptions> options, ILogger<AuditSealingService> log) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(TimeSpan.FromSeconds(Math.Max(1, options.Value.OutOfBandSealSeconds)));
        while (await timer.WaitForNextTickAsync(stoppingToken))
        {
            try
            {
                await using var db = ConsoleDbContextFactory.Create(settings);
                var sealedCount = await db.Database.SealOutOfBandAsync(stoppingToken);
                if (sealedCount > 0)
                {
                    log.LogWarning("Sealed {Count} out-of-band change(s) made outside the console into the audit chain.", sealedCount);
                }

                var replayed = await db.Database.ReplaySpoolAsync(spool, stoppingToken);
                if (replayed > 0)
                {
                    log.LogWarning("Replayed {Count} spooled transaction(s) from never-block mode into the audit chain.", replayed);
                }
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                log.LogError(ex, "Sealing or spool replay failed; the captured changes stay where they are and are retried.");
            }
        }
    }
}
