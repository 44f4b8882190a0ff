using ComplianceConsole.Core.Auditing;
using ComplianceConsole.Data.Capture;
using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore;

namespace ComplianceConsole.Data.Tests;

/// <summary>A real SQLite file in WAL mode, migrated and with capture triggers, deleted afterwards.</summary>
public sealed class SqliteTestDatabase : TestDatabase
{
    private static readonly SemaphoreSlim TemplateLock = new(1, 1);
    private static string? _template;

    private SqliteTestDatabase(string file)
    {
        FilePath = file;
        Settings = new DatabaseSettings(DatabaseProvider.Sqlite, $"Data Source={file};Default Timeout=60");
    }

    public string FilePath { get; }
    public override DatabaseSettings Settings { get; }

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

    /// <summary>A migrated database with no capture installed yet: what an existing database is before the console captures it.</summary>
    public static async Task<SqliteTestDatabase> CreateUncapturedAsync()
    {
        var db = new SqliteTestDatabase(Path.Combine(Path.GetTempPath(), $"cc-test-{Guid.NewGuid():N}.db"));
        await using var context = db.Unaudited();
        await context.Database.ExecuteSqlRawAsync("PRAGMA journal_mode=WAL;");
        await context.Database.MigrateAsync();
        return db;
    }

    public override async Task ExecuteRawAsync(string sql)
    {
        await using var connection = new SqliteConnection(Settings.ConnectionString);
        await connection.OpenAsync();
        await using var command = connection.CreateCommand();
        command.CommandText = sql;
        await command.ExecuteNonQueryAsync();
    }

    public override async Task BypassCaptureAsync(string table, string sql)
    {
        await using var connection = new SqliteConnection(Settings.ConnectionString);
        await connection.OpenAsync();
        var triggers = new List<(string Name, string Sql)>();
        await using (var list = connection.CreateCommand())
        {
            list.CommandText = "SELECT name, sql FROM sqlite_master WHERE type = 'trigger' AND tbl_name = $t AND name LIKE 'audit_capture_%'";
            list.Parameters.AddWithValue("$t", table);
            await using var reader = await list.ExecuteReaderAsync();
            while (await reader.ReadAsync())
            {
                triggers.Add((reader.GetString(0), reader.GetString(1)));
            }
        }

        Assert.NotEmpty(triggers);
        await using var command = connection.CreateCommand();
        command.CommandText = string.Concat(triggers.Select(t => $"DROP TRIGGER \"{t.Name}\";")) + sql + ";" + string.Concat(triggers.Select(t => t.Sql + ";"));
        await command.ExecuteNonQueryAsync();
    }

    public override Task BreakAuditStoreAsync(string message) =>
        ExecuteRawAsync($"CREATE TRIGGER test_break_store BEFORE INSERT ON AuditEntries BEGIN SELECT RAISE(ABORT, '{message}'); END");

    public override async ValueTask DisposeAsync()
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
