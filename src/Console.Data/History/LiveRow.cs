using System.Data.Common;
using System.Text.Json;
using ComplianceConsole.Core.Auditing;
using ComplianceConsole.Core.History;
using ComplianceConsole.Data.Capture;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Storage;

namespace ComplianceConsole.Data.History;

/// <summary>
/// One live row by its stored key, read and written in the trail's own terms: values as the capture triggers write them
/// (<see cref="SqliteAuditSql.RowJson"/>), written back from a rebuilt <see cref="RecordState"/>. Used by revert, inside
/// the caller's transaction, through the caller's context, so that the write is captured like any other.
/// </summary>
internal static class LiveRow
{
    public static async Task<RecordState> ReadAsync(DbContext db, TableCapturePlan plan, string key, CancellationToken cancellationToken)
    {
        var (_, values) = SqlCommands.RowJson(db.Database.IsSqlite(), plan, "s");
        var (where, parameters) = KeyFilter(db, plan, key, "s.");
        await db.Database.OpenConnectionAsync(cancellationToken);
        try
        {
            await using var command = db.Database.GetDbConnection().CreateCommand();
            command.Transaction = db.Database.CurrentTransaction?.GetDbTransaction();
            command.CommandText = $"SELECT {values} FROM {Table(db, plan)} AS s WHERE {where}";
            command.Parameters.AddRange(parameters.ToArray());
            var json = await command.ExecuteScalarAsync(cancellationToken) as string;
            if (json is null)
            {
                return RecordState.None;
            }

            using var doc = JsonDocument.Parse(json);
            return new RecordState(doc.RootElement.EnumerateObject().ToDictionary(p => p.Name, p => p.Value.Clone(), StringComparer.Ordinal), true, null);
        }
        finally
        {
            await db.Database.CloseConnectionAsync();
        }
    }

    /// <summary>The keys (as the trail writes them) of the rows whose <paramref name="column"/> holds <paramref name="value"/>: a record's live link rows.</summary>
    public static async Task<List<string>> KeysWhereAsync(DbContext db, TableCapturePlan plan, string column, JsonElement value, int max, CancellationToken cancellationToken)
    {
        var (key, _) = SqlCommands.RowJson(db.Database.IsSqlite(), plan, "s");
        await db.Database.OpenConnectionAsync(cancellationToken);
        try
        {
            await using var command = SqlCommands.Command(db.Database.GetDbConnection(), db.Database.CurrentTransaction?.GetDbTransaction(),
                $"SELECT {key} FROM {Table(db, plan)} AS s WHERE s.{Quote(db)(column)} = @v", ("@v", value.ValueKind == JsonValueKind.Number ? value.GetInt64() : value.GetString()!));
            var keys = new List<string>();
            await using var reader = await command.ExecuteReaderAsync(cancellationToken);
            while (keys.Count < max && await reader.ReadAsync(cancellationToken))
            {
                keys.Add(reader.GetString(0));
            }

            return keys;
        }
        finally
        {
            await db.Database.CloseConnectionAsync();
        }
    }

    /// <summary>Deletes the row (<paramref name="state"/> null), inserts it whole (<paramref name="columns"/> null), or updates the given columns.</summary>
    public static async Task WriteAsync(DbContext db, TableCapturePlan plan, string key, RecordState? state, IReadOnlyList<string>? columns, CancellationToken cancellationToken)
    {
        var (where, parameters) = KeyFilter(db, plan, key, "");
        var table = Table(db, plan);
        var quote = Quote(db);
        string sql;
        if (state is null)
        {
            sql = $"DELETE FROM {table} WHERE {where}";
        }
        else if (columns is null)
        {
            var names = state.Columns.Keys.Where(c => plan.Columns.Any(p => p.Name == c && p.Treatment != ColumnTreatment.Ignore)).ToList();
            parameters = [];
            var values = names.Select((c, i) =>
            {
                parameters.Add(Parameter(db, $"@v{i}", ToDb(state.Columns[c], plan.Columns.First(p => p.Name == c), db.Database.IsSqlite())));
                return $"@v{i}";
            }).ToList();
            sql = $"INSERT INTO {table} ({string.Join(", ", names.Select(quote))}) VALUES ({string.Join(", ", values)})";
            if (!db.Database.IsSqlite())
            {
                sql = $"IF OBJECTPROPERTY(OBJECT_ID(N'{table.Replace("'", "''")}'), 'TableHasIdentity') = 1 SET IDENTITY_INSERT {table} ON; {sql}; " +
                      $"IF OBJECTPROPERTY(OBJECT_ID(N'{table.Replace("'", "''")}'), 'TableHasIdentity') = 1 SET IDENTITY_INSERT {table} OFF;";
            }
        }
        else
        {
            var sets = columns.Select((c, i) =>
            {
                parameters.Add(Parameter(db, $"@v{i}", ToDb(state[c], plan.Columns.First(p => p.Name == c), db.Database.IsSqlite())));
                return $"{quote(c)} = @v{i}";
            }).ToList();
            sql = $"UPDATE {table} SET {string.Join(", ", sets)} WHERE {where}";
        }

        var affected = await db.Database.ExecuteSqlRawAsync(sql, parameters.Cast<object>().ToArray(), cancellationToken);
        if (affected == 0 && state is not null && columns is not null)
        {
            throw new GoneException($"{plan.Table} {key} was not there to update: it was deleted meanwhile.");
        }
    }

    /// <summary>The row to update is gone (deleted by someone else between the check and the write).</summary>
    public sealed class GoneException(string message) : Exception(message);

    /// <summary>A trail value as the provider stores it: binary from its hex, JSON documents as text, numbers as they read.</summary>
    private static object ToDb(JsonElement? value, ColumnCapture column, bool sqlite) => value switch
    {
        null or { ValueKind: JsonValueKind.Null } => DBNull.Value,
        { ValueKind: JsonValueKind.String } s when column.IsBinary => Convert.FromHexString(s.GetString()!),
        { ValueKind: JsonValueKind.String } s => s.GetString()!,
        { ValueKind: JsonValueKind.Number } n => n.TryGetInt64(out var l) ? l : sqlite ? n.GetDouble() : n.GetDecimal(),
        { ValueKind: JsonValueKind.True } => sqlite ? 1L : true,
        { ValueKind: JsonValueKind.False } => sqlite ? 0L : false,
        { } document => document.GetRawText(),
    };

    private static (string Where, List<DbParameter> Parameters) KeyFilter(DbContext db, TableCapturePlan plan, string key, string alias)
    {
        using var doc = JsonDocument.Parse(key);
        var parameters = new List<DbParameter>();
        var parts = new List<string>();
        var quote = Quote(db);
        foreach (var (name, i) in plan.KeyColumns.Select((k, i) => (k, i)))
        {
            if (!doc.RootElement.TryGetProperty(name, out var value))
            {
                throw new ArgumentException($"The key {key} has no {name}, a key column of {plan.Table}.");
            }

            parameters.Add(Parameter(db, $"@k{i}", ToDb(value.Clone(), plan.Columns.First(c => c.Name == name), db.Database.IsSqlite())));
            parts.Add($"{alias}{quote(name)} = @k{i}");
        }

        return (string.Join(" AND ", parts), parameters);
    }

    private static DbParameter Parameter(DbContext db, string name, object value)
    {
        using var command = db.Database.GetDbConnection().CreateCommand();
        var parameter = command.CreateParameter();
        parameter.ParameterName = name;
        parameter.Value = value;
        return parameter;
    }

    private static Func<string, string> Quote(DbContext db)
    {
        var sqlite = db.Database.IsSqlite();
        return name => SqlCommands.Quote(sqlite, name);
    }

    private static string Table(DbContext db, TableCapturePlan plan) => SqlCommands.TableName(db.Database.IsSqlite(), plan);
}
