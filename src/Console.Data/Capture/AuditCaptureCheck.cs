using System.Data.Common;
using ComplianceConsole.Core.Auditing;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Infrastructure;

namespace ComplianceConsole.Data.Capture;

/// <param name="Problems">What is missing or differs, each with what to do; capture is not as deployed while any remain.</param>
/// <param name="Notes">What holds but is worth knowing: the runtime login holding more than it needs.</param>
public sealed record AuditCaptureCheck(IReadOnlyList<string> Problems, IReadOnlyList<string> Notes)
{
    public bool IsClean => Problems.Count == 0;
}

/// <summary>
/// The start-up check of a runtime principal that may not run DDL (SQL Server under least privilege): compares the
/// database with what the configured policy wants, writing nothing. Each capture trigger and guard must exist, be
/// enabled, and (when the login may read trigger text) be the one the policy generates; the chain's record of the
/// install must be the policy in force; tables the provider cannot capture are named; and on SQL Server the login must
/// hold the DML it needs and be able to take the chain lock. Reads only catalog views, the store and HAS_PERMS_BY_NAME.
/// </summary>
public static class AuditCaptureChecker
{
    public const string Fix = "run 'dotnet run --project src/Console.Web -- install-capture' with the deploy login (docs/sqlserver.md)";

    /// <param name="purgesHere">This node runs the retention purge (Retention:RunsHere): its login must be able to delete purged entries.</param>
    public static async Task<AuditCaptureCheck> CheckAsync(DatabaseFacade database, AuditOptions options, string owner, bool purgesHere = false, CancellationToken cancellationToken = default)
    {
        var sqlServer = database.IsSqlServer();
        var context = database.GetService<ICurrentDbContext>().Context;
        var policy = AuditPolicyResolver.Resolve(context.Model, options);
        var storeSchema = AuditStoreModel.SqlServerSchemaOf(context.Model);
        var problems = new List<string>();
        var notes = new List<string>();
        await database.OpenConnectionAsync(cancellationToken);
        try
        {
            var connection = database.GetDbConnection();
            var (desired, refused) = await AuditTriggerInstaller.DesiredAsync(connection, null, policy, owner, sqlServer, storeSchema, cancellationToken);
            problems.AddRange(refused.Select(r => "not captured: " + r));
            var guards = sqlServer ? SqlServerAuditSql.GuardsIn(storeSchema) : SqliteAuditSql.Guards;
            var installed = (await AuditTriggerState.ReadInstalledAsync(connection, null, cancellationToken)).ToDictionary(t => t.Name, StringComparer.Ordinal);
            var recorded = await AuditTriggerState.ReadRecordedAsync(connection, null, cancellationToken);
            if (installed.Count == 0 && recorded.ByOwner.ContainsKey(owner))
            {
                // The chain says triggers were installed, yet the login sees none: SQL Server shows catalog rows only of what
                // a login holds some permission on. Say so once, rather than call every trigger missing.
                problems.Add($"the console's login sees no trigger at all, though the chain recorded their install: grant its role VIEW DEFINITION ON SCHEMA::{SqlServerAuditSql.Quote(storeSchema)} for this check, or run 'verify' with the deploy login");
                installed = desired.Keys.Concat(guards.Keys).ToDictionary(n => n, n => new InstalledTrigger(n, "", "", null, Readable: false), StringComparer.Ordinal);
            }

            foreach (var (name, sql) in guards.Concat(desired).OrderBy(t => t.Key, StringComparer.Ordinal))
            {
                if (!installed.TryGetValue(name, out var trigger))
                {
                    problems.Add($"trigger {name} is missing: {Fix}");
                }
                else if (trigger.Disabled)
                {
                    problems.Add($"trigger {name} is disabled, so its changes are not captured: a restart with install-capture enables it and records the tampering; investigate who ran DISABLE TRIGGER");
                }
                else if (trigger.Readable && trigger.Hash != AuditTriggerState.Hash(sql))
                {
                    problems.Add($"trigger {name} differs from the policy in configuration: {Fix}");
                }
            }

            // Without VIEW DEFINITION the text cannot be read; the chain's record of the last install still can.
            var wanted = AuditTriggerState.Map(desired);
            if (!recorded.ByOwner.TryGetValue(owner, out var map) || map.Count != wanted.Count || wanted.Any(w => !map.TryGetValue(w.Key, out var hash) || hash != w.Value))
            {
                problems.Add($"the policy in configuration is not the one the chain recorded as installed for {owner}: {Fix}");
            }

            problems.AddRange(AuditTriggerState.Compare([.. installed.Values], recorded, guards.Keys)
                .Where(p => p.Kind is "unrecorded").Select(p => p.Message + ": investigate it, then drop it"));
            if (sqlServer)
            {
                await CheckPermissionsAsync(connection, storeSchema, policy, purgesHere, problems, notes, cancellationToken);
            }
        }
        finally
        {
            await database.CloseConnectionAsync();
        }

        return new AuditCaptureCheck(problems, notes);
    }

    /// <summary>The permissions the runtime needs, each checked with HAS_PERMS_BY_NAME for the current login (which reads nothing else).</summary>
    internal static string PermissionsSql(string storeSchema, IEnumerable<TableCapturePlan> tables)
    {
        string Object(string schema, string table) => SqlServerAuditSql.Literal($"{SqlServerAuditSql.Quote(schema)}.{SqlServerAuditSql.Quote(table)}");
        var rows = new List<string>();
        foreach (var permission in new[] { "SELECT", "INSERT" })
        {
            rows.Add($"({Object(storeSchema, AuditStoreModel.EntriesTable)}, N'{permission}')");
        }

        foreach (var permission in new[] { "SELECT", "INSERT", "DELETE" })
        {
            rows.Add($"({Object(storeSchema, AuditStoreModel.PendingTable)}, N'{permission}')");
        }

        foreach (var table in tables)
        {
            foreach (var permission in new[] { "SELECT", "INSERT", "UPDATE", "DELETE" })
            {
                rows.Add($"({Object(table.Schema ?? storeSchema, table.Table)}, N'{permission}')");
            }
        }

        return $"""
            SELECT v.[o], v.[p], ISNULL(HAS_PERMS_BY_NAME(v.[o], N'OBJECT', v.[p]), 0) FROM (VALUES {string.Join(", ", rows)}) AS v([o], [p]);
            SELECT CASE WHEN IS_ROLEMEMBER(N'{SqlServerAuditSql.ChainLockRole}') = 1 OR IS_ROLEMEMBER(N'db_owner') = 1 THEN 1 ELSE 0 END,
                   ISNULL(HAS_PERMS_BY_NAME({Object(storeSchema, AuditStoreModel.EntriesTable)}, N'OBJECT', N'ALTER'), 0),
                   ISNULL(HAS_PERMS_BY_NAME({Object(storeSchema, AuditStoreModel.EntriesTable)}, N'OBJECT', N'DELETE'), 0);
            """;
    }

    private static async Task CheckPermissionsAsync(DbConnection connection, string storeSchema, AuditPolicySnapshot policy, bool purgesHere, List<string> problems, List<string> notes, CancellationToken cancellationToken)
    {
        await using var command = connection.CreateCommand();
        command.CommandText = PermissionsSql(storeSchema, policy.Tables);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        var missing = new List<string>();
        while (await reader.ReadAsync(cancellationToken))
        {
            if (Convert.ToInt32(reader.GetValue(2), System.Globalization.CultureInfo.InvariantCulture) != 1)
            {
                missing.Add($"{reader.GetString(1)} on {reader.GetString(0)}");
            }
        }

        if (missing.Count > 0)
        {
            problems.Add($"the console's login lacks {string.Join(", ", missing)}: changes to those tables fail; add the login's user to the role {SqlServerAuditSql.WriterRole} (the role script in docs/sqlserver.md)");
        }

        await reader.NextResultAsync(cancellationToken);
        if (await reader.ReadAsync(cancellationToken))
        {
            if (Convert.ToInt32(reader.GetValue(0), System.Globalization.CultureInfo.InvariantCulture) != 1)
            {
                problems.Add($"the console's login is not in the role {SqlServerAuditSql.WriterRole}, so it cannot take the audit chain lock and every audited change fails: add it with ALTER ROLE {SqlServerAuditSql.WriterRole} ADD MEMBER");
            }

            if (Convert.ToInt32(reader.GetValue(1), System.Globalization.CultureInfo.InvariantCulture) == 1)
            {
                notes.Add("the console's login holds ALTER on the audit store, so it could disable a trigger or truncate a table: least privilege is not in force. Checkpoints and reconciliation would detect such tampering but cannot prevent it; run the console as a member of " + SqlServerAuditSql.WriterRole + " only (docs/sqlserver.md)");
            }

            if (purgesHere && Convert.ToInt32(reader.GetValue(2), System.Globalization.CultureInfo.InvariantCulture) != 1)
            {
                notes.Add($"this node runs the retention purge (Retention:RunsHere), but its login may not delete purged audit entries, so a purge it runs fails after archiving (the next one on a node that may finishes it): add its user to the role {SqlServerAuditSql.PurgerRole}, or set Retention:RunsHere to false on this node");
            }
        }
    }
}
