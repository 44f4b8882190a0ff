using ComplianceConsole.Data;
using ComplianceConsole.Data.Queries;

namespace ComplianceConsole.Web.Auditing;

/// <summary>Keeps the full-text index (<see cref="AuditTextIndex"/>) close behind the chain, off the write path.</summary>
public sealed class AuditTextIndexService(DatabaseSettings settings, ILogger<AuditTextIndexService> log) : BackgroundService
{
    private const int Batch = 20_000;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
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
