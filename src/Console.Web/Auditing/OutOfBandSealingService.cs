using ComplianceConsole.Data;
using ComplianceConsole.Data.Capture;
using Microsoft.Extensions.Options;

namespace ComplianceConsole.Web.Auditing;

public sealed class SealingOptions
{
    /// <summary>How often changes made outside the app are sealed into the chain when the app itself is idle.</summary>
    public int OutOfBandSealSeconds { get; set; } = 10;
}

/// <summary>Seals out-of-band captures (sqlite3 shell, other tools) into the chain every few seconds.</summary>
public sealed class OutOfBandSealingService(DatabaseSettings settings, IOptions<SealingOptions> options, ILogger<OutOfBandSealingService> log) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (settings.Provider != DatabaseProvider.Sqlite)
        {
            return;
        }

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
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                log.LogError(ex, "Sealing out-of-band changes failed; they stay captured and are retried.");
            }
        }
    }
}
