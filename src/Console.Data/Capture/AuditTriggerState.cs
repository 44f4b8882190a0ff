using System.Data.Common;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using ComplianceConsole.Core.Auditing;
using Microsoft.Data.Sqlite;

namespace ComplianceConsole.Data.Capture;

/// <summary>A trigger as the database holds it.</summary>
/// <param name="Readable">Whether its text could be read: SQL Server hides it from a user without VIEW DEFINITION.</param>
/// <param name="Disabled">SQL Server: DISABLE TRIGGER was run on it; it fires no more.</param>
public sealed record InstalledTrigger(string Name, string Table, string Sql, string? Schema, bool Readable = true, bool Disabled = false)
{
    public string Hash => AuditTriggerState.Hash(Sql);
    public string? Owner => SqliteAuditSql.OwnerOf(Sql);
}

/// <summary>The triggers that the chain says are in force: per owner, the last policy event's map of name to SHA-256.</summary>
public sealed record RecordedTriggers(IReadOnlyDictionary<string, IReadOnlyDictionary<string, string>> ByOwner, IReadOnlyDictionary<string, (long Seq, DateTime At)> RecordedAt)
{
    public IEnumerable<(string Owner, string Name, string Hash)> All =>
        ByOwner.SelectMany(o => o.Value.Select(t => (o.Key, t.Key, t.Value)));
}

/// <summary>
/// What the database's triggers are, what the chain recorded them to be, and how they differ. The installer uses it to
/// tell a tampered trigger (it differs from the last recorded state) from a policy change (the policy differs from the
/// installed state); <c>verify</c> uses it, read-only, to fail when a capture trigger or guard is missing or altered.
/// Each install records, in its <see cref="AuditEventNames.CaptureChanged"/> event, the hash of every trigger it keeps
/// in force, so the check needs no configuration and works on a copy handed over by an auditor.
/// </summary>
public static class AuditTriggerState
{
    /// <summary>The pseudo-owner of the append-only guards, shared by every context on the database.</summary>
    public const string StoreOwner = "audit-store";

    public static string Hash(string sql) =>
        Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(sql.ReplaceLineEndings("\n").Trim())));

    public static IReadOnlyDictionary<string, string> GuardsOf(DbConnection connection) =>
        connection is SqliteConnection ? SqliteAuditSql.Guards : SqlServerAuditSql.Guards;

    public static async Task<List<InstalledTrigger>> ReadInstalledAsync(DbConnection connection, DbTransaction? transaction, CancellationToken cancellationToken)
    {
        var sql = connection is SqliteConnection
            ? SqliteAuditSql.ListTriggers
            : SqlServerAuditSql.ListTriggers;
        await using var command = connection.CreateCommand();
        command.Transaction = transaction;
        command.CommandText = sql;
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        var triggers = new List<InstalledTrigger>();
        while (await reader.ReadAsync(cancellationToken))
        {
            triggers.Add(new InstalledTrigger(reader.GetString(0), reader.GetString(1), reader.IsDBNull(2) ? "" : reader.GetString(2), reader.IsDBNull(3) ? null : reader.GetString(3),
                Readable: !reader.IsDBNull(2), Disabled: Convert.ToBoolean(reader.GetValue(4), System.Globalization.CultureInfo.InvariantCulture)));
        }

        return triggers;
    }

    /// <summary>The newest policy event of each owner in the chain, with the triggers it recorded as in force.</summary>
    public static async Task<RecordedTriggers> ReadRecordedAsync(DbConnection connection, DbTransaction? transaction, CancellationToken cancellationToken)
    {
        await using var command = connection.CreateCommand();
        command.Transaction = transaction;
        command.CommandText = connection is SqliteConnection
            ? $"""SELECT "Seq", "OccurredAtUtc", "Metadata" FROM "AuditEntries" WHERE "EventName" = '{AuditEventNames.CaptureChanged}' ORDER BY "Seq" DESC"""
            : $"SELECT [Seq], [OccurredAtUtc], [Metadata] FROM [AuditEntries] WHERE [EventName] = N'{AuditEventNames.CaptureChanged}' ORDER BY [Seq] DESC";

        var byOwner = new Dictionary<string, IReadOnlyDictionary<string, string>>();
        var at = new Dictionary<string, (long, DateTime)>();
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            if (reader.IsDBNull(2))
            {
                continue;
            }

            var metadata = JsonSerializer.Deserialize<Dictionary<string, string?>>(reader.GetString(2)) ?? [];
            if (metadata.GetValueOrDefault("owner") is not { } owner || metadata.GetValueOrDefault("triggers") is not { } map || byOwner.ContainsKey(owner))
            {
                continue; // an older event, or one from before triggers were recorded with their hashes
            }

            byOwner[owner] = JsonSerializer.Deserialize<Dictionary<string, string>>(map) ?? [];
            at[owner] = (reader.GetInt64(0), reader.GetDateTime(1));
        }

        return new RecordedTriggers(byOwner, at);
    }

    /// <summary>
    /// Every way the installed triggers differ from the recorded ones: a recorded trigger missing or altered, or a
    /// trigger on the store's own tables that nobody recorded (it could rewrite values before they are sealed).
    /// </summary>
    /// <param name="guardNames">The provider's guard names: expected on the store even before the chain records them.</param>
    public static List<TriggerProblem> Compare(IReadOnlyList<InstalledTrigger> installed, RecordedTriggers recorded, IEnumerable<string> guardNames)
    {
        var problems = new List<TriggerProblem>();
        var byName = installed.ToDictionary(t => t.Name, StringComparer.Ordinal);
        foreach (var (owner, name, hash) in recorded.All.OrderBy(t => t.Name, StringComparer.Ordinal))
        {
            if (!byName.TryGetValue(name, out var trigger))
            {
                problems.Add(new TriggerProblem(name, owner, "missing", $"trigger {name} ({owner}) is missing"));
            }
            else if (trigger.Readable && trigger.Hash != hash)
            {
                problems.Add(new TriggerProblem(name, owner, "altered", $"trigger {name} ({owner}) was altered: its text is not the one installed"));
            }
            else if (trigger.Disabled)
            {
                problems.Add(new TriggerProblem(name, owner, "disabled", $"trigger {name} ({owner}) is disabled, so it fires no more"));
            }
        }

        var known = recorded.All.Select(t => t.Name).Concat(guardNames).ToHashSet(StringComparer.Ordinal);
        // A trigger on the store's own tables, or on any table when its text touches the store, could rewrite or drop
        // captured rows before they are sealed (SQLite fires the newest trigger first). Before the chain recorded any
        // trigger (a store from before hashes were recorded) only the store's own tables can be judged.
        foreach (var trigger in installed.Where(t => !known.Contains(t.Name)
            && (AuditStoreModel.StoreTables.Contains(t.Table)
                || (recorded.ByOwner.Count > 0 && AuditStoreModel.StoreTables.Any(s => t.Sql.Contains(s, StringComparison.OrdinalIgnoreCase))))))
        {
            problems.Add(new TriggerProblem(trigger.Name, null, "unrecorded", $"trigger {trigger.Name} on {trigger.Table} was not installed by the capture engine"));
        }

        return problems;
    }

    /// <summary>The metadata of a policy event: the owner and every trigger it keeps in force, with its hash.</summary>
    internal static Dictionary<string, string> Map(IEnumerable<KeyValuePair<string, string>> triggers) =>
        triggers.OrderBy(t => t.Key, StringComparer.Ordinal).ToDictionary(t => t.Key, t => Hash(t.Value), StringComparer.Ordinal);
}

public sealed record TriggerProblem(string Name, string? Owner, string Kind, string Message);
