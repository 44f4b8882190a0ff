using ComplianceConsole.Core.Auditing;
using ComplianceConsole.Data.Capture;
using Microsoft.EntityFrameworkCore;

namespace ComplianceConsole.Data;

/// <summary>
/// The deploy step (DDL: WAL mode on SQLite, migrations, the capture triggers and guards, the roles on SQL Server), and
/// the runtime's read-only check that it was done.
/// </summary>
public static class DatabaseInitializer
{
    /// <summary>Migrates and installs capture with <paramref name="settings"/>' connection (the deploy login's on SQL Server, when given).</summary>
    public static async Task<AuditTriggerChanges> InitializeAsync(DatabaseSettings settings, AuditOptions audit, CancellationToken cancellationToken = default)
    {
        if (settings.SqliteFilePath is { } path && Path.GetDirectoryName(path) is { Length: > 0 } directory)
        {
            Directory.CreateDirectory(directory);
        }

        await using var db = ConsoleDbContextFactory.Create(settings.Deploy);
        if (db.Database.IsSqlite())
        {
            // Persistent: one writer and many readers at once, readers never blocked. synchronous stays at
            // SQLite's default FULL, so a committed change and its audit entry survive a power loss.
            await db.Database.ExecuteSqlRawAsync("PRAGMA journal_mode=WAL;", cancellationToken);
        }

        await db.Database.MigrateAsync(cancellationToken);
        return await db.Database.InstallAuditCaptureAsync(audit, Owner, cancellationToken);
    }

    /// <summary>The owner name of the console's own capture triggers.</summary>
    public const string Owner = "ComplianceConsole";

    /// <summary>
    /// The runtime's start-up on a database it may not alter: refuses to start on a database that was never deployed, or
    /// whose migrations are behind this build (the message says to run install-capture), and returns what the capture
    /// check finds, for the log and /health. Writes nothing.
    /// </summary>
    public static async Task<AuditCaptureCheck> RequireDeployedAsync(DatabaseSettings settings, AuditOptions audit, bool purgesHere, CancellationToken cancellationToken = default)
    {
        await using var db = ConsoleDbContextFactory.Create(settings);
        var pending = (await db.Database.GetPendingMigrationsAsync(cancellationToken)).ToList();
        if (pending.Count > 0)
        {
            throw new InvalidOperationException(
                $"the database is not deployed for this version: {pending.Count} migration(s) are pending ({string.Join(", ", pending.TakeLast(3))}). " +
                $"The console's login runs DML only (Database:InstallAtStartup is false): {AuditCaptureChecker.Fix}, then start the console again.");
        }

        return await AuditCaptureChecker.CheckAsync(db.Database, audit, Owner, purgesHere, cancellationToken);
    }
}
