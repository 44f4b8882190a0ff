using System.Globalization;
using System.Text;
using ComplianceConsole.Data.Rollups;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace ComplianceConsole.Data.Queries;

/// <summary>One word of one entry's values (<see cref="AuditWordIndex"/>).</summary>
public sealed class AuditTextWord
{
    public string Word { get; set; } = "";
    public long Seq { get; set; }
}

public sealed class AuditTextWordConfiguration : IEntityTypeConfiguration<AuditTextWord>
{
    public void Configure(EntityTypeBuilder<AuditTextWord> b)
    {
        b.ToTable(AuditWordIndex.Table);
        // Word first: a word's entries are one index range, in seq order, so the newest page is a short walk backwards.
        b.HasKey(w => new { w.Word, w.Seq });
        b.Property(w => w.Word).HasMaxLength(AuditWordIndex.MaxWord);
    }
}

/// <summary>
/// Free text on SQL Server, where full-text catalogs are an install option: a word table (word, seq), filled off the
/// write path like the FTS5 index on SQLite (<see cref="AuditTextIndex"/>), with a mark (<see cref="AuditRollupMark.Words"/>)
/// moved in the same transaction. Words are split and folded as FTS5's <c>unicode61</c> with diacritics removed does it:
/// letters and digits, lower case, no accents. A search finds the entries that hold every word of the text (in any
/// order: the table keeps no positions), the last one as a prefix when it ends with <c>*</c>.
/// </summary>
public static class AuditWordIndex
{
    public const string Table = "AuditTextWords";
    public const int MaxWord = 64;

    /// <summary>Indexes up to <paramref name="max"/> entries past the mark; returns how many seqs it covered.</summary>
    public static async Task<int> CatchUpAsync(ConsoleDbContext db, int max, CancellationToken cancellationToken = default)
    {
        var from = await AuditRollups.MarkAsync(db, AuditRollupMark.Words, cancellationToken);
        var entries = await db.AuditEntries.AsNoTracking().Where(e => e.Seq > from).OrderBy(e => e.Seq).Take(max)
            .Select(e => new { e.Seq, e.OldValues, e.NewValues, e.Metadata, e.Target }).ToListAsync(cancellationToken);
        if (entries.Count == 0)
        {
            return 0;
        }

        var to = entries[^1].Seq;
        var rows = entries.SelectMany(e => Words(AuditTextIndex.Body(e.OldValues, e.NewValues, e.Metadata, e.Target)).Distinct().Select(w => (w, e.Seq))).ToList();
        await using var transaction = await db.Database.BeginTransactionAsync(cancellationToken);
        if (!await AuditRollups.ClaimAsync(db, AuditRollupMark.Words, from, to, null, cancellationToken))
        {
            return 0;
        }

        // 500 rows a statement: within SQL Server's 1,000 rows per VALUES and 2,100 parameters.
        foreach (var chunk in rows.Chunk(500))
        {
            var parameters = new object[chunk.Length * 2];
            for (var i = 0; i < chunk.Length; i++)
            {
                parameters[2 * i] = chunk[i].w;
                parameters[2 * i + 1] = chunk[i].Seq;
            }

            await db.Database.ExecuteSqlRawAsync(Values(chunk.Length), parameters, cancellationToken);
        }

        await transaction.CommitAsync(cancellationToken);
        return (int)(to - from);
    }

    private static string Values(int rows)
    {
        var sql = new StringBuilder($"INSERT INTO {Table} (Word, Seq) VALUES ");
        for (var i = 0; i < rows; i++)
        {
            sql.Append(i == 0 ? "(" : ", (").Append('{').Append(2 * i).Append("}, {").Append(2 * i + 1).Append("})");
        }

        return sql.ToString();
    }

    /// <summary>How many sealed entries the index has not seen yet.</summary>
    public static async Task<long> LagAsync(ConsoleDbContext db, CancellationToken cancellationToken = default)
    {
        var from = await AuditRollups.MarkAsync(db, AuditRollupMark.Words, cancellationToken);
        return await db.AuditEntries.LongCountAsync(e => e.Seq > from, cancellationToken);
    }

    /// <summary>The seqs whose values hold every word of the text; a trailing <c>*</c> makes the last word a prefix.</summary>
    public static IQueryable<long> Matching(ConsoleDbContext db, string text)
    {
        var words = Words(text).Distinct().ToList();
        if (words.Count == 0)
        {
            return db.AuditTextWords.Where(w => false).Select(w => w.Seq);
        }

        var prefix = text.TrimEnd().EndsWith('*');
        IQueryable<long>? matching = null;
        for (var i = 0; i < words.Count; i++)
        {
            var word = words[i];
            var seqs = prefix && i == words.Count - 1
                ? db.AuditTextWords.Where(w => w.Word.StartsWith(word)).Select(w => w.Seq).Distinct()
                : db.AuditTextWords.Where(w => w.Word == word).Select(w => w.Seq);
            matching = matching is null ? seqs : matching.Intersect(seqs);
        }

        return matching!;
    }

    /// <summary>The words of a text as the index keeps them: runs of letters and digits, lower case, without accents, at most 64 characters.</summary>
    public static IEnumerable<string> Words(string text)
    {
        var folded = text.Normalize(NormalizationForm.FormD);
        var word = new StringBuilder();
        foreach (var c in folded)
        {
            if (CharUnicodeInfo.GetUnicodeCategory(c) == UnicodeCategory.NonSpacingMark)
            {
                continue;
            }

            if (char.IsLetterOrDigit(c))
            {
                word.Append(char.ToLowerInvariant(c));
                continue;
            }

            if (word.Length > 0)
            {
                yield return Cut(word);
            }
        }

        if (word.Length > 0)
        {
            yield return Cut(word);
        }

        static string Cut(StringBuilder word)
        {
            var value = word.Length > MaxWord ? word.ToString(0, MaxWord) : word.ToString();
            word.Clear();
            return value;
        }
    }
}
