using ComplianceConsole.Core.Auditing;
using ComplianceConsole.Data.Capture;
using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore;

namespace ComplianceConsole.Data.Tests;

/// <summary>A real SQLite file in WAL mode, migrated and with capture triggers, deleted afterwards.</summary>
public sealed class SqliteTestDatabase : IAsyncDisposable
{
    private static readonly SemaphoreSlim TemplateLock = new(1, 1);
    private static string? _template;

    private SqliteTestDatabase(string file)
    {
        FilePath = file;
        Settings = new DatabaseSettings(DatabaseProvider.Sqlite, $"Data Source={file};Default Timeout=60");
    }

    public string FilePath { get; }
    public DatabaseSettings Settings { get; }

    public static readonly AuditContext Alice = new(new AuditActor("u-alice", "alice@example.test", ["Operator"]), "page:/customers", "corr-alice", "10.0.0.1", "Firefox");

    /// <summary>A fresh database; with <paramref name="options"/> it is migrated and given triggers for that policy.</summary>
    public static async Task<SqliteTestDatabase> CreateAsync(AuditOptions? options = null)
    {
        var file = Path.Combine(Path.GetTempPath(), $"cc-test-{Guid.NewGuid():N}.db");
        if (options is not null)
        {
            var db = new SqliteTestDatabase(file);
            await DatabaseInitializer.InitializeAsync(db.Settings, options);
            return db;
        }

        await TemplateLock.WaitAsync();
        try
        {
            if (_template is null)
            {
                var template = Path.Combine(Path.GetTempPath(), $"cc-template-{Guid.NewGuid():N}.db");
                await DatabaseInitializer.InitializeAsync(new DatabaseSettings(DatabaseProvider.Sqlite, $"Data Source={template}"), new AuditOptions());
                SqliteConnection.ClearAllPools();
                _template = template;
            }
        }
        finally
        {
            TemplateLock.Release();
        }

        File.Copy(_template, file);
        return new SqliteTestDatabase(file);
    }

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

    public async Task ExecuteRawAsync(string sql)
    {
        await using var connection = new SqliteConnection(Settings.ConnectionString);
        await connection.OpenAsync();
        await using var command = connection.CreateCommand();
        command.CommandText = sql;
        await command.ExecuteNonQueryAsync();
    }

    public async ValueTask DisposeAsync()
    {
        SqliteConnection.ClearAllPools();
        foreach (var suffix in new[] { "", "-wal", "-shm" })
        {
            try
            {
                File.Delete(FilePath + suffix);
            }
            catch (IOException)
            {
                // A handle still open on a failed test; the temp folder is cleaned by the OS.
            }
        }
    }
}
