using System.Linq.Expressions;
using System.Text;
using System.Text.RegularExpressions;
using ComplianceConsole.Core.Auditing;
using ComplianceConsole.Core.Query;
using Microsoft.EntityFrameworkCore;

namespace ComplianceConsole.Data.Queries;

/// <summary>
/// Translates the one filter model (<see cref="AuditQuery"/> and <see cref="TimeRange"/>) into a query over the
/// audit store. Names a person typed (an actor, a table, an event, an origin) are resolved against the trail's
/// <see cref="AuditVocabularySnapshot"/>, in any case, so that SQL compares exact, indexed values. What matches
/// nothing gets a note that says so, with the nearest names.
/// </summary>
public static class AuditFilterTranslator
{
    /// <param name="fullText">The seqs whose values contain a text (<see cref="AuditTextIndex.Matching"/>).</param>
    public static IQueryable<AuditEntry> Apply(IQueryable<AuditEntry> entries, AuditQuery query, TimeRange range, DateTime nowUtc, AuditVocabularySnapshot vocabulary, List<string> notes,
        Func<string, IQueryable<long>> fullText, bool sqlite = true, IReadOnlySet<string>? broadOrigins = null)
    {
        var (from, to) = range.Resolve(nowUtc);
        if (from is { } f)
        {
            entries = entries.Where(e => e.OccurredAtUtc >= f);
        }

        if (to is { } t)
        {
            entries = entries.Where(e => e.OccurredAtUtc < t);
        }

        foreach (var clause in query.Clauses)
        {
            var predicate = clause.Values.Select(v => Predicate(clause.Field, v, vocabulary, notes, fullText, sqlite, broadOrigins)).Aggregate(Or);
            entries = entries.Where(clause.Negated ? Not(predicate) : predicate);
        }

        return entries;
    }

    /// <summary>Whether the query filters only on what the hourly rollups count by (operation, table, event, out-of-band, actor).</summary>
    public static bool FitsRollups(AuditQuery query) =>
        query.Clauses.All(c => c.Field is QueryFields.Op or QueryFields.Table or QueryFields.Event or QueryFields.OutOfBand or QueryFields.Actor);

    /// <summary>
    /// The same filter over rollup rows (<see cref="FitsRollups"/> must hold): names resolve exactly as for entries, and an
    /// entry without a table, event or actor is a row with "" there, which a negated clause keeps, as it keeps the entry.
    /// Actor clauses need the per-actor rows.
    /// </summary>
    public static IQueryable<T> ApplyToRollup<T>(IQueryable<T> rows, AuditQuery query, AuditVocabularySnapshot vocabulary, List<string> notes) where T : class, Rollups.IAuditCountRow
    {
        foreach (var clause in query.Clauses)
        {
            var predicate = clause.Values.Select(v => RollupPredicate<T>(clause.Field, v, vocabulary, notes)).Aggregate(Or);
            rows = rows.Where(clause.Negated ? Not(predicate) : predicate);
        }

        return rows;
    }

    private static Expression<Func<T, bool>> RollupPredicate<T>(string field, string value, AuditVocabularySnapshot vocabulary, List<string> notes) where T : class, Rollups.IAuditCountRow
    {
        switch (field)
        {
            case QueryFields.Op:
                return r => r.Operation == value;
            case QueryFields.OutOfBand:
                var outOfBand = value == "true";
                return r => r.OutOfBand == outOfBand;
            case QueryFields.Table:
                var tables = Resolve(value, vocabulary.Tables, "table", notes);
                return r => tables.Contains(r.TableName);
            case QueryFields.Event:
                var events = Resolve(value, vocabulary.Events, "event", notes);
                return r => events.Contains(r.EventName);
            case QueryFields.Actor when typeof(Rollups.IAuditActorCountRow).IsAssignableFrom(typeof(T)):
                var actors = ResolveActors(value, vocabulary, notes);
                var row = Expression.Parameter(typeof(T), "r");
                return Expression.Lambda<Func<T, bool>>(
                    Expression.Call(Expression.Constant(actors), typeof(List<string>).GetMethod(nameof(List<string>.Contains))!, Expression.Property(row, nameof(Rollups.IAuditActorCountRow.ActorName))), row);
            default:
                throw new ArgumentOutOfRangeException(nameof(field), field, "The rollups do not count by this field: check FitsRollups first (actor needs the per-actor rows).");
        }
    }

    private static Expression<Func<AuditEntry, bool>> Predicate(string field, string value, AuditVocabularySnapshot vocabulary, List<string> notes, Func<string, IQueryable<long>> fullText, bool sqlite, IReadOnlySet<string>? broadOrigins)
    {
        switch (field)
        {
            case QueryFields.Op:
                return e => e.Operation == value;
            case QueryFields.OutOfBand:
                var outOfBand = value == "true";
                return e => e.OutOfBand == outOfBand;
            case QueryFields.Correlation:
                var correlations = Cases(value);
                return e => correlations.Contains(e.CorrelationId!);
            case QueryFields.Tx:
                var transactions = Cases(value);
                return e => transactions.Contains(e.TransactionId!);
            case QueryFields.Ip:
                if (value.Contains('*'))
                {
                    var ipPattern = Like(value);
                    return e => EF.Functions.Like(e.IpAddress!, ipPattern, "\\");
                }

                return e => e.IpAddress == value;
            case QueryFields.Target:
                if (value.Contains('*'))
                {
                    var targetPattern = Like(value);
                    return e => EF.Functions.Like(e.Target!, targetPattern, "\\");
                }

                return e => e.Target == value;
            case QueryFields.Text:
                var matching = fullText(value);
                return e => matching.Contains(e.Seq);
            case QueryFields.Table:
                var tables = Resolve(value, vocabulary.Tables, "table", notes);
                return e => tables.Contains(e.TableName!);
            case QueryFields.Event:
                var events = Resolve(value, vocabulary.Events, "event", notes);
                return e => events.Contains(e.EventName!);
            case QueryFields.Origin:
                // Compared with the stored values directly (an index range for a prefix), case as written: origins are paths.
                if (!value.Contains('*'))
                {
                    return e => e.Origin == value;
                }

                if (sqlite)
                {
                    // A pattern that matches many entries is checked row by row, newest first (Origin || '' keeps SQLite off
                    // the index, whose range would have to be read and sorted whole); a narrow one uses the index.
                    var glob = Glob(value);
                    return broadOrigins?.Contains(value) == true
                        ? e => EF.Functions.Glob(e.Origin + "", glob)
                        : e => EF.Functions.Glob(e.Origin, glob);
                }

                var originPattern = Like(value);
                return e => EF.Functions.Like(e.Origin, originPattern, "\\");
            case QueryFields.Actor:
                var actors = ResolveActors(value, vocabulary, notes);
                return e => actors.Contains(e.ActorName!);
            case QueryFields.Record:
                return RecordPredicate(value, vocabulary, notes);
            default:
                throw new ArgumentOutOfRangeException(nameof(field), field, "The parser only lets known fields through.");
        }
    }

    private static Expression<Func<AuditEntry, bool>> RecordPredicate(string value, AuditVocabularySnapshot vocabulary, List<string> notes)
    {
        Expression<Func<AuditEntry, bool>>? any = null;
        if (value.StartsWith('{'))
        {
            return e => e.RecordKey == value;
        }

        // A bare id: the record with that single-column key in any table (the stored key is {"Id":7} or {"Id":"…"}).
        foreach (var (table, columns) in vocabulary.KeyColumns)
        {
            if (columns.Count != 1)
            {
                continue;
            }

            var name = columns[0];
            var keys = new List<string> { $"{{\"{name}\":{Json(value)}}}" };
            if (long.TryParse(value, out _))
            {
                keys.Add($"{{\"{name}\":{value}}}");
            }

            if (Guid.TryParse(value, out var guid))
            {
                keys.Add($"{{\"{name}\":\"{guid.ToString().ToUpperInvariant()}\"}}");
                keys.Add($"{{\"{name}\":\"{guid}\"}}");
            }

            var t = table;
            Expression<Func<AuditEntry, bool>> one = e => e.TableName == t && keys.Contains(e.RecordKey!);
            any = any is null ? one : Or(any, one);
        }

        if (any is null)
        {
            notes.Add($"No table in the trail has a single-column key, so record:{value} matches nothing. Give the whole key as JSON, as in record:\"{{\\\"Id\\\":7}}\".");
            return e => false;
        }

        return any;
    }

    private static List<string> ResolveActors(string value, AuditVocabularySnapshot vocabulary, List<string> notes)
    {
        // A whole name or id is that actor alone (a chart's click-through names one actor); a part of one matches every actor it is part of.
        var exact = vocabulary.Actors.Where(a => string.Equals(a.Name, value, StringComparison.OrdinalIgnoreCase) || string.Equals(a.Id, value, StringComparison.OrdinalIgnoreCase))
            .Select(a => a.Name).Distinct().ToList();
        if (exact.Count > 0)
        {
            return exact;
        }

        var matcher = Matcher(value, substring: true);
        var names = vocabulary.Actors.Where(a => matcher(a.Name) || (a.Id is { } id && matcher(id))).Select(a => a.Name).Distinct().ToList();
        if (names.Count == 0)
        {
            notes.Add($"No actor in the trail matches \"{AuditSearch.Clip(value)}\". " + Nearest(value, vocabulary.Actors.Select(a => a.Name)));
        }

        return names;
    }

    private static List<string> Resolve(string value, IReadOnlyList<string> known, string what, List<string> notes, bool substring = false)
    {
        var matcher = Matcher(value, substring);
        var matches = known.Where(matcher).ToList();
        if (matches.Count == 0)
        {
            notes.Add($"No {what} in the trail is called \"{AuditSearch.Clip(value)}\". " + Nearest(value, known));
        }

        return matches;
    }

    private static string Nearest(string value, IEnumerable<string> known)
    {
        var list = known.ToList();
        if (list.Count == 0)
        {
            return "The trail has none yet.";
        }

        var close = list.Where(k => k.Contains(value.Trim('*'), StringComparison.OrdinalIgnoreCase) || value.Contains(k, StringComparison.OrdinalIgnoreCase)
                || Similar(k, value)).Take(5).ToList();
        return close.Count > 0
            ? $"Did you mean {string.Join(" or ", close.Select(c => "\"" + c + "\""))}?"
            : list.Count <= 12 ? $"The trail has: {string.Join(", ", list)}." : "Type the first letters to see suggestions, or use * as a wildcard.";
    }

    private static bool Similar(string a, string b) =>
        Math.Min(a.Length, b.Length) > 3 && ComplianceConsole.Core.Spelling.Distance(a.ToLowerInvariant(), b.ToLowerInvariant()) <= Math.Max(1, Math.Min(a.Length, b.Length) / 4);

    /// <summary>Exact in any case, a glob with <c>*</c>, or (for actors) any part of the name.</summary>
    private static Func<string, bool> Matcher(string value, bool substring)
    {
        if (value.Contains('*'))
        {
            var regex = new Regex("^" + string.Join(".*", value.Split('*').Select(Regex.Escape)) + "$", RegexOptions.IgnoreCase | RegexOptions.CultureInvariant, TimeSpan.FromMilliseconds(50));
            return regex.IsMatch;
        }

        return substring
            ? candidate => candidate.Contains(value, StringComparison.OrdinalIgnoreCase)
            : candidate => string.Equals(candidate, value, StringComparison.OrdinalIgnoreCase);
    }

    /// <summary>An origin pattern (<c>*</c> only) as a GLOB pattern, with GLOB's own wildcards taken literally.</summary>
    public static string Glob(string pattern) => pattern.Replace("[", "[[]").Replace("?", "[?]");

    private static List<string> Cases(string value) => [value, value.ToLowerInvariant(), value.ToUpperInvariant()];

    private static string Json(string value) => System.Text.Json.JsonSerializer.Serialize(value);

    private static string Escape(string value) => value.Replace("\\", "\\\\").Replace("%", "\\%").Replace("_", "\\_");

    private static string Like(string glob)
    {
        var like = new StringBuilder();
        foreach (var part in glob.Split('*'))
        {
            if (like.Length > 0 || glob.StartsWith('*'))
            {
                like.Append('%');
            }

            like.Append(Escape(part));
        }

        return like.ToString().Replace("%%", "%");
    }

    private static Expression<Func<T, bool>> Or<T>(Expression<Func<T, bool>> a, Expression<Func<T, bool>> b)
    {
        var body = Expression.OrElse(a.Body, Rebind.Body(b, a.Parameters[0]));
        return Expression.Lambda<Func<T, bool>>(body, a.Parameters);
    }

    private static Expression<Func<T, bool>> Not<T>(Expression<Func<T, bool>> a) =>
        Expression.Lambda<Func<T, bool>>(Expression.Not(a.Body), a.Parameters);

}

/// <summary>A lambda's body with its parameter replaced by another: for combining and projecting the filter model's expressions.</summary>
internal sealed class Rebind(ParameterExpression from, ParameterExpression to) : ExpressionVisitor
{
    public static Expression Body(LambdaExpression lambda, ParameterExpression parameter) => new Rebind(lambda.Parameters[0], parameter).Visit(lambda.Body);

    protected override Expression VisitParameter(ParameterExpression node) => node == from ? to : base.VisitParameter(node);
}
