using System.Text;
using System.Text.Json;
using ComplianceConsole.Data.Capture;
using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore;

namespace ComplianceConsole.Data.Queries;

/// <summary>
/// Full-text search over the trail's values on SQLite: an FTS5 table (<c>AuditText</c>, contentless, rowid = seq) kept
/// off the write path. <see cref="CatchUpAsync"/> indexes entries sealed since the last run; a background service calls
/// it every few seconds, and a search calls it first, so a search sees the whole chain unless the backlog is large
/// (then the page says how far the index lags). Words match whole, in any case and without accents; <c>word*</c> matches a prefix.
/// SQL Server has no FTS5: there the same calls use the word table (<see cref="AuditWordIndex"/>).
/// </summary>
public static class AuditTextIndex
{
    /// <summary>Maps <see cref="AuditTextHit"/>: no table of its own (the FTS table is made by the migration's SQL), read through FromSql only.</summary>
    public static ModelBuilder AddAuditTextHits(this ModelBuilder builder)
    {
        builder.Entity<AuditTextHit>().HasNoKey().ToView(null);
        return builder;
    }

    public const string Table = "AuditText";

    /// <summary>The most entries a search indexes before it runs; beyond that it searches what is indexed and says so.</summary>
    public const int SearchCatchUp = 5_000;

    /// <summary>How many sealed entries the index has not seen yet.</summary>
    public static async Task<long> LagAsync(ConsoleDbContext db, CancellationToken cancellationToken = default)
    {
        if (!db.Database.IsSqlite())
        {
            return await AuditWordIndex.LagAsync(db, cancellationToken);
        }

        var head = await db.AuditEntries.MaxAsync(e => (long?)e.Seq, cancellationToken) ?? 0;
        var indexed = await IndexedThroughAsync(db, cancellationToken);
        return await db.AuditEntries.LongCountAsync(e => e.Seq > indexed && e.Seq <= head, cancellationToken);
    }

    /// <summary>Indexes up to <paramref name="max"/> entries past the index's end; returns how many it indexed.</summary>
    public static async Task<int> CatchUpAsync(ConsoleDbContext db, int max, CancellationToken cancellationToken = default)
    {
        if (!db.Database.IsSqlite())
        {
            return await AuditWordIndex.CatchUpAsync(db, max, cancellationToken);
        }

        var connection = (SqliteConnection)db.Database.GetDbConnection();
        var opened = connection.State != System.Data.ConnectionState.Open;
        if (opened)
        {
            await connection.OpenAsync(cancellationToken);
        }

        try
        {
            // BEGIN IMMEDIATE: two indexers (the background one and a search) take turns, so a seq is never indexed twice.
            await using var transaction = (SqliteTransaction)await connection.BeginTransactionAsync(System.Data.IsolationLevel.Serializable, cancellationToken);
            await using var last = connection.CreateCommand();
            last.Transaction = transaction;
            last.CommandText = $"SELECT COALESCE(MAX(rowid), 0) FROM {Table}";
            var through = (long)(await last.ExecuteScalarAsync(cancellationToken))!;

            await using var read = connection.CreateCommand();
            read.Transaction = transaction;
            read.CommandText = $"SELECT Seq, OldValues, NewValues, Metadata, Target FROM {AuditStoreModel.EntriesTable} WHERE Seq > $after ORDER BY Seq LIMIT $max";
            read.Parameters.AddWithValue("$after", through);
            read.Parameters.AddWithValue("$max", max);
            var rows = new List<(long Seq, string Body)>();
            await using (var reader = await read.ExecuteReaderAsync(cancellationToken))
            {
                while (await reader.ReadAsync(cancellationToken))
                {
                    string? S(int i) => reader.IsDBNull(i) ? null : reader.GetString(i);
                    rows.Add((reader.GetInt64(0), Body(S(1), S(2), S(3), S(4))));
                }
            }

            await using var insert = connection.CreateCommand();
            insert.Transaction = transaction;
            insert.CommandText = $"INSERT INTO {Table} (rowid, Body) VALUES ($seq, $body)";
            var seq = insert.Parameters.Add("$seq", SqliteType.Integer);
            var text = insert.Parameters.Add("$body", SqliteType.Text);
            foreach (var (s, body) in rows)
            {
                seq.Value = s;
                text.Value = body;
                await insert.ExecuteNonQueryAsync(cancellationToken);
            }

            await transaction.CommitAsync(cancellationToken);
            return rows.Count;
        }
        finally
        {
            if (opened)
            {
                await connection.CloseAsync();
            }
        }
    }

    /// <summary>
    /// The seqs whose values contain the words (a phrase when there are several); <c>*</c> at the end of a word makes it a
    /// prefix. Read through <see cref="AuditTextHit"/>, whose column is typed, so that SQL joins and orders on the index's
    /// rowid itself (a scalar raw query would be cast, and SQLite could then neither walk the index newest first nor stop early).
    /// </summary>
    /// <summary>
    /// Statements that drop the entries <paramref name="where"/> selects from the text index, run by the retention purge
    /// in the transaction that deletes them. The newest indexed row stays (it is the indexer's watermark; a search joins
    /// its hits to the entries, so a row without an entry finds nothing).
    /// </summary>
    public static IEnumerable<string> ForgetStatements(bool sqlServer, string where)
    {
        var seqs = $"SELECT Seq FROM {AuditStoreModel.EntriesTable} WHERE {where}";
        if (sqlServer)
        {
            yield return $"DELETE FROM {AuditWordIndex.Table} WHERE Seq IN ({seqs})";
        }
        else
        {
            yield return $"DELETE FROM {Table} WHERE rowid IN ({seqs}) AND rowid < (SELECT max(rowid) FROM {Table})";
        }
    }

    public static IQueryable<long> Matching(ConsoleDbContext db, string text) => !db.Database.IsSqlite() ? AuditWordIndex.Matching(db, text) :
        db.Set<AuditTextHit>().FromSqlRaw($"SELECT rowid AS \"Seq\" FROM {Table} WHERE {Table} MATCH {{0}}", MatchExpression(text)).Select(h => h.Seq);

    /// <summary>The user's words as a safe FTS5 expression: a quoted phrase, with a trailing * kept as a prefix.</summary>
    public static string MatchExpression(string text)
    {
        var prefix = text.TrimEnd().EndsWith('*');
        var words = new StringBuilder();
        foreach (var c in text)
        {
            words.Append(char.IsLetterOrDigit(c) ? c : ' ');
        }

        var phrase = string.Join(' ', words.ToString().Split(' ', StringSplitOptions.RemoveEmptyEntries));
        return phrase.Length == 0 ? "\"\"" : "\"" + phrase + "\"" + (prefix ? " *" : "");
    }

    /// <summary>How far the index reaches: the highest seq it holds.</summary>
    public static async Task<long> IndexedThroughAsync(ConsoleDbContext db, CancellationToken cancellationToken = default) =>
        await db.Database.SqlQueryRaw<long>($"SELECT COALESCE(MAX(rowid), 0) AS \"Value\" FROM {Table}").SingleAsync(cancellationToken);

    /// <summary>What free text searches in an entry: the values (not the keys) of its before, after and metadata, and its target.</summary>
    internal static string Body(string? oldValues, string? newValues, string? metadata, string? target)
    {
        var body = new StringBuilder();
        AppendValues(body, oldValues);
        AppendValues(body, newValues);
        AppendValues(body, metadata);
        return body.Append(target).Append(' ').ToString();
    }

    /// <summary>The values of a JSON object (not its keys), so that "Name" finds people called Name, not every customer.</summary>
    private static void AppendValues(StringBuilder body, string? json)
    {
        if (string.IsNullOrEmpty(json))
        {
            return;
        }

        try
        {
            using var doc = JsonDocument.Parse(json);
            Walk(doc.RootElement);
        }
        catch (JsonException)
        {
            body.Append(json).Append(' ');
        }

        void Walk(JsonElement element)
        {
            switch (element.ValueKind)
            {
                case JsonValueKind.Object:
                    foreach (var p in element.EnumerateObject())
                    {
                        Walk(p.Value);
                    }

                    break;
                case JsonValueKind.Array:
                    foreach (var item in element.EnumerateArray())
                    {
                        Walk(item);
                    }

                    break;
                case JsonValueKind.String:
                    // A JSON column stored as text is walked as JSON, as the diff reads it; any other string is text.
                    if (ComplianceConsole.Core.Diff.EntryDiff.Document(element) is { } inner)
                    {
                        Walk(inner);
                        break;
                    }

                    body.Append(element.GetString()).Append(' ');
                    break;
                case JsonValueKind.Number:
                    body.Append(element.GetRawText()).Append(' ');
                    break;
            }
        }
    }
}

/// <summary>One match of the full-text index: the seq of an entry whose values contain the words.</summary>
public sealed class AuditTextHit
{
    public long Seq { get; set; }
}
