using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Migrations;

namespace ComplianceConsole.Data.Capture;

/// <summary>
/// For a context that opts into the audit trail: the append-only guards of the store, in its own migration, so the store
/// refuses every rewrite from the moment it exists, whoever deploys it (EF's Migrate, or the idempotent script a DBA runs
/// with sqlcmd), before any install. On SQL Server also the roles of the runtime login and row-only locking of the
/// pending table. Idempotent: an install that already put the guards in place is left as it is.
/// </summary>
public static class AuditMigrations
{
    /// <summary>Call it in the migration that creates the audit store (after its CreateTable calls), or in a migration of its own.</summary>
    /// <param name="schema">SQL Server: the schema of the audit store, when the model puts it outside dbo.</param>
    public static MigrationBuilder AddAuditStoreGuards(this MigrationBuilder migrationBuilder, string schema = AuditStoreModel.DefaultSqlServerSchema)
    {
        if (migrationBuilder.IsSqlServer())
        {
            foreach (var (name, sql) in SqlServerAuditSql.GuardsIn(schema))
            {
                var qualified = SqlServerAuditSql.Literal($"{SqlServerAuditSql.Quote(schema)}.{SqlServerAuditSql.Quote(name)}");
                migrationBuilder.Sql($"IF OBJECT_ID({qualified}, N'TR') IS NULL {SqlServerAuditSql.InOwnBatch(sql)}");
            }

            foreach (var statement in SqlServerAuditSql.PendingLocking(schema).Concat(SqlServerAuditSql.RoleScript(schema)))
            {
                migrationBuilder.Sql(statement);
            }

            return migrationBuilder;
        }

        if (!migrationBuilder.IsSqlite())
        {
            throw new NotSupportedException($"The audit store supports SQLite and SQL Server; this migration is for {migrationBuilder.ActiveProvider}.");
        }

        foreach (var sql in SqliteAuditSql.Guards.Values)
        {
            migrationBuilder.Sql(sql.Replace("CREATE TRIGGER \"", "CREATE TRIGGER IF NOT EXISTS \"", StringComparison.Ordinal) + ";");
        }

        return migrationBuilder;
    }
}
