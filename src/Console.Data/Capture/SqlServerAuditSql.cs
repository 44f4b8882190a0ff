namespace ComplianceConsole.Data.Capture;

/// <summary>
/// SQL Server's append-only guards on the audit store. Each statement is its own batch. For defence in depth
/// also DENY UPDATE, DELETE ON dbo.AuditEntries to the application's login (see docs/capture.md).
/// </summary>
public static class SqlServerAuditSql
{
    public const string RefuseUpdateTrigger = """
        CREATE TRIGGER [dbo].[audit_entries_refuse_update] ON [dbo].[AuditEntries] INSTEAD OF UPDATE AS
        BEGIN
            THROW 51000, 'AuditEntries is append-only: an audit entry can never be changed.', 1;
        END
        """;

    public const string RefuseDeleteTrigger = """
        CREATE TRIGGER [dbo].[audit_entries_refuse_delete] ON [dbo].[AuditEntries] INSTEAD OF DELETE AS
        BEGIN
            THROW 51001, 'AuditEntries is append-only: entries are removed only by the retention purge.', 1;
        END
        """;

    public const string DropGuards = """
        DROP TRIGGER IF EXISTS [dbo].[audit_entries_refuse_update];
        DROP TRIGGER IF EXISTS [dbo].[audit_entries_refuse_delete];
        """;
}
