using System.Text;

namespace ComplianceConsole.Core.Query;

/// <summary>
/// One condition of a query, shown as one chip: <c>field:value</c>, <c>field:(a OR b)</c>, or free text.
/// Negated clauses exclude what they match.
/// </summary>
public sealed record QueryClause(string Field, IReadOnlyList<string> Values, bool Negated = false)
{
    public static QueryClause Of(string field, string value, bool negated = false) => new(field, [value], negated);

    public bool IsText => Field == QueryFields.Text;

    /// <summary>The clause as the query bar writes it.</summary>
    public override string ToString()
    {
        var text = new StringBuilder();
        if (Negated)
        {
            text.Append('-');
        }

        if (IsText)
        {
            return text.Append(string.Join(' ', Values.Select(Quote))).ToString();
        }

        text.Append(Field).Append(':');
        if (Values.Count == 1)
        {
            text.Append(QuoteIfNeeded(Values[0]));
        }
        else
        {
            text.Append('(').Append(string.Join(" OR ", Values.Select(QuoteIfNeeded))).Append(')');
        }

        return text.ToString();
    }

    public bool Equals(QueryClause? other) =>
        other is not null && Field == other.Field && Negated == other.Negated && Values.SequenceEqual(other.Values, StringComparer.OrdinalIgnoreCase);

    public override int GetHashCode() => HashCode.Combine(Field, Negated, Values.Count);

    internal static string Quote(string value) => "\"" + value.Replace("\\", "\\\\").Replace("\"", "\\\"") + "\"";

    private static string QuoteIfNeeded(string value) =>
        value.Length == 0 || value.Any(c => char.IsWhiteSpace(c) || c is '(' or ')' or '"') || value is "OR" or "AND" or "NOT" || value.StartsWith('-')
            ? Quote(value)
            : value;
}

/// <summary>
/// The one filter model of the audit trail (ARCHITECTURE.md, "Read side"): the conditions of a search, all of which
/// must hold. The query bar, the chips, the URL, saved searches and (later) exports and holds all read and write it.
/// </summary>
public sealed record AuditQuery(IReadOnlyList<QueryClause> Clauses)
{
    public static readonly AuditQuery Empty = new([]);

    public bool IsEmpty => Clauses.Count == 0;

    /// <summary>The query as the query bar shows it; parsing it gives this query back.</summary>
    public string Text => string.Join(' ', Clauses.Select(c => c.ToString()));

    public override string ToString() => Text;

    /// <summary>Adds a condition, as a click on a value does; the opposite condition on the same value is replaced, a duplicate is ignored.</summary>
    public AuditQuery With(QueryClause clause)
    {
        var opposite = clause with { Negated = !clause.Negated };
        var kept = Clauses.Where(c => !c.Equals(opposite)).ToList();
        if (!kept.Contains(clause))
        {
            kept.Add(clause);
        }

        return new AuditQuery(kept);
    }

    public AuditQuery Without(QueryClause clause) => new(Clauses.Where(c => !c.Equals(clause)).ToList());

    public AuditQuery Inverted(QueryClause clause) => new(Clauses.Select(c => c.Equals(clause) ? c with { Negated = !c.Negated } : c).ToList());

    public IEnumerable<QueryClause> For(string field) => Clauses.Where(c => c.Field == field);

    public bool Equals(AuditQuery? other) => other is not null && Clauses.SequenceEqual(other.Clauses);

    public override int GetHashCode() => Clauses.Count;
}
