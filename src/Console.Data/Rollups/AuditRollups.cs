using ComplianceConsole.Core.Auditing;
using ComplianceConsole.Data.Capture;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace ComplianceConsole.Data.Rollups;

/// <summary>
/// Entries counted per hour and per combination of the dimensions people filter and chart by. Text dimensions that an
/// entry lacks are stored as "" (a key column cannot be NULL). Rows are only ever added to and counted up, by
/// <see cref="AuditRollups.CatchUpAsync"/>; nothing else writes them.
/// </summary>
public interface IAuditCountRow
{
    /// <summary>Hours since 1970-01-01 UTC of the entries' <c>OccurredAtUtc</c>.</summary>
    long Hour { get; }

    string Operation { get; }

    string TableName { get; }

    string EventName { get; }

    bool OutOfBand { get; }

    long Count { get; }
}

/// <summary>Per hour × operation × table × event × out-of-band: the trail's shape without who (small: tens of rows per hour).</summary>
public sealed class AuditHourCount : IAuditCountRow
{
    public long Hour { get; set; }
    public string Operation { get; set; } = "";
    public string TableName { get; set; } = "";
    public string EventName { get; set; } = "";
    public bool OutOfBand { get; set; }
    public long Count { get; set; }
}

/// <summary>The counts of one actor: the hourly and the daily rows share their columns.</summary>
public abstract class AuditActorCountRow : IAuditActorCountRow
{
    public string ActorName { get; set; } = "";
    public long Hour { get; set; }
    public string Operation { get; set; } = "";
    public string TableName { get; set; } = "";
    public string EventName { get; set; } = "";
    public bool OutOfBand { get; set; }
    public long Count { get; set; }
}

/// <summary>The same per actor too (hundreds of rows per hour): read for one actor at a time, through its leading actor key.</summary>
public sealed class AuditActorHourCount : AuditActorCountRow;

/// <summary>
/// The per-actor rows summed per UTC day: what a chart over months reads (a year is hundreds of thousands of rows, not
/// millions). <see cref="Hour"/> is the day's first hour, so a range of whole days filters it as the hourly rows are filtered.
/// </summary>
public sealed class AuditActorDayCount : AuditActorCountRow;

/// <summary>Rows counted per actor: the hourly and the daily ones.</summary>
public interface IAuditActorCountRow : IAuditCountRow
{
    string ActorName { get; }
}

/// <summary>
/// Per actor, UTC day (<see cref="Hour"/> is its first hour) and operation (update and delete): the most rows changed in any
/// one hour of that day, summed over tables. The bulk-change findings read these few rows, then the hours of only the days
/// whose peak reaches a threshold.
/// </summary>
public sealed class AuditActorDayPeak
{
    public long Hour { get; set; }
    public string ActorName { get; set; } = "";
    public string Operation { get; set; } = "";
    public long Peak { get; set; }
}

/// <summary>
/// The first hour an actor was seen doing something: at all (<see cref="Any"/>), on a table (<see cref="OnTable"/>, the
/// table's name) or at an hour of the UTC day (<see cref="AtHourOfDay"/>, "00" to "23"). Out-of-band writes (whose actor is
/// unknown) are not counted: they are findings of their own. The unusual-activity findings read these few rows instead of an
/// actor's whole past.
/// </summary>
public sealed class AuditActorFirst
{
    public const string Any = "any";
    public const string OnTable = "table";
    public const string AtHourOfDay = "hour";

    public string ActorName { get; set; } = "";
    public string Kind { get; set; } = Any;
    public string Value { get; set; } = "";

    /// <summary>Hours since 1970-01-01 UTC of the earliest such entry.</summary>
    public long FirstHour { get; set; }
}

/// <summary>
/// How far a read-side catch-up has gone: every entry with a seq at or below <see cref="ThroughSeq"/> is counted (the
/// hourly rollups) or indexed (the word index, <see cref="Queries.AuditWordIndex"/>), none above.
/// </summary>
public sealed class AuditRollupMark
{
    public const string Hourly = "hourly";
    public const string Words = "words";

    public string Name { get; set; } = Hourly;
    public long ThroughSeq { get; set; }
    public DateTime UpdatedAtUtc { get; set; }
}

public sealed class AuditHourCountConfiguration : IEntityTypeConfiguration<AuditHourCount>
{
    public void Configure(EntityTypeBuilder<AuditHourCount> b)
    {
        b.ToTable(AuditRollups.HourTable);
        b.HasKey(r => new { r.Hour, r.Operation, r.TableName, r.EventName, r.OutOfBand });
        AuditRollups.Dimensions(b);
    }
}

public sealed class AuditActorHourCountConfiguration : IEntityTypeConfiguration<AuditActorHourCount>
{
    public void Configure(EntityTypeBuilder<AuditActorHourCount> b)
    {
        b.ToTable(AuditRollups.ActorHourTable);
        b.HasKey(r => new { r.ActorName, r.Hour, r.Operation, r.TableName, r.EventName, r.OutOfBand });
        b.HasIndex(r => r.Hour); // a few whole hours of every actor (the ends of a range the daily rows cannot cover)
        b.Property(r => r.ActorName).HasMaxLength(256);
        AuditRollups.Dimensions(b);
    }
}

public sealed class AuditActorDayCountConfiguration : IEntityTypeConfiguration<AuditActorDayCount>
{
    public void Configure(EntityTypeBuilder<AuditActorDayCount> b)
    {
        b.ToTable(AuditRollups.ActorDayTable);
        b.HasKey(r => new { r.Hour, r.ActorName, r.Operation, r.TableName, r.EventName, r.OutOfBand });
        b.Property(r => r.ActorName).HasMaxLength(256);
        AuditRollups.Dimensions(b);
    }
}

public sealed class AuditActorDayPeakConfiguration : IEntityTypeConfiguration<AuditActorDayPeak>
{
    public void Configure(EntityTypeBuilder<AuditActorDayPeak> b)
    {
        b.ToTable(AuditRollups.ActorDayPeakTable);
        b.HasKey(r => new { r.Hour, r.ActorName, r.Operation });
        b.Property(r => r.ActorName).HasMaxLength(256);
        b.Property(r => r.Operation).HasMaxLength(16);
    }
}

public sealed class AuditActorFirstConfiguration : IEntityTypeConfiguration<AuditActorFirst>
{
    public void Configure(EntityTypeBuilder<AuditActorFirst> b)
    {
        b.ToTable(AuditRollups.ActorFirstTable);
        b.HasKey(r => new { r.ActorName, r.Kind, r.Value });
        b.Property(r => r.ActorName).HasMaxLength(256);
        b.Property(r => r.Kind).HasMaxLength(8);
        b.Property(r => r.Value).HasMaxLength(128);
        b.HasIndex(r => new { r.Kind, r.FirstHour });
    }
}

public sealed class AuditRollupMarkConfiguration : IEntityTypeConfiguration<AuditRollupMark>
{
    public void Configure(EntityTypeBuilder<AuditRollupMark> b)
    {
        b.ToTable(AuditRollups.MarkTable);
        b.HasKey(m => m.Name);
        b.Property(m => m.Name).HasMaxLength(32);
    }
}

/// <summary>
/// Keeps the hourly rollups (<see cref="AuditHourCount"/>, <see cref="AuditActorHourCount"/>) exact, off the write path:
/// each catch-up counts the next run of sealed entries by seq and moves the mark in the same transaction, so a crash
/// leaves the rollups and the mark as they were, and two processes never count a run twice (the mark moves only from
/// where the counting started). Readers add what lies above the mark from the entries themselves
/// (<see cref="Queries.AuditSearchService.HistogramAsync"/>), so a reading is exact however far the rollups lag.
/// </summary>
public static class AuditRollups
{
    public const string HourTable = "AuditHourCounts";
    public const string ActorHourTable = "AuditActorHourCounts";
    public const string ActorDayTable = "AuditActorDayCounts";
    public const string ActorFirstTable = "AuditActorFirsts";
    public const string ActorDayPeakTable = "AuditActorDayPeaks";
    public const string MarkTable = "AuditRollupMarks";

    /// <summary>Entries counted per transaction: short enough that capture's writers barely wait for the write lock.</summary>
    public const int DefaultBatch = 20_000;

    internal static void Dimensions<T>(EntityTypeBuilder<T> b) where T : class, IAuditCountRow
    {
        b.Property(r => r.Operation).HasMaxLength(16);
        b.Property(r => r.TableName).HasMaxLength(128);
        b.Property(r => r.EventName).HasMaxLength(100);
    }

    /// <summary>The mark: every entry at or below it is counted.</summary>
    public static Task<long> ThroughAsync(ConsoleDbContext db, CancellationToken cancellationToken = default) => MarkAsync(db, AuditRollupMark.Hourly, cancellationToken);

    internal static async Task<long> MarkAsync(ConsoleDbContext db, string name, CancellationToken cancellationToken) =>
        await db.AuditRollupMarks.AsNoTracking().Where(m => m.Name == name).Select(m => (long?)m.ThroughSeq).FirstOrDefaultAsync(cancellationToken) ?? 0;

    /// <summary>
    /// Moves a mark from <paramref name="from"/> to <paramref name="to"/> inside the caller's transaction. False when another
    /// process moved it first: that run is theirs, and the caller counts nothing.
    /// </summary>
    internal static async Task<bool> ClaimAsync(ConsoleDbContext db, string name, long from, long to, DateTime? nowUtc, CancellationToken cancellationToken)
    {
        var now = nowUtc ?? DateTime.UtcNow;
        var claimed = from == 0 && !await db.AuditRollupMarks.AnyAsync(m => m.Name == name, cancellationToken)
            ? await db.Database.ExecuteSqlRawAsync($"INSERT INTO {MarkTable} (Name, ThroughSeq, UpdatedAtUtc) VALUES ({{0}}, {{1}}, {{2}})", [name, to, now], cancellationToken)
            : await db.Database.ExecuteSqlRawAsync($"UPDATE {MarkTable} SET ThroughSeq = {{0}}, UpdatedAtUtc = {{1}} WHERE Name = {{2}} AND ThroughSeq = {{3}}", [to, now, name, from], cancellationToken);
        return claimed == 1;
    }

    /// <summary>Counts the next <paramref name="batch"/> sealed entries into the rollups. Returns how many seqs it covered (0: current).</summary>
    public static async Task<long> CatchUpAsync(ConsoleDbContext db, int batch = DefaultBatch, DateTime? nowUtc = null, CancellationToken cancellationToken = default)
    {
        var head = await db.AuditEntries.MaxAsync(e => (long?)e.Seq, cancellationToken) ?? 0;
        var from = await ThroughAsync(db, cancellationToken);
        if (head <= from)
        {
            return 0;
        }

        var to = Math.Min(head, from + batch);
        var sqlServer = db.Database.IsSqlServer();
        await using var transaction = await db.Database.BeginTransactionAsync(cancellationToken);
        // Claim the run first: a second process that read the same mark updates no row and counts nothing.
        if (!await ClaimAsync(db, AuditRollupMark.Hourly, from, to, nowUtc, cancellationToken))
        {
            return 0;
        }

        foreach (var statement in CountStatements(sqlServer))
        {
            await db.Database.ExecuteSqlRawAsync(statement, [from, to], cancellationToken);
        }

        await transaction.CommitAsync(cancellationToken);
        return to - from;
    }

    /// <summary>Empties the rollups and counts the whole trail again (the <c>rollups --rebuild</c> verb). Returns the entries counted.</summary>
    public static async Task<long> RebuildAsync(ConsoleDbContext db, Action<long, long>? progress = null, CancellationToken cancellationToken = default)
    {
        await using (var transaction = await db.Database.BeginTransactionAsync(cancellationToken))
        {
            await db.Database.ExecuteSqlRawAsync($"DELETE FROM {HourTable}", cancellationToken);
            await db.Database.ExecuteSqlRawAsync($"DELETE FROM {ActorHourTable}", cancellationToken);
            await db.Database.ExecuteSqlRawAsync($"DELETE FROM {ActorDayTable}", cancellationToken);
            await db.Database.ExecuteSqlRawAsync($"DELETE FROM {ActorFirstTable}", cancellationToken);
            await db.Database.ExecuteSqlRawAsync($"DELETE FROM {ActorDayPeakTable}", cancellationToken);
            await db.Database.ExecuteSqlRawAsync($"UPDATE {MarkTable} SET ThroughSeq = 0 WHERE Name = {{0}}", [AuditRollupMark.Hourly], cancellationToken);
            await transaction.CommitAsync(cancellationToken);
        }

        var head = await db.AuditEntries.MaxAsync(e => (long?)e.Seq, cancellationToken) ?? 0;
        long done = 0, step;
        while ((step = await CatchUpAsync(db, 200_000, cancellationToken: cancellationToken)) > 0)
        {
            done += step;
            progress?.Invoke(done, head);
        }

        return await db.AuditEntries.LongCountAsync(cancellationToken);
    }

    /// <summary>The statements that count the entries with a seq in ({0}, {1}] into every rollup.</summary>
    internal static IEnumerable<string> CountStatements(bool sqlServer)
    {
        yield return sqlServer ? SqlServerUpsert(HourTable, actor: false, SqlServerHour) : SqliteUpsert(HourTable, actor: false, SqliteHour);
        yield return sqlServer ? SqlServerUpsert(ActorHourTable, actor: true, SqlServerHour) : SqliteUpsert(ActorHourTable, actor: true, SqliteHour);
        yield return sqlServer ? SqlServerUpsert(ActorDayTable, actor: true, SqlServerHour + " / 24 * 24") : SqliteUpsert(ActorDayTable, actor: true, SqliteHour + " / 24 * 24");
        // The peaks of the days this run touched, recounted from the hourly rows just counted up (24 rows a day and table).
        var touched = $"SELECT DISTINCT coalesce(ActorName, '') AS a, {(sqlServer ? SqlServerHour : SqliteHour)} / 24 * 24 AS d FROM {AuditStoreModel.EntriesTable} " +
                      $"WHERE Seq > {{0}} AND Seq <= {{1}} AND Operation IN ('{AuditOperations.Update}', '{AuditOperations.Delete}')";
        yield return PeaksUpsert(sqlServer, touched);
        foreach (var (kind, value) in FirstKinds(sqlServer ? SqlServerHour : SqliteHour, sqlServer))
        {
            yield return FirstsUpsert(sqlServer, kind, value, sqlServer ? SqlServerHour : SqliteHour,
                $"FROM {AuditStoreModel.EntriesTable} WHERE Seq > {{0}} AND Seq <= {{1}} AND ActorName IS NOT NULL AND ActorName <> '' AND OutOfBand = 0" + (kind == AuditActorFirst.OnTable ? " AND TableName IS NOT NULL AND TableName <> ''" : ""));
        }
    }

    /// <summary>
    /// The statements that take the entries <paramref name="where"/> selects (a WHERE over the entries table) out of the
    /// counts and the peaks, run by the retention purge in the transaction that deletes them, before the delete: the
    /// counts go down (rows that reach zero go), and the peaks of the actors and days they touched are worked out again
    /// from the hourly rows left. Only entries the rollups have counted (at or below the mark) are taken out. Each
    /// statement reads the batch's entries and the rows they touch, never a whole rollup. The firsts follow, per actor
    /// (<see cref="RefreshFirstsStatements"/>).
    /// </summary>
    public static IEnumerable<string> SubtractStatements(bool sqlServer, string where)
    {
        var hour = sqlServer ? SqlServerHour : SqliteHour;
        var counted = $"({where}) AND Seq <= coalesce((SELECT ThroughSeq FROM {MarkTable} WHERE Name = '{AuditRollupMark.Hourly}'), 0)";
        foreach (var (table, actor, bucket) in new[] { (HourTable, false, hour), (ActorHourTable, true, hour), (ActorDayTable, true, hour + " / 24 * 24") })
        {
            var actorValue = actor ? "coalesce(ActorName, '') AS ActorName, " : "";
            var match = (actor ? "t.ActorName = s.ActorName AND " : "") + "t.Hour = s.Hour AND t.Operation = s.Operation AND t.TableName = s.TableName AND t.EventName = s.EventName AND t.OutOfBand = s.OutOfBand";
            var gone = $"SELECT {actorValue}{bucket} AS Hour, Operation, coalesce(TableName, '') AS TableName, coalesce(EventName, '') AS EventName, OutOfBand, count(*) AS Count " +
                       $"FROM {AuditStoreModel.EntriesTable} WHERE {counted} GROUP BY {(actor ? "coalesce(ActorName, ''), " : "")}{bucket}, Operation, coalesce(TableName, ''), coalesce(EventName, ''), OutOfBand";
            var keys = (actor ? "ActorName, " : "") + "Hour, Operation, TableName, EventName, OutOfBand";
            if (sqlServer)
            {
                yield return $"UPDATE t SET Count = t.Count - s.Count FROM {table} AS t JOIN ({gone}) AS s ON {match}";
                yield return $"DELETE t FROM {table} AS t JOIN ({gone}) AS s ON {match} WHERE t.Count <= 0";
            }
            else
            {
                yield return $"UPDATE {table} AS t SET Count = t.Count - s.Count FROM ({gone}) AS s WHERE {match}";
                yield return $"DELETE FROM {table} WHERE Count <= 0 AND ({keys}) IN (SELECT {keys} FROM ({gone}))";
            }
        }

        // Peaks of the (actor, day) pairs touched: dropped, then set again from what the hourly rows still hold.
        var touched = $"SELECT DISTINCT coalesce(ActorName, '') AS a, {hour} / 24 * 24 AS d FROM {AuditStoreModel.EntriesTable} " +
                      $"WHERE {counted} AND Operation IN ('{AuditOperations.Update}', '{AuditOperations.Delete}')";
        yield return sqlServer
            ? $"DELETE p FROM {ActorDayPeakTable} AS p JOIN ({touched}) AS x ON x.a = p.ActorName AND x.d = p.Hour"
            : $"DELETE FROM {ActorDayPeakTable} WHERE (ActorName, Hour) IN (SELECT a, d FROM ({touched}))";
        yield return PeaksUpsert(sqlServer, touched);
    }

    /// <summary>
    /// The firsts of one actor ({0}) worked out again from the hourly rows left (as the backfill does): run by the purge
    /// once it has deleted, an actor per transaction, for every actor whose entries it removed. Reads only that actor's rows.
    /// </summary>
    public static IEnumerable<string> RefreshFirstsStatements(bool sqlServer)
    {
        yield return $"DELETE FROM {ActorFirstTable} WHERE ActorName = {{0}}";
        foreach (var (kind, value) in FirstKinds("Hour", sqlServer))
        {
            yield return FirstsUpsert(sqlServer, kind, value, "Hour",
                $"FROM {ActorHourTable} WHERE ActorName = {{0}} AND ActorName <> '' AND OutOfBand = 0" + (kind == AuditActorFirst.OnTable ? " AND TableName <> ''" : ""));
        }
    }

    /// <summary>
    /// Fills the daily rows and the firsts from the hourly per-actor rows (which count exactly the entries up to the mark):
    /// the migration that adds them runs this, so a store counted before them needs no recount.
    /// </summary>
    public static IEnumerable<string> BackfillStatements(bool sqlServer)
    {
        yield return $"INSERT INTO {ActorDayTable} (Hour, ActorName, Operation, TableName, EventName, OutOfBand, Count) " +
                     $"SELECT Hour / 24 * 24, ActorName, Operation, TableName, EventName, OutOfBand, SUM(Count) FROM {ActorHourTable} " +
                     "GROUP BY Hour / 24 * 24, ActorName, Operation, TableName, EventName, OutOfBand";
        foreach (var (kind, value) in FirstKinds("Hour", sqlServer))
        {
            var sql = FirstsUpsert(sqlServer, kind, value, "Hour", $"FROM {ActorHourTable} WHERE ActorName <> '' AND OutOfBand = 0" + (kind == AuditActorFirst.OnTable ? " AND TableName <> ''" : ""));
            yield return sql.Replace("{0}", "0").Replace("{1}", "0");
        }
    }

    /// <summary>Sets the peak of every (actor, day) <paramref name="days"/> lists (columns a, d) from the hourly per-actor rows.</summary>
    private static string PeaksUpsert(bool sqlServer, string days)
    {
        var hours = $"SELECT t.a AS ActorName, t.d AS Hour, h.Operation, SUM(h.Count) AS Rows FROM ({days}) AS t JOIN {ActorHourTable} h " +
                    $"ON h.ActorName = t.a AND h.Hour >= t.d AND h.Hour < t.d + 24 WHERE h.Operation IN ('{AuditOperations.Update}', '{AuditOperations.Delete}') " +
                    "GROUP BY t.a, t.d, h.Hour, h.Operation";
        var peaks = $"SELECT ActorName, Hour, Operation, MAX(Rows) AS Peak FROM ({hours}) AS x GROUP BY ActorName, Hour, Operation";
        return sqlServer
            ? $"MERGE {ActorDayPeakTable} WITH (HOLDLOCK) AS t USING ({peaks}) AS s ON t.Hour = s.Hour AND t.ActorName = s.ActorName AND t.Operation = s.Operation " +
              "WHEN MATCHED THEN UPDATE SET Peak = s.Peak WHEN NOT MATCHED THEN INSERT (Hour, ActorName, Operation, Peak) VALUES (s.Hour, s.ActorName, s.Operation, s.Peak);"
            : $"INSERT INTO {ActorDayPeakTable} (ActorName, Hour, Operation, Peak) SELECT ActorName, Hour, Operation, Peak FROM ({peaks}) WHERE true " +
              "ON CONFLICT (Hour, ActorName, Operation) DO UPDATE SET Peak = excluded.Peak";
    }

    /// <summary>Fills the daily peaks from the hourly per-actor rows (the migration that adds them runs this).</summary>
    public static string PeaksBackfill(bool sqlServer) => PeaksUpsert(sqlServer, $"SELECT DISTINCT ActorName AS a, Hour / 24 * 24 AS d FROM {ActorHourTable}");

    private const string SqliteHour = "unixepoch(OccurredAtUtc) / 3600";
    private const string SqlServerHour = "DATEDIFF_BIG(second, '19700101', OccurredAtUtc) / 3600";

    private static IEnumerable<(string Kind, string? Value)> FirstKinds(string hour, bool sqlServer) =>
    [
        (AuditActorFirst.Any, null),
        (AuditActorFirst.OnTable, "TableName"),
        (AuditActorFirst.AtHourOfDay, sqlServer ? $"RIGHT('0' + CAST(({hour}) % 24 AS varchar(2)), 2)" : $"printf('%02d', ({hour}) % 24)"),
    ];

    /// <summary>Keeps the earliest hour per actor and kind: <paramref name="source"/> is a FROM … WHERE clause.</summary>
    private static string FirstsUpsert(bool sqlServer, string kind, string? value, string hour, string source)
    {
        var valueColumn = value ?? "''";
        var groups = value is null ? "ActorName" : $"ActorName, {value}";
        var select = $"SELECT ActorName, '{kind}' AS Kind, {valueColumn} AS Value, MIN({hour}) AS FirstHour {source} GROUP BY {groups}";
        return sqlServer
            ? $"MERGE {ActorFirstTable} WITH (HOLDLOCK) AS t USING ({select}) AS s ON t.ActorName = s.ActorName AND t.Kind = s.Kind AND t.Value = s.Value " +
              "WHEN MATCHED AND s.FirstHour < t.FirstHour THEN UPDATE SET FirstHour = s.FirstHour " +
              "WHEN NOT MATCHED THEN INSERT (ActorName, Kind, Value, FirstHour) VALUES (s.ActorName, s.Kind, s.Value, s.FirstHour);"
            : $"INSERT INTO {ActorFirstTable} (ActorName, Kind, Value, FirstHour) {select} " +
              "ON CONFLICT (ActorName, Kind, Value) DO UPDATE SET FirstHour = min(FirstHour, excluded.FirstHour)";
    }

    private static string Columns(bool actor) => (actor ? "ActorName, " : "") + "Hour, Operation, TableName, EventName, OutOfBand";

    // ON CONFLICT after INSERT … SELECT needs the SELECT's WHERE (SQLite's parser), which it has.
    private static string SqliteUpsert(string table, bool actor, string hour)
    {
        var actorValue = actor ? "coalesce(ActorName, ''), " : "";
        var groups = actor ? "1, 2, 3, 4, 5, 6" : "1, 2, 3, 4, 5";
        return $"INSERT INTO {table} ({Columns(actor)}, Count) " +
               $"SELECT {actorValue}{hour}, Operation, coalesce(TableName, ''), coalesce(EventName, ''), OutOfBand, count(*) " +
               $"FROM {AuditStoreModel.EntriesTable} WHERE Seq > {{0}} AND Seq <= {{1}} GROUP BY {groups} " +
               $"ON CONFLICT ({Columns(actor)}) DO UPDATE SET Count = Count + excluded.Count";
    }

    private static string SqlServerUpsert(string table, bool actor, string hour)
    {
        var actorValue = actor ? "ISNULL(ActorName, '') AS ActorName, " : "";
        var actorMatch = actor ? "t.ActorName = s.ActorName AND " : "";
        var actorInsert = actor ? "s.ActorName, " : "";
        return $"MERGE {table} WITH (HOLDLOCK) AS t USING (" +
               $"SELECT {Columns(actor)}, COUNT_BIG(*) AS Count FROM (" +
               $"SELECT {actorValue}{hour} AS Hour, Operation, ISNULL(TableName, '') AS TableName, " +
               $"ISNULL(EventName, '') AS EventName, OutOfBand FROM {AuditStoreModel.EntriesTable} WHERE Seq > {{0}} AND Seq <= {{1}}) AS e " +
               $"GROUP BY {Columns(actor)}) AS s " +
               $"ON {actorMatch}t.Hour = s.Hour AND t.Operation = s.Operation AND t.TableName = s.TableName AND t.EventName = s.EventName AND t.OutOfBand = s.OutOfBand " +
               "WHEN MATCHED THEN UPDATE SET Count = t.Count + s.Count " +
               $"WHEN NOT MATCHED THEN INSERT ({Columns(actor)}, Count) VALUES ({actorInsert}s.Hour, s.Operation, s.TableName, s.EventName, s.OutOfBand, s.Count);";
    }
}
