using System.Data.Common;
using System.Globalization;
using ComplianceConsole.Core.Auditing;
using ComplianceConsole.Core.Retention;
using ComplianceConsole.Data.Capture;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata;

namespace ComplianceConsole.Data.Retention;

/// <summary>
/// SQL Server, optional (<c>install-capture --partition-monthly</c>): <c>AuditEntries</c> partitioned on seq, a new
/// partition about monthly (<see cref="NewMonthProcedure"/>), and the retention purge switching out whole expired partitions instead of deleting
/// them in batches (docs/sqlserver.md, *Scale-out*). The switch bypasses the delete guard and needs ALTER, so it runs only
/// through <see cref="SwitchProcedure"/> (EXECUTE AS OWNER, callable by <see cref="SqlServerAuditSql.PurgerRole"/>),
/// which applies the guard's own rule to every entry of the partition first.
/// </summary>
public static class SqlServerPartitions
{
    public const string Function = "cc_audit_seq";
    public const string Scheme = "cc_audit_seq_scheme";
    public const string Staging = "AuditEntriesSwitch";
    public const string SwitchProcedure = "cc_audit_switch_out";

    private static string Q(string name) => SqlServerAuditSql.Quote(name);

    /// <summary>
    /// The deploy step's statements, each on its own, idempotent: the function and scheme (first boundary: the seq after the
    /// head, so today's entries stay in partition 1 and the next month starts a new one), the clustered key and every
    /// index of the store rebuilt on the scheme (aligned, as SWITCH requires), the empty staging table with the same
    /// columns and indexes, the switch procedure and its grant.
    /// </summary>
    public static IReadOnlyList<string> Install(IModel model, string schema)
    {
        var entity = model.FindEntityType(typeof(AuditEntry)) ?? throw new InvalidOperationException("The model has no audit store.");
        var entries = $"{Q(schema)}.[{AuditStoreModel.EntriesTable}]";
        var staging = $"{Q(schema)}.{Q(Staging)}";
        var statements = new List<string>
        {
            $"IF NOT EXISTS (SELECT 1 FROM sys.partition_functions WHERE [name] = N'{Function}') BEGIN DECLARE @first nvarchar(20) = CAST((SELECT ISNULL(MAX([Seq]), 0) + 1 FROM {entries}) AS nvarchar(20)); " +
            $"EXEC(N'CREATE PARTITION FUNCTION {Q(Function)} (bigint) AS RANGE RIGHT FOR VALUES (' + @first + N')'); END",
            $"IF NOT EXISTS (SELECT 1 FROM sys.partition_schemes WHERE [name] = N'{Scheme}') EXEC(N'CREATE PARTITION SCHEME {Q(Scheme)} AS PARTITION {Q(Function)} ALL TO ([PRIMARY])')",
        };

        var key = entity.FindPrimaryKey()!.GetName()!;
        var aligned = $"IF NOT EXISTS (SELECT 1 FROM sys.indexes AS i JOIN sys.partition_schemes AS s ON s.[data_space_id] = i.[data_space_id] WHERE i.[object_id] = OBJECT_ID(N'{entries}') AND i.[name] = N'{{0}}') ";
        statements.Add(string.Format(CultureInfo.InvariantCulture, aligned, key)
            + $"CREATE UNIQUE CLUSTERED INDEX {Q(key)} ON {entries} ([Seq]) WITH (DROP_EXISTING = ON) ON {Q(Scheme)}([Seq])");
        var indexes = entity.GetIndexes().Select(i => (Name: i.GetDatabaseName()!, Columns: string.Join(", ", i.Properties.Select(p => Q(p.GetColumnName()))), i.IsUnique, Filter: i.GetFilter())).ToList();
        foreach (var index in indexes)
        {
            statements.Add(string.Format(CultureInfo.InvariantCulture, aligned, index.Name)
                + $"CREATE {(index.IsUnique ? "UNIQUE " : "")}INDEX {Q(index.Name)} ON {entries} ({index.Columns}){(index.Filter is null ? "" : " WHERE " + index.Filter)} WITH (DROP_EXISTING = ON) ON {Q(Scheme)}([Seq])");
        }

        // The staging table: the same columns in the same order, the same clustered key and indexes, on the same filegroup.
        statements.Add($"IF OBJECT_ID(N'{staging}', N'U') IS NULL BEGIN SELECT TOP (0) * INTO {staging} FROM {entries}; ALTER TABLE {staging} ADD CONSTRAINT {Q("PK_" + Staging)} PRIMARY KEY CLUSTERED ([Seq]) ON [PRIMARY]; END");
        foreach (var index in indexes)
        {
            var name = index.Name.Replace(AuditStoreModel.EntriesTable, Staging, StringComparison.Ordinal);
            statements.Add($"IF NOT EXISTS (SELECT 1 FROM sys.indexes WHERE [object_id] = OBJECT_ID(N'{staging}') AND [name] = N'{name}') "
                + $"CREATE {(index.IsUnique ? "UNIQUE " : "")}INDEX {Q(name)} ON {staging} ({index.Columns}){(index.Filter is null ? "" : " WHERE " + index.Filter)} ON [PRIMARY]");
        }

        statements.Add(SwitchProcedureSql(schema));
        statements.Add($"GRANT EXECUTE ON OBJECT::{Q(schema)}.{Q(SwitchProcedure)} TO {Q(SqlServerAuditSql.PurgerRole)}");
        statements.Add(NewMonthProcedureSql(schema));
        statements.Add($"GRANT EXECUTE ON OBJECT::{Q(schema)}.{Q(NewMonthProcedure)} TO {Q(SqlServerAuditSql.WriterRole)}, {Q(SqlServerAuditSql.PurgerRole)}");
        return statements;
    }

    public const string NewMonthProcedure = "cc_audit_new_month";

    /// <summary>
    /// Starts a new partition at the seq after the head once the newest partition's first entry is 28 days old or more
    /// (called by every retention run, so partitions are about monthly). It holds the audit chain lock, so no seal can
    /// append between reading the head and the split: the new partition is empty and the split moves no row.
    /// </summary>
    public static string NewMonthProcedureSql(string schema)
    {
        var entries = $"{Q(schema)}.[{AuditStoreModel.EntriesTable}]";
        return $"""
            CREATE OR ALTER PROCEDURE {Q(schema)}.{Q(NewMonthProcedure)}
            WITH EXECUTE AS OWNER
            AS
            BEGIN
                SET NOCOUNT ON;
                SET XACT_ABORT ON;
                BEGIN TRANSACTION;
                DECLARE @lock int;
                EXEC @lock = sp_getapplock @Resource = N'{Interceptors.SqlServerAuditSealer.ChainLock}', @LockMode = N'Exclusive', @LockOwner = N'Transaction', @LockTimeout = 10000;
                IF @lock < 0 BEGIN ROLLBACK; RETURN; END
                DECLARE @newest bigint = (SELECT MAX(CAST(v.[value] AS bigint)) FROM sys.partition_range_values AS v
                    JOIN sys.partition_functions AS f ON f.[function_id] = v.[function_id] WHERE f.[name] = N'{Function}');
                DECLARE @head bigint = (SELECT ISNULL(MAX([Seq]), 0) FROM {entries});
                DECLARE @began datetime2(7) = (SELECT TOP (1) [OccurredAtUtc] FROM {entries} WHERE [Seq] >= ISNULL(@newest, 0) ORDER BY [Seq]);
                IF @head >= ISNULL(@newest, 0) AND @began <= DATEADD(day, -28, SYSUTCDATETIME())
                BEGIN
                    DECLARE @next bigint = @head + 1;
                    ALTER PARTITION SCHEME {Q(Scheme)} NEXT USED [PRIMARY];
                    ALTER PARTITION FUNCTION {Q(Function)}() SPLIT RANGE (@next);
                END
                COMMIT;
            END
            """;
    }

    /// <summary>Each retention run: a new monthly partition when one is due; nothing when the store is not partitioned.</summary>
    public static string StartMonthSql(string schema) =>
        $"IF OBJECT_ID(N'{Q(schema)}.{Q(NewMonthProcedure)}', N'P') IS NOT NULL EXEC {Q(schema)}.{Q(NewMonthProcedure)};";

    /// <summary>
    /// The switch-out procedure: refuses a partition unless every entry in it lies inside a removed range and a retention
    /// anchor follows the last (the delete guard's rule), then switches it to the staging table and empties that. It waits
    /// at low priority for at most a minute and then gives up itself, so a long reader never makes every writer queue
    /// behind the switch's schema lock. Returns the rows switched out.
    /// </summary>
    public static string SwitchProcedureSql(string schema)
    {
        var entries = $"{Q(schema)}.[{AuditStoreModel.EntriesTable}]";
        return $"""
            CREATE OR ALTER PROCEDURE {Q(schema)}.{Q(SwitchProcedure)} @partition int
            WITH EXECUTE AS OWNER
            AS
            BEGIN
                SET NOCOUNT ON;
                DECLARE @hi bigint, @rows bigint;
                SELECT @hi = MAX([Seq]), @rows = COUNT_BIG(*) FROM {entries} WHERE $PARTITION.{Q(Function)}([Seq]) = @partition;
                IF @rows = 0 BEGIN SELECT CAST(0 AS bigint); RETURN; END
                IF EXISTS (SELECT 1 FROM {entries} AS d WHERE $PARTITION.{Q(Function)}(d.[Seq]) = @partition AND NOT EXISTS (
                        SELECT 1 FROM {Q(schema)}.[{AuditStoreModel.RemovedRangesTable}] AS r WHERE r.[FirstSeq] <= d.[Seq] AND r.[ThroughSeq] >= d.[Seq]))
                   OR NOT EXISTS (SELECT 1 FROM {entries} AS a WHERE a.[EventName] = N'{AuditEventNames.RetentionPurged}' AND a.[Operation] = N'event' AND a.[Seq] > @hi)
                    THROW 51004, 'This partition cannot be switched out: not every entry in it lies inside a removed range with a retention anchor after it.', 1;
                TRUNCATE TABLE {Q(schema)}.{Q(Staging)};
                ALTER TABLE {entries} SWITCH PARTITION @partition TO {Q(schema)}.{Q(Staging)}
                    WITH (WAIT_AT_LOW_PRIORITY (MAX_DURATION = 1 MINUTES, ABORT_AFTER_WAIT = SELF));
                TRUNCATE TABLE {Q(schema)}.{Q(Staging)};
                SELECT @rows;
            END
            """;
    }

    /// <summary>
    /// The store's partitions that hold rows, each with its lowest and highest seq (one seek each); nothing when the store
    /// is not on the scheme. Dynamic SQL, because <c>$PARTITION</c> of a function that does not exist fails to compile.
    /// </summary>
    public static string PartitionsSql(string schema)
    {
        var entries = $"{Q(schema)}.[{AuditStoreModel.EntriesTable}]";
        var query = $"""
            SELECT p.[partition_number], x.[lo], x.[hi], p.[rows] FROM sys.partitions AS p
            CROSS APPLY (SELECT MIN([Seq]) AS [lo], MAX([Seq]) AS [hi] FROM {entries} WHERE $PARTITION.{Q(Function)}([Seq]) = p.[partition_number]) AS x
            WHERE p.[object_id] = OBJECT_ID(N'{entries}') AND p.[index_id] = 1 AND p.[rows] > 0
            ORDER BY p.[partition_number]
            """;
        return $"""
            IF EXISTS (SELECT 1 FROM sys.indexes AS i JOIN sys.partition_schemes AS s ON s.[data_space_id] = i.[data_space_id]
                       WHERE i.[object_id] = OBJECT_ID(N'{entries}') AND i.[index_id] = 1 AND s.[name] = N'{Scheme}')
                EXEC({SqlServerAuditSql.Literal(query)});
            """;
    }

    /// <summary>The store's partitions with rows; empty when the store is not partitioned.</summary>
    public static async Task<List<SeqPartition>> ReadAsync(DbConnection connection, DbTransaction? transaction, string schema, CancellationToken cancellationToken)
    {
        await using var command = connection.CreateCommand();
        command.Transaction = transaction;
        command.CommandText = PartitionsSql(schema);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        var partitions = new List<SeqPartition>();
        while (await reader.ReadAsync(cancellationToken))
        {
            if (!reader.IsDBNull(1))
            {
                partitions.Add(new SeqPartition(reader.GetInt32(0), reader.GetInt64(1), reader.GetInt64(2), reader.GetInt64(3)));
            }
        }

        return partitions;
    }
}
