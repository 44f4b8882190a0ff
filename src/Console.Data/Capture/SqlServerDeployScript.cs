using System.Text;
using System.Text.Json;
using ComplianceConsole.Core.Auditing;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Infrastructure;
using Microsoft.EntityFrameworkCore.Migrations;

namespace ComplianceConsole.Data.Capture;

/// <summary><c>install-capture --script</c>: the SQL Server deploy step as one idempotent T-SQL script for sqlcmd.</summary>
public static class SqlServerDeployScript
{
    /// <summary>
    /// The SQL Server deploy script: EF's idempotent migration script (which also makes the roles), then the guards and
    /// the capture triggers of the configured policy, each dropped and created in its own batch, then the policy events
    /// into AuditPending, which the console's background sealer seals into the chain (attributed to the deploy script).
    /// What it does not do, install-capture run directly does: record the rows a table already holds when its capture
    /// begins (the baseline), and drop triggers of tables the policy no longer captures.
    /// </summary>
    /// <param name="partition">Also partition the store on seq, monthly, with the switch-out procedures (<see cref="Retention.SqlServerPartitions"/>).</param>
    /// <param name="jobStore">The scheduler's own tables, create-if-missing statements (the console's Quartz schema), each its own batch after the migrations.</param>
    public static (string Script, IReadOnlyList<string> Refused) Generate(AuditOptions audit, bool partition = false, IReadOnlyList<string>? jobStore = null)
    {
        using var db = new SqlServerDesignTimeFactory().CreateDbContext([]);
        var schema = AuditStoreModel.SqlServerSchemaOf(db.Model);
        var policy = AuditPolicyResolver.Resolve(db.Model, audit);
        var script = new StringBuilder();
        script.AppendLine("-- Compliance Console: SQL Server deploy script (install-capture --script). Idempotent; run as the deploy login:")
              .AppendLine("--   sqlcmd -b -S SERVER -d DATABASE -i THIS_FILE")
              .AppendLine($"-- Then: ALTER ROLE [{SqlServerAuditSql.WriterRole}] ADD MEMBER [the console's user];  (docs/sqlserver.md)")
              .AppendLine()
              .AppendLine(db.GetService<IMigrator>().GenerateScript(options: MigrationsSqlGenerationOptions.Idempotent));
        if (jobStore is { Count: > 0 })
        {
            script.AppendLine("-- The scheduler's job store (Quartz, QRTZ_*): creates only what is missing, in the login's default schema.");
            foreach (var statement in jobStore)
            {
                script.AppendLine(statement).AppendLine("GO");
            }
        }

        // Memory-optimized tables cannot be seen from here: a script run on one stops at its CREATE TRIGGER (sqlcmd -b).
        var (triggers, refused) = AuditTriggerInstaller.Plan(policy, schema, new HashSet<string>(),
            table => [SqlServerAuditSql.CaptureTrigger(table, policy.Mode, DatabaseInitializer.Owner, schema)]);

        var guards = SqlServerAuditSql.GuardsIn(schema);
        foreach (var (name, sql) in guards.Concat(triggers))
        {
            var on = System.Text.RegularExpressions.Regex.Match(sql, @"CREATE TRIGGER (\[[^\]]+\])\.").Groups[1].Value;
            script.AppendLine($"IF OBJECT_ID(N'{on}.{SqlServerAuditSql.Quote(name)}', N'TR') IS NOT NULL DROP TRIGGER {on}.{SqlServerAuditSql.Quote(name)};")
                  .AppendLine("GO")
                  .AppendLine(sql)
                  .AppendLine("GO");
        }

        foreach (var reason in refused)
        {
            script.AppendLine("-- NOT CAPTURED: " + reason.ReplaceLineEndings(" "));
        }

        string Event(string target, IDictionary<string, string?> metadata) =>
            $"INSERT INTO {SqlServerAuditSql.Quote(schema)}.[{AuditStoreModel.PendingTable}] ([Operation], [EventName], [Target], [Metadata], [ActorId], [ActorName], [CapturedAtUtc]) " +
            $"VALUES (N'event', N'{AuditEventNames.CaptureChanged}', {SqlServerAuditSql.Literal(target)}, {SqlServerAuditSql.Literal(JsonSerializer.Serialize(metadata))}, N'deploy-script', N'deploy script (install-capture --script)', SYSUTCDATETIME());";
        var map = AuditTriggerState.Map(triggers);
        script.AppendLine(Event("audit-policy", AuditTriggerInstaller.PolicyChange(DatabaseInitializer.Owner, policy, map.Keys, [], refused, [], map)));
        script.AppendLine(Event("audit-store", new SortedDictionary<string, string?>(StringComparer.Ordinal)
        {
            ["owner"] = AuditTriggerState.StoreOwner,
            ["triggers"] = JsonSerializer.Serialize(AuditTriggerState.Map(guards)),
        }));
        script.AppendLine("GO");
        if (partition)
        {
            foreach (var statement in Retention.SqlServerPartitions.Install(db.Model, schema))
            {
                script.AppendLine(statement).AppendLine("GO");
            }
        }

        return (script.ToString(), refused);
    }
}
