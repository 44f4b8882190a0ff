using System.Data.Common;
using System.Globalization;
using ComplianceConsole.Core.Auditing;

namespace ComplianceConsole.Data.Capture;

/// <summary>Plain ADO.NET commands on a connection and transaction already open, for the store's own bulk work (baseline, reconciliation).</summary>
internal static class SqlCommands
{
    public static DbCommand Command(DbConnection connection, DbTransaction? transaction, string sql, params (string Name, object Value)[] parameters)
    {
        var command = connection.CreateCommand();
        command.Transaction = transaction;
        command.CommandText = sql;
        command.CommandTimeout = 0;
        foreach (var (name, value) in parameters)
        {
            var p = command.CreateParameter();
            p.ParameterName = name;
            p.Value = value;
            command.Parameters.Add(p);
        }

        return command;
    }

    /// <summary>A name quoted for the provider.</summary>
    public static string Quote(bool sqlite, string identifier) => sqlite ? SqliteAuditSql.Quote(identifier) : SqlServerAuditSql.Quote(identifier);

    /// <summary>An audited table's name as the provider's SQL names it (with its schema on SQL Server).</summary>
    public static string TableName(bool sqlite, TableCapturePlan plan) =>
        sqlite || plan.Schema is null ? Quote(sqlite, plan.Table) : Quote(false, plan.Schema) + "." + Quote(false, plan.Table);

    /// <summary>The key and values JSON of live row <paramref name="alias"/>, as that provider's capture triggers write them.</summary>
    public static (string Key, string Values) RowJson(bool sqlite, TableCapturePlan plan, string alias) =>
        sqlite ? SqliteAuditSql.RowJson(plan, alias) : SqlServerAuditSql.RowJson(plan, alias);

    /// <summary>A count or other number; 0 for NULL.</summary>
    public static async Task<long> ScalarAsync(DbConnection connection, DbTransaction? transaction, string sql, CancellationToken cancellationToken, params (string Name, object Value)[] parameters)
    {
        await using var command = Command(connection, transaction, sql, parameters);
        var value = await command.ExecuteScalarAsync(cancellationToken);
        return value is null or DBNull ? 0 : Convert.ToInt64(value, CultureInfo.InvariantCulture);
    }
}
