using ComplianceConsole.Data;

namespace ComplianceConsole.Web.Auditing;

/// <summary>
/// Live tail for every open audit browser: one reader of the chain's head for the whole process (one cheap
/// <c>MAX(Seq)</c> a second, however many circuits are open), which tells subscribers when new entries are sealed.
/// Only the circuits that have tail on then query, and only when there is something new. Entries sealed by another
/// process, or written out of band and sealed later, are seen the same way.
/// </summary>
public sealed class AuditTail(DatabaseSettings settings, ILogger<AuditTail> log) : BackgroundService
{
    private readonly object _gate = new();
    private readonly List<Func<long, Task>> _subscribers = [];

    public static TimeSpan Interval { get; set; } = TimeSpan.FromSeconds(1);

    public long Head { get; private set; }

    /// <summary>Calls <paramref name="onNewHead"/> with the new head seq whenever entries are sealed; dispose to stop.</summary>
    public IDisposable Subscribe(Func<long, Task> onNewHead)
    {
        lock (_gate)
        {
            _subscribers.Add(onNewHead);
        }

        return new Subscription(this, onNewHead);
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(Interval);
        do
        {
            List<Func<long, Task>> listeners;
            lock (_gate)
            {
                listeners = [.. _subscribers];
            }

            if (listeners.Count == 0)
            {
                continue; // nobody is watching: no query at all
            }

            try
            {
                await using var db = ConsoleDbContextFactory.Create(settings);
                var head = await Microsoft.EntityFrameworkCore.EntityFrameworkQueryableExtensions.MaxAsync(db.AuditEntries, e => (long?)e.Seq, stoppingToken) ?? 0;
                if (head > Head)
                {
                    Head = head;
                    foreach (var listener in listeners)
                    {
                        try
                        {
                            await listener(head);
                        }
                        catch (Exception ex) when (ex is not OperationCanceledException)
                        {
                            log.LogWarning(ex, "A live-tail subscriber failed; it stays subscribed.");
                        }
                    }
                }
            }
            catch (Exception ex) when (ex is not OperationCanceledException)
            {
                log.LogWarning(ex, "Live tail could not read the chain head; it tries again.");
            }
        }
        while (await timer.WaitForNextTickAsync(stoppingToken));
    }

    private sealed class Subscription(AuditTail tail, Func<long, Task> listener) : IDisposable
    {
        public void Dispose()
        {
            lock (tail._gate)
            {
                tail._subscribers.Remove(listener);
            }
        }
    }
}
