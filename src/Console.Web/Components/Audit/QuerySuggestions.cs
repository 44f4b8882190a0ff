using ComplianceConsole.Core.Query;
using ComplianceConsole.Data.Queries;

namespace ComplianceConsole.Web.Components.Audit;

/// <summary>One suggestion: what the last word of the query becomes if it is picked, and how it reads in the list.</summary>
public sealed record QuerySuggestion(string Replacement, string Label, string? Hint);

/// <summary>Suggests field names, then values from the trail's vocabulary, for the word being typed (the last one).</summary>
public static class QuerySuggestions
{
    public static IReadOnlyList<QuerySuggestion> For(string text, AuditVocabularySnapshot? vocabulary, int max = 8)
    {
        var start = LastWordStart(text);
        var word = text[start..];
        var negation = word.StartsWith('-') ? "-" : "";
        word = word.TrimStart('-');
        var colon = word.IndexOf(':');
        if (word.StartsWith('"'))
        {
            return [];
        }

        if (colon < 0)
        {
            return QueryFields.All
                .Where(f => word.Length == 0 || f.Name.StartsWith(word, StringComparison.OrdinalIgnoreCase))
                .Select(f => new QuerySuggestion(negation + f.Name + ":", f.Name + ":", f.Help))
                .Take(max).ToList();
        }

        var field = QueryFields.Find(word[..colon]);
        if (field is null || vocabulary is null)
        {
            return [];
        }

        var typed = word[(colon + 1)..].Trim('"', '(');
        IEnumerable<string> values = field.Name switch
        {
            QueryFields.Table => vocabulary.Tables,
            QueryFields.Event => vocabulary.Events,
            QueryFields.Actor => vocabulary.Actors.Select(a => a.Name),
            QueryFields.Origin => vocabulary.Origins,
            _ => field.Choices ?? [],
        };
        return values
            .Where(v => typed.Length == 0 || v.Contains(typed, StringComparison.OrdinalIgnoreCase))
            .OrderBy(v => v.StartsWith(typed, StringComparison.OrdinalIgnoreCase) ? 0 : 1).ThenBy(v => v, StringComparer.OrdinalIgnoreCase)
            .Take(max)
            .Select(v => new QuerySuggestion(negation + QueryClause.Of(field.Name, v).ToString() + " ", v, null))
            .ToList();
    }

    /// <summary>Where the word being typed starts (outside quotes).</summary>
    public static int LastWordStart(string text)
    {
        var inQuotes = false;
        var start = 0;
        for (var i = 0; i < text.Length; i++)
        {
            if (text[i] == '"')
            {
                inQuotes = !inQuotes;
            }
            else if (!inQuotes && char.IsWhiteSpace(text[i]))
            {
                start = i + 1;
            }
        }

        return start;
    }
}
