using ComplianceConsole.Data;
using ComplianceConsole.Data.Queries;

namespace ComplianceConsole.Web.Auditing;

/// <summary>
/// Keeps the audit browser's read side ready, off the write path: reads the trail's vocabulary once at start-up (so the
/// first search of a large store does not pay for it), then keeps the full-text index (<see cref="AuditTextIndex"/>)
/// close behind the chain.
/// </summary>
public sealed class AuditReadSideService(DatabaseSettings settings, AuditVocabulary vocabulary, ILogger<AuditReadSideService> log) : BackgroundService
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

        if (settings.Provider != DatabaseProvider.Sqlite)
        {
            return;
        }

        using var timer = new PeriodicTimer(TimeSpan.FromSeconds(3));
        do
        {
            try
            {
                int indexed;
                do
                {
                    await using var db = ConsoleDbContextFactory.Create(settings);
                    indexed = await AuditTextIndex.CatchUpAsync(db, Batch, stoppingToken);
                }
                while (indexed == Batch && !stoppingToken.IsCancellationRequested);
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                log.LogWarning(ex, "The full-text index could not catch up; free text searches the indexed part and says how far it lags. It tries again.");
            }
        }
        while (await timer.WaitForNextTickAsync(stoppingToken));
    }
}
