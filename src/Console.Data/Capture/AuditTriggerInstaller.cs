using System.Data.Common;
using System.Globalization;
using System.Text.Json;
using ComplianceConsole.Core.Auditing;
using ComplianceConsole.Data.Interceptors;
using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Infrastructure;

namespace ComplianceConsole.Data.Capture;

/// <param name="Restored">Guards or capture triggers found missing or altered against the chain's record, and re-installed.</param>
/// <param name="Skipped">Tables this owner would capture but another owner already does: left as they are.</param>
public sealed record AuditTriggerChanges(IReadOnlyList<string> Created, IReadOnlyList<string> Dropped, IReadOnlyList<string> Restored, IReadOnlyList<string> Skipped)
{
    /// <summary>Tables the policy would capture but this provider cannot, each with why and what to do. The rest was installed.</summary>
    public IReadOnlyList<string> Refused { get; init; } = [];

    public bool Any => Created.Count > 0 || Dropped.Count > 0;
}

/// <summary>
/// Keeps the database's triggers equal to an owner's policy, in one transaction:
/// - the append-only guards of the store, shared by every owner;
/// - the owner's capture triggers: creates missing ones, replaces changed ones, drops those of tables its policy no
///   longer captures. Every capture trigger names its owner (the context type, or the name given), and an install
///   never touches another owner's triggers: several contexts can share one database.
/// A trigger that differs from what the chain last recorded (missing, altered, or an unknown trigger on the store's
/// own tables) is a tamper signal: it is restored and recorded as <see cref="AuditEventNames.CaptureRestored"/>.
/// A policy change is recorded as <see cref="AuditEventNames.CaptureChanged"/>, with the hash of every trigger in force.
/// </summary>
public static class AuditTriggerInstaller
{
    public const string CaptureChangedEvent = AuditEventNames.CaptureChanged;

    public static async Task<AuditTriggerChanges> InstallAsync(DatabaseFacade database, AuditOptions options, string? owner = null, CancellationToken cancellationToken = default)
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
        owner ??= context.GetType().FullName ?? context.GetType().Name;
        var policy = AuditPolicyResolver.Resolve(context.Model, options);
        var storeSchema = AuditStoreModel.SqlServerSchemaOf(context.Model);

        await database.OpenConnectionAsync(cancellationToken);
        try
        {
            var connection = database.GetDbConnection();
            await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
            if (sqlServer)
            {
                // Two nodes starting at once: the second waits here, then reads the triggers the first installed.
                await Execute(connection, transaction, $"""
                    DECLARE @lock int;
                    EXEC @lock = sp_getapplock @Resource = N'{InstallLock}', @LockMode = N'Exclusive', @LockOwner = N'Transaction', @LockTimeout = 60000;
                    IF @lock < 0 THROW 51012, 'Another node has been installing the capture triggers for 60 s; try again when it is done.', 1;
                    """, cancellationToken);
            }

            var (desired, refused) = await DesiredAsync(connection, transaction, policy, owner, sqlServer, storeSchema, cancellationToken);
            var guards = sqlServer ? SqlServerAuditSql.GuardsIn(storeSchema) : SqliteAuditSql.Guards;
            var installed = await AuditTriggerState.ReadInstalledAsync(connection, transaction, cancellationToken);
            var recorded = await AuditTriggerState.ReadRecordedAsync(connection, transaction, cancellationToken);
            var byName = installed.ToDictionary(t => t.Name, StringComparer.Ordinal);

            // Tamper signals this install can repair: the guards, this owner's triggers, unknown triggers on the store.
            var tampered = AuditTriggerState.Compare(installed, recorded, guards.Keys)
                .Where(p => p.Owner is null || p.Owner == owner || p.Owner == AuditTriggerState.StoreOwner).ToList();

            var skipped = new List<string>();
            foreach (var name in desired.Keys.ToList())
            {
                if (byName.TryGetValue(name, out var existing) && existing.Owner is { } other && other != owner)
                {
                    skipped.Add($"{name} (owned by {other})");
                    desired.Remove(name);
                }
            }

            var drop = new List<InstalledTrigger>();
            var create = new List<string>();
            void Want(string name, string sql)
            {
                if (byName.TryGetValue(name, out var existing))
                {
                    if (existing.Hash == AuditTriggerState.Hash(sql) && !existing.Disabled)
                    {
                        return; // a disabled trigger is put back enabled, and reported as tampering
                    }

                    drop.Add(existing);
                }

                create.Add(sql);
            }

            foreach (var (name, sql) in guards)
            {
                Want(name, sql);
            }

            foreach (var (name, sql) in desired)
            {
                Want(name, sql);
            }

            var planned = policy.Tables.Select(t => t.Table).ToHashSet(StringComparer.Ordinal);
            drop.AddRange(installed.Where(t =>
                t.Name.StartsWith(SqliteAuditSql.CaptureTriggerPrefix, StringComparison.Ordinal) && !desired.ContainsKey(t.Name)
                && (t.Owner == owner || (t.Owner is null && planned.Contains(t.Table)))));
            drop.AddRange(installed.Where(t => tampered.Any(p => p.Kind == "unrecorded" && p.Name == t.Name)));

            var watermark = AuditSealer.ReadWatermark(connection, transaction);
            foreach (var trigger in drop.DistinctBy(t => t.Name))
            {
                await DropAsync(connection, transaction, trigger, cancellationToken);
            }

            foreach (var sql in create)
            {
                await Execute(connection, transaction, sql, cancellationToken);
            }

            if (sqlServer)
            {
                // The background sealer skips writers' locked pending rows (READPAST); a page or table lock would make it wait
                // instead. And the roles the runtime login is given (the migration makes them too; an opt-in context's may not).
                foreach (var statement in SqlServerAuditSql.PendingLocking(storeSchema).Concat(SqlServerAuditSql.RoleScript(storeSchema)))
                {
                    await Execute(connection, transaction, statement, cancellationToken);
                }
            }

            var events = new List<SpooledRow>();
            // The first install on a table records the rows it already holds (AuditBaseline), in this transaction.
            foreach (var table in policy.Tables)
            {
                var prefix = SqliteAuditSql.CaptureTriggerPrefix + table.Table;
                var creating = desired.Any(d => (d.Key == prefix || d.Key.StartsWith(prefix + "_", StringComparison.Ordinal)) && create.Contains(d.Value));
                if (creating && await AuditBaseline.IsFirstCaptureAsync(connection, transaction, table.Table, recorded, cancellationToken)
                    && await AuditBaseline.BeginAsync(connection, transaction, table, options.BaselineInlineRows, cancellationToken) is { } baseline)
                {
                    events.Add(baseline);
                }
            }

            if (tampered.Count > 0)
            {
                events.Add(Event(AuditEventNames.CaptureRestored, owner, new SortedDictionary<string, string?>(StringComparer.Ordinal)
                {
                    ["owner"] = owner,
                    ["restored"] = string.Join("\n", tampered.Select(p => p.Message)),
                    ["since"] = await SinceAsync(connection, transaction, tampered, recorded, cancellationToken),
                }));
            }

            var createdNames = desired.Where(d => create.Contains(d.Value)).Select(d => d.Key).Order(StringComparer.Ordinal).ToList();
            var droppedNames = drop.Select(d => d.Name).Where(n => !desired.ContainsKey(n) && !guards.ContainsKey(n)).Distinct().Order(StringComparer.Ordinal).ToList();
            var map = AuditTriggerState.Map(desired);
            // A restore puts back what the record already says; only a policy that differs from the record is a change.
            if (!recorded.ByOwner.TryGetValue(owner, out var before) || !SameMap(before, map))
            {
                events.Add(Event(AuditEventNames.CaptureChanged, "audit-policy", PolicyChange(owner, policy, createdNames, droppedNames, refused, skipped, map)));
            }

            var guardMap = AuditTriggerState.Map(guards);
            if (!recorded.ByOwner.TryGetValue(AuditTriggerState.StoreOwner, out var guardsBefore) || !SameMap(guardsBefore, guardMap))
            {
                events.Add(Event(AuditEventNames.CaptureChanged, "audit-store", new SortedDictionary<string, string?>(StringComparer.Ordinal)
                {
                    ["owner"] = AuditTriggerState.StoreOwner,
                    ["triggers"] = JsonSerializer.Serialize(guardMap),
                }));
            }

            if (events.Count > 0)
            {
                AuditSealer.RestoreRows(connection, transaction, events, storeSchema);
                await new AuditSealer(null).SealAsync(connection, transaction, watermark,
                    AuditContext.ForJob("capture-install"), Guid.NewGuid().ToString("N"), async: true, cancellationToken, storeSchema);
            }

            await transaction.CommitAsync(cancellationToken);
            return new AuditTriggerChanges(createdNames, droppedNames, tampered.Select(p => p.Message).ToList(), skipped) { Refused = refused };
        }
        finally
        {
            await database.CloseConnectionAsync();
        }
    }

    /// <summary>
    /// Removes capture from a table on purpose: drops its capture triggers, whoever installed them, and records
    /// <see cref="AuditEventNames.CaptureRemoved"/> with the reason, and each affected owner's triggers now in force.
    /// Returns the triggers dropped. An owner whose policy still captures the table installs it again at its next
    /// start-up: exclude the table in that owner's configuration first.
    /// </summary>
    public static async Task<IReadOnlyList<string>> RemoveAsync(DatabaseFacade database, string table, string reason, AuditContext actor, CancellationToken cancellationToken = default)
    {
        if (string.IsNullOrWhiteSpace(reason))
        {
            throw new ArgumentException("Say why capture is removed from the table: the reason is recorded in the chain.", nameof(reason));
        }

        await database.OpenConnectionAsync(cancellationToken);
        try
        {
            var connection = database.GetDbConnection();
            await using var transaction = await connection.BeginTransactionAsync(cancellationToken);
            var installed = await AuditTriggerState.ReadInstalledAsync(connection, transaction, cancellationToken);
            var recorded = await AuditTriggerState.ReadRecordedAsync(connection, transaction, cancellationToken);
            var targets = installed.Where(t => t.Name.StartsWith(SqliteAuditSql.CaptureTriggerPrefix, StringComparison.Ordinal)
                && string.Equals(t.Table, table, StringComparison.OrdinalIgnoreCase)).ToList();
            if (targets.Count == 0)
            {
                throw new InvalidOperationException($"Table {table} has no capture triggers, so there is nothing to remove. The tables captured are listed under Audit trail › Capture policy.");
            }

            var watermark = AuditSealer.ReadWatermark(connection, transaction);
            foreach (var trigger in targets)
            {
                await DropAsync(connection, transaction, trigger, cancellationToken);
            }

            var names = targets.Select(t => t.Name).ToHashSet(StringComparer.Ordinal);
            var events = new List<SpooledRow>
            {
                Event(AuditEventNames.CaptureRemoved, table, new SortedDictionary<string, string?>(StringComparer.Ordinal)
                {
                    ["dropped"] = string.Join(", ", names.Order(StringComparer.Ordinal)),
                    ["reason"] = reason,
                    ["table"] = table,
                }),
            };
            foreach (var (owner, map) in recorded.ByOwner.Where(o => o.Value.Keys.Any(names.Contains)))
            {
                events.Add(Event(AuditEventNames.CaptureChanged, "audit-policy", new SortedDictionary<string, string?>(StringComparer.Ordinal)
                {
                    ["owner"] = owner,
                    ["dropped"] = string.Join(", ", map.Keys.Where(names.Contains).Order(StringComparer.Ordinal)),
                    ["triggers"] = JsonSerializer.Serialize(map.Where(t => !names.Contains(t.Key)).ToDictionary(t => t.Key, t => t.Value)),
                }));
            }

            AuditSealer.RestoreRows(connection, transaction, events);
            await new AuditSealer(null).SealAsync(connection, transaction, watermark, actor, Guid.NewGuid().ToString("N"), async: true, cancellationToken,
                AuditStoreModel.SqlServerSchemaOf(database.GetService<ICurrentDbContext>().Context.Model));
            await transaction.CommitAsync(cancellationToken);
            return names.Order(StringComparer.Ordinal).ToList();
        }
        finally
        {
            await database.CloseConnectionAsync();
        }
    }

    /// <summary>The application lock two nodes installing at once take in turn (SQL Server; SQLite's write lock does it there).</summary>
    public const string InstallLock = "ComplianceConsole.CaptureInstall";

    /// <summary>
    /// The capture triggers the policy wants, by name, and the tables it cannot capture on this provider, each with why
    /// and what to do: a table the generator cannot handle is refused, and the rest is installed, so one odd table never
    /// takes the whole install (and the app) down.
    /// </summary>
    internal static async Task<(Dictionary<string, string> Desired, List<string> Refused)> DesiredAsync(DbConnection connection, DbTransaction? transaction,
        AuditPolicySnapshot policy, string owner, bool sqlServer, string storeSchema, CancellationToken cancellationToken)
    {
        if (sqlServer)
        {
            var memoryOptimized = await MemoryOptimizedTablesAsync(connection, transaction, cancellationToken);
            return Plan(policy, storeSchema, memoryOptimized, table => [SqlServerAuditSql.CaptureTrigger(table, policy.Mode, owner, storeSchema)]);
        }

        var uniqueKeys = new Dictionary<string, List<IReadOnlyList<UniqueColumn>>>(StringComparer.Ordinal);
        foreach (var table in policy.Tables)
        {
            uniqueKeys[table.Table] = await SqliteUniqueKeysAsync(connection, transaction, table.Table, cancellationToken);
        }

        return Plan(policy, storeSchema, new HashSet<string>(), table => SqliteAuditSql.CaptureTriggers(table, policy.Mode, owner, uniqueKeys[table.Table]));
    }

    /// <summary>
    /// The triggers <paramref name="triggersOf"/> generates for each table of the policy, and the tables refused, each with
    /// why and what to do: one name in two schemas, a memory-optimized table, or what the generator cannot handle. Shared by
    /// the install, the runtime check and the deploy script.
    /// </summary>
    internal static (Dictionary<string, string> Desired, List<string> Refused) Plan(AuditPolicySnapshot policy, string storeSchema,
        IReadOnlySet<string> memoryOptimized, Func<TableCapturePlan, IEnumerable<KeyValuePair<string, string>>> triggersOf)
    {
        var desired = new Dictionary<string, string>(StringComparer.Ordinal);
        var refused = new List<string>();
        var sameName = policy.Tables.GroupBy(t => t.Table, StringComparer.OrdinalIgnoreCase).Where(g => g.Count() > 1)
            .ToDictionary(g => g.Key, g => string.Join(" and ", g.Select(t => t.Schema ?? storeSchema)), StringComparer.OrdinalIgnoreCase);
        foreach (var table in policy.Tables)
        {
            if (sameName.TryGetValue(table.Table, out var schemas))
            {
                refused.Add($"{table.Table} is a table name in the schemas {schemas}, and an entry names its table without the schema, so their histories would mix: exclude all but one of them (Audit:ExcludedEntities), or rename one.");
                continue;
            }

            if (memoryOptimized.Contains(table.Table))
            {
                refused.Add($"{table.Table} is a memory-optimized table, whose triggers must be natively compiled and cannot build an entry's JSON: keep the audited data in a disk-based table, or exclude it (Audit:ExcludedEntities).");
                continue;
            }

            try
            {
                foreach (var (name, sql) in triggersOf(table))
                {
                    desired[name] = sql;
                }
            }
            catch (NotSupportedException e)
            {
                refused.Add(e.Message);
            }
        }

        return (desired, refused);
    }

    /// <summary>The metadata of an owner's <see cref="AuditEventNames.CaptureChanged"/> event: its policy and the hash of every trigger it keeps in force.</summary>
    internal static SortedDictionary<string, string?> PolicyChange(string owner, AuditPolicySnapshot policy, IEnumerable<string> created, IEnumerable<string> dropped,
        IEnumerable<string> refused, IEnumerable<string> skipped, IReadOnlyDictionary<string, string> triggers) => new(StringComparer.Ordinal)
    {
        ["owner"] = owner,
        ["created"] = string.Join(", ", created),
        ["dropped"] = string.Join(", ", dropped),
        ["excludedTables"] = string.Join(", ", policy.ExcludedTables),
        ["mode"] = policy.Mode.ToString(),
        ["refused"] = string.Join("\n", refused),
        ["skipped"] = string.Join(", ", skipped),
        ["triggers"] = JsonSerializer.Serialize(triggers),
    };

    private static async Task<HashSet<string>> MemoryOptimizedTablesAsync(DbConnection connection, DbTransaction? transaction, CancellationToken cancellationToken)
    {
        await using var command = Command(connection, transaction, "SELECT [name] FROM sys.tables WHERE [is_memory_optimized] = 1");
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        var names = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        while (await reader.ReadAsync(cancellationToken))
        {
            names.Add(reader.GetString(0));
        }

        return names;
    }

    /// <summary>The key columns of every unique index of a SQLite table (expression indexes aside), with each index's collation.</summary>
    private static async Task<List<IReadOnlyList<UniqueColumn>>> SqliteUniqueKeysAsync(DbConnection connection, DbTransaction? transaction, string table, CancellationToken cancellationToken)
    {
        await using var command = Command(connection, transaction, """
            SELECT il.name, ix.name, ix.coll, ix.cid FROM pragma_index_list(@table) AS il JOIN pragma_index_xinfo(il.name) AS ix
            WHERE il."unique" = 1 AND ix.key = 1 ORDER BY il.name, ix.seqno
            """);
        var p = command.CreateParameter();
        p.ParameterName = "@table";
        p.Value = table;
        command.Parameters.Add(p);
        var indexes = new Dictionary<string, List<UniqueColumn>>(StringComparer.Ordinal);
        var expression = new HashSet<string>(StringComparer.Ordinal);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        while (await reader.ReadAsync(cancellationToken))
        {
            var index = reader.GetString(0);
            if (reader.IsDBNull(1) || reader.GetInt64(3) < 0)
            {
                expression.Add(index);
                continue;
            }

            var collation = reader.IsDBNull(2) || reader.GetString(2) == "BINARY" ? null : reader.GetString(2);
            (indexes.TryGetValue(index, out var columns) ? columns : indexes[index] = []).Add(new UniqueColumn(reader.GetString(1), collation));
        }

        return indexes.Where(i => !expression.Contains(i.Key)).Select(i => (IReadOnlyList<UniqueColumn>)i.Value).ToList();
    }

    /// <summary>Since when a tampered trigger can have been missing: when the chain last recorded it, and for capture triggers the last change it captured.</summary>
    private static async Task<string> SinceAsync(DbConnection connection, DbTransaction transaction, List<TriggerProblem> tampered, RecordedTriggers recorded, CancellationToken cancellationToken)
    {
        var parts = new List<string>();
        foreach (var problem in tampered)
        {
            var text = problem.Name;
            if (problem.Owner is { } owner && recorded.RecordedAt.TryGetValue(owner, out var at))
            {
                text += $": recorded as installed at seq {at.Seq} ({at.At:yyyy-MM-dd HH:mm} UTC)";
            }

            if (TableOf(problem.Name) is { } table)
            {
                await using var command = Command(connection, transaction, connection is SqliteConnection
                    ? """SELECT max("Seq"), max("OccurredAtUtc") FROM "AuditEntries" WHERE "TableName" = @table"""
                    : "SELECT MAX([Seq]), MAX([OccurredAtUtc]) FROM [AuditEntries] WHERE [TableName] = @table");
                var p = command.CreateParameter();
                p.ParameterName = "@table";
                p.Value = table;
                command.Parameters.Add(p);
                await using var reader = await command.ExecuteReaderAsync(cancellationToken);
                if (await reader.ReadAsync(cancellationToken) && !reader.IsDBNull(0))
                {
                    text += $"; last change captured from {table} at seq {reader.GetInt64(0)} ({reader.GetDateTime(1):yyyy-MM-dd HH:mm} UTC): changes to {table} after that may be missing";
                }
            }

            parts.Add(text);
        }

        return string.Join("\n", parts);
    }

    private static string? TableOf(string triggerName)
    {
        if (!triggerName.StartsWith(SqliteAuditSql.CaptureTriggerPrefix, StringComparison.Ordinal))
        {
            return null;
        }

        var rest = triggerName[SqliteAuditSql.CaptureTriggerPrefix.Length..];
        foreach (var suffix in new[] { "_before_insert", "_before_update", "_insert", "_update", "_delete" })
        {
            if (rest.EndsWith(suffix, StringComparison.Ordinal))
            {
                return rest[..^suffix.Length];
            }
        }

        return rest; // SQL Server: one trigger per table
    }

    private static bool SameMap(IReadOnlyDictionary<string, string> a, IReadOnlyDictionary<string, string> b) =>
        a.Count == b.Count && a.All(p => b.TryGetValue(p.Key, out var v) && v == p.Value);

    private static SpooledRow Event(string name, string target, SortedDictionary<string, string?> metadata) =>
        new(null, AuditOperations.Event, null, null, null, null, name, target, JsonSerializer.Serialize(metadata), null, null, null,
            DateTime.UtcNow.ToString(AuditSealer.SqliteDateFormat, CultureInfo.InvariantCulture));

    private static DbCommand Command(DbConnection connection, DbTransaction? transaction, string sql)
    {
        var command = connection.CreateCommand();
        command.Transaction = transaction;
        command.CommandText = sql;
        return command;
    }

    private static Task DropAsync(DbConnection connection, DbTransaction transaction, InstalledTrigger trigger, CancellationToken cancellationToken) =>
        Execute(connection, transaction, connection is SqliteConnection
            ? $"DROP TRIGGER {SqliteAuditSql.Quote(trigger.Name)}"
            : $"DROP TRIGGER {SqlServerAuditSql.Quote(trigger.Schema ?? "dbo")}.{SqlServerAuditSql.Quote(trigger.Name)}", cancellationToken);

    private static async Task Execute(DbConnection connection, DbTransaction transaction, string sql, CancellationToken cancellationToken)
    {
        await using var command = Command(connection, transaction, sql);
        await command.ExecuteNonQueryAsync(cancellationToken);
    }
}
