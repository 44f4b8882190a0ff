using ComplianceConsole.Core.Auditing;
using ComplianceConsole.Data.Capture;
using Microsoft.EntityFrameworkCore;

namespace ComplianceConsole.Data.Tests;

/// <summary>A real, migrated database with capture installed, on one provider, removed afterwards.</summary>
public abstract class TestDatabase : IAsyncDisposable
{
    public static readonly AuditContext Alice = new(new AuditActor("u-alice", "alice@example.test", ["Operator"]), "page:/customers", "corr-alice", "10.0.0.1", "Firefox");

    public abstract DatabaseSettings Settings { get; }

    public ConsoleDbContext Audited(AuditContext? context = null, TimeProvider? time = null) =>
        Audited(new AuditContextAccessor(context ?? Alice), time);

    public ConsoleDbContext Audited(IAuditContextAccessor accessor, TimeProvider? time = null) =>
        ConsoleDbContextFactory.Create(Settings, b => b.UseAuditTrail(accessor, time));

    /// <summary>A context without the audit trail: what a tool outside the app would be.</summary>
    public ConsoleDbContext Unaudited() => ConsoleDbContextFactory.Create(Settings);

    /// <summary>Every entry but the start-up one that records installing the capture triggers.</summary>
    public async Task<List<AuditEntry>> EntriesAsync() =>
        (await AllEntriesAsync()).Where(e => e.EventName != AuditTriggerInstaller.CaptureChangedEvent).ToList();

    public async Task<List<AuditEntry>> AllEntriesAsync()
    {
        await using var db = Unaudited();
        return await db.AuditEntries.AsNoTracking().OrderBy(e => e.Seq).ToListAsync();
    }

    public async Task<List<AuditEntry>> ChangesAsync(string table) =>
        (await EntriesAsync()).Where(e => e.TableName == table).ToList();

    /// <summary>Runs SQL on a plain connection of the provider's own client, outside the app: out-of-band.</summary>
    public abstract Task ExecuteRawAsync(string sql);

    /// <summary>Makes every insert into AuditEntries fail with <paramref name="message"/>, as a full disk or a broken store would.</summary>
    public abstract Task BreakAuditStoreAsync(string message);

    /// <summary>What an attacker with database access does first: removes the guard that refuses UPDATE on entries.</summary>
    public Task DropUpdateGuardAsync() => ExecuteRawAsync("DROP TRIGGER audit_entries_refuse_update");

    /// <summary>What someone with database access does to change rows unrecorded: takes the table's capture triggers away, runs the SQL, and puts them back as they were.</summary>
    public abstract Task BypassCaptureAsync(string table, string sql);

    public abstract ValueTask DisposeAsync();
}
