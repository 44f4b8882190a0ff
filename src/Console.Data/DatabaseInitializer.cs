using ComplianceConsole.Core.Auditing;
using ComplianceConsole.Data.Capture;
using Microsoft.EntityFrameworkCore;

namespace ComplianceConsole.Data;

/// <summary>Creates or upgrades the database: WAL mode (SQLite), migrations, then the capture triggers.</summary>
public static class DatabaseInitializer
{
    public static async Task InitializeAsync(DatabaseSettings settings, AuditOptions audit, CancellationToken cancellationToken = default)
    {
        if (settings.SqliteFilePath is { } path && Path.GetDirectoryName(path) is { Length: > 0 } directory)
        {
            Directory.CreateDirectory(directory);
        }

        await using var db = ConsoleDbContextFactory.Create(settings);
        if (db.Database.IsSqlite())
        {
            // Persistent: one writer and many readers at once, readers never blocked. synchronous stays at
            // SQLite's default FULL, so a committed change and its audit entry survive a power loss.
            await db.Database.ExecuteSqlRawAsync("PRAGMA journal_mode=WAL;", cancellationToken);
        }

        await db.Database.MigrateAsync(cancellationToken);
        await db.Database.InstallAuditCaptureAsync(audit, "ComplianceConsole", cancellationToken);
    }
}
