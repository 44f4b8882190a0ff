namespace ComplianceConsole.Core.Query;

/// <summary>What kind of value a field takes; the parser checks it and the suggester offers it.</summary>
public enum QueryValueKind
{
    /// <summary>Any text; <c>*</c> matches any run of characters.</summary>
    Pattern,

    /// <summary>One of a fixed list (<see cref="QueryField.Choices"/>), any case.</summary>
    Choice,

    /// <summary>An exact value (an id), any case.</summary>
    Exact,
}

/// <summary>A field of the audit query language: <c>name:value</c>.</summary>
public sealed record QueryField(string Name, QueryValueKind Kind, string Help, string Example, IReadOnlyList<string>? Choices = null, IReadOnlyList<string>? Aliases = null);

/// <summary>The fields of the query language, documented in docs/query-language.md. One list: the parser, the chips, the suggestions and the URL all read it.</summary>
public static class QueryFields
{
    public const string Actor = "actor";
    public const string Table = "table";
    public const string Op = "op";
    public const string Record = "record";
    public const string Origin = "origin";
    public const string Correlation = "correlation";
    public const string Tx = "tx";
    public const string Event = "event";
    public const string OutOfBand = "outofband";
    public const string Ip = "ip";
    public const string Target = "target";

    /// <summary>Free text, matched against the values of an entry (before, after, event details and target).</summary>
    public const string Text = "text";

    public static readonly IReadOnlyList<QueryField> All =
    [
        new(Actor, QueryValueKind.Pattern, "who acted: any part of the email or the user id, any case", "actor:olivia", Aliases: ["user"]),
        new(Table, QueryValueKind.Pattern, "the table a row change was made to", "table:Customers"),
        new(Op, QueryValueKind.Choice, "the operation: insert, update, delete or event", "op:update", ["insert", "update", "delete", "event"], ["operation"]),
        new(Record, QueryValueKind.Exact, "the changed record's key: its id, or the whole key as JSON", "record:7", Aliases: ["key"]),
        new(Origin, QueryValueKind.Pattern, "where the change came from: page, endpoint, job or out-of-band", "origin:page:/customers/*"),
        new(Correlation, QueryValueKind.Exact, "the request or circuit action that made the change", "correlation:3f2a…", Aliases: ["corr"]),
        new(Tx, QueryValueKind.Exact, "the database transaction", "tx:9b1c…", Aliases: ["transaction"]),
        new(Event, QueryValueKind.Pattern, "an event name (resource.verb)", "event:auth.*"),
        new(OutOfBand, QueryValueKind.Choice, "written outside the app (raw SQL, another tool)", "outofband:true", ["true", "false"], ["oob"]),
        new(Ip, QueryValueKind.Pattern, "the client IP address", "ip:10.20.*"),
        new(Target, QueryValueKind.Pattern, "what an event was about: the account of a sign-in, the record viewed", "target:mallory@example.test"),
    ];

    public static QueryField? Find(string name) =>
        All.FirstOrDefault(f => string.Equals(f.Name, name, StringComparison.OrdinalIgnoreCase)
            || f.Aliases?.Any(a => string.Equals(a, name, StringComparison.OrdinalIgnoreCase)) == true);

    /// <summary>The closest field name to a misspelt one, if any is close.</summary>
    public static string? Closest(string name)
    {
        var best = All.Select(f => (f.Name, Distance: Spelling.Distance(name.ToLowerInvariant(), f.Name))).MinBy(x => x.Distance);
        return best.Distance <= Math.Max(1, name.Length / 3) ? best.Name : null;
    }
}
