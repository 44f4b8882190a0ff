using System.Data.Common;
using System.Globalization;
using System.Text.Json;
using ComplianceConsole.Core.Auditing;
using ComplianceConsole.Data.Interceptors;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Infrastructure;

namespace ComplianceConsole.Data.Capture;

public sealed record AuditTriggerChanges(IReadOnlyList<string> Created, IReadOnlyList<string> Dropped)
{
    public bool Any => Created.Count > 0 || Dropped.Count > 0;
}

/// <summary>
/// Keeps the database's capture triggers equal to the policy: creates missing ones, replaces changed ones,
/// drops those of tables no longer audited, in one transaction. A change of triggers is itself an audited
/// event (audit.capture_changed), so a policy change can't pass unnoticed.
/// </summary>
public static class AuditTriggerInstaller
{
    public const string CaptureChangedEvent = "audit.capture_changed";

    public static async Task<AuditTriggerChanges> InstallAsync(DatabaseFacade database, AuditOptions options, CancellationToken cancellationToken = default)
    {
        var sqlServer = database.IsSqlServer();
        if (!sqlServer && !database.IsSqlite())
        {
            throw new NotSupportedException(
                $"Audit capture supports SQLite and SQL Server; this context uses {database.ProviderName}, whose changes could not be captured.");
        }

        var problems = options.Validate().ToList();
        if (problems.Count > 0)
        {
            throw new InvalidOperationException("The audit policy in configuration is not valid: " + string.Join(" ", problems));
        }

        var context = database.GetService<ICurrentDbContext>().Context;
        var policy = AuditPolicyResolver.Resolve(context.Model, options);
        var desired = sqlServer
            ? policy.Tables.Select(t => SqlServerAuditSql.CaptureTrigger(t, policy.Mode)).ToDictionary(p => p.Key, p => p.Value)
            : policy.Tables.SelectMany(t => SqliteAuditSql.CaptureTriggers(t, policy.Mode)).ToDictionary(p => p.Key, p => p.Value);

        await database.OpenConnectionAsync(cancellationToken);
        try
        {
            var connection = database.GetDbConnection();
            await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
            var existing = new Dictionary<string, string>();
            var dropTargets = new Dictionary<string, string>();
            var listSql = sqlServer
                ? SqlServerAuditSql.ListCaptureTriggers
                : "SELECT name, sql FROM sqlite_master WHERE type = 'trigger' AND name LIKE 'audit\\_capture\\_%' ESCAPE '\\'";
            await using (var list = Command(connection, transaction, listSql))
            await using (var reader = await list.ExecuteReaderAsync(cancellationToken))
            {
                while (await reader.ReadAsync(cancellationToken))
                {
                    var name = reader.GetString(0);
                    existing[name] = reader.GetString(1);
                    dropTargets[name] = sqlServer
                        ? $"{SqlServerAuditSql.Quote(reader.GetString(2))}.{SqlServerAuditSql.Quote(name)}"
                        : SqliteAuditSql.Quote(name);
                }
            }

            var dropped = existing.Keys.Where(name => !desired.TryGetValue(name, out var sql) || !SameSql(sql, existing[name])).Order(StringComparer.Ordinal).ToList();
            var created = desired.Keys.Where(name => !existing.TryGetValue(name, out var sql) || !SameSql(sql, desired[name])).Order(StringComparer.Ordinal).ToList();
            var watermark = AuditSealer.ReadWatermark(connection, transaction);
            foreach (var name in dropped)
            {
                await Execute(connection, transaction, $"DROP TRIGGER {dropTargets[name]}", cancellationToken);
            }

            foreach (var name in created)
            {
                await Execute(connection, transaction, desired[name], cancellationToken);
            }

            if (sqlServer)
            {
                // Sealers skip other writers' locked pending rows (READPAST); a table lock would make them wait instead.
                await Execute(connection, transaction, "ALTER TABLE [AuditPending] SET (LOCK_ESCALATION = DISABLE)", cancellationToken);
            }
            else
            {
                await Execute(connection, transaction, SqliteAuditSql.AppendOnlyGuards, cancellationToken);
            }
            var changes = new AuditTriggerChanges(created, dropped.Where(d => !created.Contains(d)).ToList());
            if (changes.Any)
            {
                var metadata = JsonSerializer.Serialize(new SortedDictionary<string, string?>(StringComparer.Ordinal)
                {
                    ["created"] = string.Join(", ", changes.Created),
                    ["dropped"] = string.Join(", ", changes.Dropped),
                    ["excludedTables"] = string.Join(", ", policy.ExcludedTables),
                    ["mode"] = policy.Mode.ToString(),
                });
                var now = DateTime.UtcNow.ToString(AuditSealer.SqliteDateFormat, CultureInfo.InvariantCulture);
                AuditSealer.RestoreRows(connection, transaction,
                    [new SpooledRow(null, AuditOperations.Event, null, null, null, null, CaptureChangedEvent, "audit-policy", metadata, null, null, null, now)]);
                new AuditSealer(TimeProvider.System).Seal(connection, transaction, watermark,
                    AuditContext.ForJob("startup"), Guid.NewGuid().ToString("N"));
            }

            await transaction.CommitAsync(cancellationToken);
            return changes;
        }
        finally
        {
            await database.CloseConnectionAsync();
        }
    }

    private static bool SameSql(string a, string b) => a.ReplaceLineEndings("\n").Trim() == b.ReplaceLineEndings("\n").Trim();

    private static DbCommand Command(DbConnection connection, DbTransaction transaction, string sql)
    {
        var command = connection.CreateCommand();
        command.Transaction = transaction;
        command.CommandText = sql;
        return command;
    }

    private static async Task Execute(DbConnection connection, DbTransaction transaction, string sql, CancellationToken cancellationToken)
    {
        await using var command = Command(connection, transaction, sql);
        await command.ExecuteNonQueryAsync(cancellationToken);
    }
}
