using ComplianceConsole.Core.Auditing;
using ComplianceConsole.Data.Capture;
using Microsoft.EntityFrameworkCore;

namespace ComplianceConsole.Data;

/// <summary>Creates or upgrades the database: WAL mode, migrations, then the capture triggers.</summary>
public static class DatabaseInitializer
{
    public static async Task InitializeAsync(DatabaseSettings settings, AuditOptions audit, CancellationToken cancellationToken = default)
    {
        if (settings.SqliteFilePath is { } path && Path.GetDirectoryName(path) is { Length: > 0 } directory)
        {
            Directory.CreateDirectory(directory);
        }

        if (settings.Provider == DatabaseProvider.SqlServer)
        {
            // Refuse rather than run unaudited: the console must never accept a change it cannot capture.
            throw new InvalidOperationException(
                "Database:Provider is SqlServer, but change capture on SQL Server is not built yet: the console would accept changes " +
                "without auditing them, so it will not start. Use Database:Provider=Sqlite for now. The SQL Server migrations exist " +
                "(dotnet ef migrations script --context SqlServerConsoleDbContext) for review.");
        }

        await using var db = ConsoleDbContextFactory.Create(settings);
        if (db.Database.IsSqlite())
        {
            // Persistent: one writer and many readers at once, readers never blocked. synchronous stays at
            // SQLite's default FULL, so a committed change and its audit entry survive a power loss.
            await db.Database.ExecuteSqlRawAsync("PRAGMA journal_mode=WAL;", cancellationToken);
        }

        await db.Database.MigrateAsync(cancellationToken);
        if (db.Database.IsSqlite())
        {
            await db.Database.InstallAuditCaptureAsync(audit, cancellationToken);
        }
    }
}
