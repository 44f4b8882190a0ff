using System.Text;

namespace ComplianceConsole.Core.Query;

/// <summary>A mistake in a query: where it is (to underline) and what to write instead.</summary>
public sealed record QueryProblem(int Start, int Length, string Message);

public sealed record QueryParseResult(AuditQuery Query, IReadOnlyList<QueryProblem> Problems)
{
    public bool Ok => Problems.Count == 0;
}

/// <summary>
/// Parses the audit query language (docs/query-language.md): <c>field:value</c>, <c>field:"quoted value"</c>,
/// <c>field:(a OR b)</c>, free text (quoted or a bare word), negation with <c>-</c> or <c>NOT</c>; all conditions must hold.
/// Never throws: every mistake becomes a <see cref="QueryProblem"/> that says what to write instead.
/// </summary>
public static class QueryParser
{
    public const int MaxLength = 2000;
    public const int MaxValueLength = 200;

    public static QueryParseResult Parse(string? input)
    {
        var text = input ?? "";
        if (text.Length > MaxLength)
        {
            return new QueryParseResult(AuditQuery.Empty,
                [new QueryProblem(MaxLength, text.Length - MaxLength, $"The query is {text.Length:N0} characters long; the limit is {MaxLength:N0}. Shorten it, or split it into saved searches.")]);
        }

        var state = new State(text);
        state.Run();
        return new QueryParseResult(new AuditQuery(state.Clauses), state.Problems);
    }

    private sealed class State(string text)
    {
        private int _pos;
        public List<QueryClause> Clauses { get; } = [];
        public List<QueryProblem> Problems { get; } = [];

        public void Run()
        {
            while (true)
            {
                SkipSpace();
                if (_pos >= text.Length)
                {
                    return;
                }

                var start = _pos;
                if (Keyword("AND"))
                {
                    continue;
                }

                if (Keyword("OR"))
                {
                    Problem(start, 2, "OR joins the values of one field: write table:(Customers OR Accounts). Conditions side by side must all hold.");
                    continue;
                }

                var negated = false;
                if (text[_pos] == '-')
                {
                    negated = true;
                    _pos++;
                }
                else if (Keyword("NOT"))
                {
                    negated = true;
                    SkipSpace();
                }

                if (_pos >= text.Length || char.IsWhiteSpace(text[_pos]))
                {
                    Problem(start, _pos - start, "A minus or NOT must come right before what to exclude: write -op:delete or -\"some text\".");
                    continue;
                }

                Term(start, negated);
            }
        }

        private void Term(int start, bool negated)
        {
            var c = text[_pos];
            if (c == '"')
            {
                if (Quoted() is { } quoted)
                {
                    AddText(start, quoted, negated);
                }

                return;
            }

            if (c is '(' or ')')
            {
                var end = c == '(' ? Math.Max(text.IndexOf(')', _pos), _pos) : _pos;
                Problem(_pos, end - _pos + 1, "Parentheses group the values of one field: write table:(Customers OR Accounts).");
                _pos = end + 1;
                return;
            }

            var nameStart = _pos;
            while (_pos < text.Length && !char.IsWhiteSpace(text[_pos]) && text[_pos] is not (':' or '"' or '(' or ')'))
            {
                _pos++;
            }

            var name = text[nameStart.._pos];
            if (_pos >= text.Length || text[_pos] != ':')
            {
                // A bare word is free text. Stray characters after it (a quote, a parenthesis) start the next term.
                AddText(start, name, negated);
                return;
            }

            _pos++; // the colon
            var field = QueryFields.Find(name);
            var values = Values(name);
            if (field is null)
            {
                var closest = QueryFields.Closest(name);
                var hint = closest is not null
                    ? $"did you mean {closest}:{values.FirstOrDefault() ?? "…"}?"
                    : $"the fields are {string.Join(", ", QueryFields.All.Select(f => f.Name))}. To search for the text itself, put it in quotes: \"{text[nameStart.._pos]}…\".";
                Problem(nameStart, name.Length, $"\"{name}\" is not a field: {hint}");
                return;
            }

            if (values.Count == 0)
            {
                return; // Values() reported why
            }

            var clean = new List<string>();
            foreach (var value in values)
            {
                if (Check(field, value, nameStart) is { } ok)
                {
                    clean.Add(ok);
                }
            }

            if (clean.Count == values.Count)
            {
                Clauses.Add(new QueryClause(field.Name, clean.Distinct(StringComparer.OrdinalIgnoreCase).ToList(), negated));
            }
        }

        private string? Check(QueryField field, string value, int at)
        {
            if (value.Length > MaxValueLength)
            {
                Problem(at, _pos - at, $"The {field.Name} value is {value.Length:N0} characters long; the limit is {MaxValueLength}. Use a shorter part of it, with * for the rest.");
                return null;
            }

            if (value.Trim().Length == 0)
            {
                Problem(at, _pos - at, $"{field.Name} needs a value, for example {field.Example}.");
                return null;
            }

            if (field.Kind == QueryValueKind.Choice)
            {
                var choice = field.Choices!.FirstOrDefault(c => string.Equals(c, value, StringComparison.OrdinalIgnoreCase))
                    ?? (field.Name == QueryFields.OutOfBand ? value.ToLowerInvariant() switch { "yes" or "1" => "true", "no" or "0" => "false", _ => null } : null);
                if (choice is null)
                {
                    Problem(at, _pos - at, $"\"{value}\" is not a value of {field.Name}: write {string.Join(", ", field.Choices!.Select(c => field.Name + ":" + c))}.");
                }

                return choice;
            }

            return value.Trim();
        }

        /// <summary>The value or values after a colon: <c>v</c>, <c>"v w"</c> or <c>(a OR b)</c>.</summary>
        private List<string> Values(string name)
        {
            var at = _pos;
            if (_pos >= text.Length || char.IsWhiteSpace(text[_pos]))
            {
                var example = QueryFields.Find(name)?.Example ?? name + ":value";
                Problem(at - name.Length - 1, name.Length + 1, $"{name}: needs a value right after the colon, for example {example}.");
                return [];
            }

            if (text[_pos] != '(')
            {
                return Value(inList: false) is { } single ? [single] : [];
            }

            _pos++;
            var values = new List<string>();
            var expectValue = true;
            while (true)
            {
                SkipSpace();
                if (_pos >= text.Length)
                {
                    Problem(at, _pos - at, $"The list after {name}: is not closed: add a ')' at the end, as in {name}:(a OR b).");
                    return [];
                }

                if (text[_pos] == ')')
                {
                    _pos++;
                    if (values.Count == 0 || expectValue)
                    {
                        Problem(at, _pos - at, $"The list after {name}: {(values.Count == 0 ? "is empty" : "ends with OR")}: write {name}:(a OR b).");
                        return [];
                    }

                    return values;
                }

                if (!expectValue)
                {
                    if (Keyword("OR"))
                    {
                        expectValue = true;
                        continue;
                    }

                    var wordEnd = WordEnd();
                    Problem(_pos, wordEnd - _pos, $"Separate the values of {name}: with OR, as in {name}:(a OR b).");
                    _pos = wordEnd;
                    continue;
                }

                if (Value(inList: true) is { } value)
                {
                    values.Add(value);
                }

                expectValue = false;
            }
        }

        private string? Value(bool inList)
        {
            if (text[_pos] == '"')
            {
                return Quoted();
            }

            var start = _pos;
            while (_pos < text.Length && !char.IsWhiteSpace(text[_pos]) && !(inList && text[_pos] == ')'))
            {
                _pos++;
            }

            return text[start.._pos];
        }

        private string? Quoted()
        {
            var start = _pos;
            _pos++;
            var value = new StringBuilder();
            while (_pos < text.Length && text[_pos] != '"')
            {
                if (text[_pos] == '\\' && _pos + 1 < text.Length)
                {
                    _pos++;
                }

                value.Append(text[_pos]);
                _pos++;
            }

            if (_pos >= text.Length)
            {
                Problem(start, text.Length - start, "A quote is not closed: add the closing \" after the text.");
                return null;
            }

            _pos++;
            return value.ToString();
        }

        private void AddText(int start, string value, bool negated)
        {
            if (value.Trim().Length == 0)
            {
                Problem(start, _pos - start, "Empty quotes search for nothing: put the text between them, as in \"Harbour Road\".");
                return;
            }

            if (value.Length > MaxValueLength)
            {
                Problem(start, _pos - start, $"The text is {value.Length:N0} characters long; the limit is {MaxValueLength}. Search for a shorter, distinctive part of it.");
                return;
            }

            Clauses.Add(new QueryClause(QueryFields.Text, [value.Trim()], negated));
        }

        private bool Keyword(string word)
        {
            if (string.CompareOrdinal(text, _pos, word, 0, word.Length) == 0
                && (_pos + word.Length == text.Length || char.IsWhiteSpace(text[_pos + word.Length]) || text[_pos + word.Length] == ')'))
            {
                _pos += word.Length;
                return true;
            }

            return false;
        }

        private int WordEnd()
        {
            var end = _pos;
            while (end < text.Length && !char.IsWhiteSpace(text[end]) && text[end] != ')')
            {
                end++;
            }

            return Math.Max(end, _pos + 1);
        }

        private void SkipSpace()
        {
            while (_pos < text.Length && char.IsWhiteSpace(text[_pos]))
            {
                _pos++;
            }
        }

        private void Problem(int start, int length, string message) =>
            Problems.Add(new QueryProblem(Math.Clamp(start, 0, text.Length), Math.Max(1, Math.Min(length, text.Length - Math.Clamp(start, 0, text.Length))), message));
    }
}
