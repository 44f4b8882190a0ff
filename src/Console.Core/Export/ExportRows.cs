using System.Text.Json;
using System.Text.Json.Nodes;
using ComplianceConsole.Core.Auditing;
using ComplianceConsole.Core.Chain;

namespace ComplianceConsole.Core.Export;

public enum ExportFormat
{
    Csv,
    Xlsx,

    /// <summary>JSON Lines: one object per row, keyed by column (retention archives; for machines).</summary>
    JsonLines,
}

/// <summary>What an export writes of the before and after values.</summary>
public enum ExportValues
{
    /// <summary>The stored JSON as captured.</summary>
    Full,

    /// <summary>An update's changed fields only (inserts and deletes keep every field).</summary>
    ChangedOnly,
}

public enum ExportCellKind
{
    Text,
    Number,
    Time,
}

/// <summary>A column of an export: its key (the column chooser's), its header, the kind of cell and a fixed width (characters).</summary>
public sealed record ExportColumn(string Key, string Header, ExportCellKind Kind, double Width);

/// <summary>One row of a file: its cells (<see cref="ExportRows.Values"/>, or a chart's), and for an entry its seq and row hash (the manifest's range).</summary>
public readonly record struct ExportRow(object?[] Values, long? Seq = null, string? RowHash = null);

/// <summary>
/// The export row shape (ARCHITECTURE.md: Core holds it): the columns in their order and one entry's values. Every
/// writer (CSV, XLSX, the retention archive) writes these, so what a file holds is the same whatever its format.
/// </summary>
public static class ExportRows
{
    public const string LocalTime = "time_local";

    public static readonly IReadOnlyList<ExportColumn> Columns =
    [
        new("seq", "seq", ExportCellKind.Number, 10),
        new("time_utc", "time (UTC)", ExportCellKind.Time, 20),
        new(LocalTime, "time (local)", ExportCellKind.Time, 20),
        new("subject", "table or event", ExportCellKind.Text, 24),
        new("record", "record key or target", ExportCellKind.Text, 28),
        new("label", "record", ExportCellKind.Text, 28),
        new("operation", "operation", ExportCellKind.Text, 10),
        new("actor", "actor", ExportCellKind.Text, 28),
        new("roles", "roles", ExportCellKind.Text, 18),
        new("origin", "origin", ExportCellKind.Text, 28),
        new("correlation", "correlation id", ExportCellKind.Text, 34),
        new("transaction", "transaction id", ExportCellKind.Text, 34),
        new("ip", "IP address", ExportCellKind.Text, 16),
        new("user_agent", "user agent", ExportCellKind.Text, 30),
        new("changed", "changed fields", ExportCellKind.Text, 24),
        new("before", "before", ExportCellKind.Text, 50),
        new("after", "after (event: details)", ExportCellKind.Text, 50),
        new("payload_hash", "payload hash", ExportCellKind.Text, 66),
        new("row_hash", "row hash", ExportCellKind.Text, 66),
        new("version", "entry version", ExportCellKind.Number, 8),
        new("previous_row_hash", "previous row hash", ExportCellKind.Text, 66),
        new(Canonical, "canonical form (what the payload hash covers)", ExportCellKind.Text, 60),
    ];

    public const string Canonical = "canonical";

    /// <summary>
    /// The columns every export of entries holds, whatever the user chose: enough for <c>verify-export</c> to check each row on
    /// its own (the canonical form hashes to the payload hash; version, seq, payload hash and previous row hash give the row
    /// hash) and to check that every other cell says what the canonical form says.
    /// </summary>
    public static readonly IReadOnlySet<string> Verifiable = new HashSet<string>(StringComparer.Ordinal) { "seq", "payload_hash", "row_hash", "version", "previous_row_hash", Canonical };

    /// <summary><paramref name="chosen"/> in the export's order, with the <see cref="Verifiable"/> columns added.</summary>
    public static IReadOnlyList<ExportColumn> WithVerifiable(IEnumerable<string> chosen)
    {
        var keys = chosen.ToHashSet(StringComparer.Ordinal);
        return Columns.Where(c => keys.Contains(c.Key) || Verifiable.Contains(c.Key)).ToList();
    }

    /// <summary>The header of a column: the local time names its zone.</summary>
    public static string Header(ExportColumn column, TimeZoneInfo zone) =>
        column.Key == LocalTime ? $"time ({(zone == TimeZoneInfo.Utc ? "UTC" : zone.Id)})" : column.Header;

    /// <summary>
    /// An entry's values for <paramref name="columns"/>: a long for the seq, UTC <see cref="DateTime"/>s for times (the local
    /// one converted to <paramref name="zone"/>), text or null for the rest. An event has its name as subject, its target as
    /// record and its details as "after".
    /// </summary>
    public static object?[] Values(AuditEntry e, string? label, TimeZoneInfo zone, ExportValues values, IReadOnlyList<ExportColumn> columns, string? previousRowHash = null)
    {
        var row = new object?[columns.Count];
        var isEvent = e.Operation == AuditOperations.Event;
        for (var i = 0; i < columns.Count; i++)
        {
            row[i] = columns[i].Key switch
            {
                "seq" => e.Seq,
                "time_utc" => DateTime.SpecifyKind(e.OccurredAtUtc, DateTimeKind.Utc),
                LocalTime => DateTime.SpecifyKind(TimeZoneInfo.ConvertTimeFromUtc(DateTime.SpecifyKind(e.OccurredAtUtc, DateTimeKind.Utc), zone), DateTimeKind.Unspecified),
                "subject" => isEvent ? e.EventName : e.TableName,
                "record" => isEvent ? e.Target : e.RecordKey,
                "label" => label,
                "operation" => e.Operation,
                "actor" => e.ActorName,
                "roles" => e.ActorRoles,
                "origin" => e.Origin,
                "correlation" => e.CorrelationId,
                "transaction" => e.TransactionId,
                "ip" => e.IpAddress,
                "user_agent" => e.UserAgent,
                "changed" => e.ChangedColumns is { } changed ? string.Join(", ", ChangedNames(changed)) : null,
                "before" => Restrict(e.OldValues, e, values),
                "after" => isEvent ? e.Metadata : Restrict(e.NewValues, e, values),
                "payload_hash" => e.PayloadHash,
                "row_hash" => e.RowHash,
                "version" => (long)e.Version,
                "previous_row_hash" => previousRowHash,
                Canonical => CanonicalJson.Of(e),
                _ => throw new ArgumentOutOfRangeException(nameof(columns), columns[i].Key, "Not an export column."),
            };
        }

        return row;
    }

    private static IEnumerable<string> ChangedNames(string json)
    {
        try
        {
            return JsonSerializer.Deserialize<string[]>(json) ?? [];
        }
        catch (JsonException)
        {
            return [json];
        }
    }

    /// <summary>An update's values cut to its changed fields (changed-only mode); anything else as stored.</summary>
    private static string? Restrict(string? json, AuditEntry e, ExportValues values)
    {
        if (values == ExportValues.Full || json is null || e.Operation != AuditOperations.Update || e.ChangedColumns is not { } changed)
        {
            return json;
        }

        if (JsonNode.Parse(json) is not JsonObject all)
        {
            return json;
        }

        var keep = ChangedNames(changed).ToHashSet(StringComparer.Ordinal);
        var cut = new JsonObject();
        foreach (var (name, value) in all)
        {
            if (keep.Contains(name))
            {
                cut[name] = value?.DeepClone();
            }
        }

        return cut.ToJsonString();
    }
}

/// <summary>
/// Keeps a spreadsheet from running a cell as a formula (OWASP, "CSV injection"): a text value that starts with =, +, -,
/// @, a tab or a carriage return is written with a leading apostrophe. A value that already starts with an apostrophe
/// gets one more, so the rule can be undone exactly: <see cref="Restore"/> takes one leading apostrophe off any value
/// that has one. The manifest says the rule was applied.
/// </summary>
public static class SpreadsheetSafety
{
    public const char Prefix = '\'';

    /// <summary>The characters that make a value need the prefix (the apostrophe itself included, for exact undoing).</summary>
    public static readonly IReadOnlyList<char> Leading = ['=', '+', '-', '@', '\t', '\r', Prefix];

    public static bool NeedsPrefix(string value) => value.Length > 0 && Leading.Contains(value[0]);

    public static string Neutralise(string value) => NeedsPrefix(value) ? Prefix + value : value;

    public static string Restore(string value) => value.Length > 0 && value[0] == Prefix ? value[1..] : value;
}

/// <summary>
/// A chart's data as export columns (the same writer as entries): the row's label, a bar's start in UTC (time charts),
/// one count column per series, and the total.
/// </summary>
public static class ChartColumns
{
    public const string StartUtc = "start_utc";

    public static IReadOnlyList<ExportColumn> Of(Analytics.ChartData chart)
    {
        var columns = new List<ExportColumn> { new("label", chart.RowHeader, ExportCellKind.Text, 28) };
        if (chart.Rows.Any(r => r.StartUtc is not null))
        {
            columns.Add(new(StartUtc, "start (UTC)", ExportCellKind.Time, 20));
        }

        columns.AddRange(chart.Series.Select(s => new ExportColumn("series:" + s, s, ExportCellKind.Number, 12)));
        columns.Add(new("total", "total", ExportCellKind.Number, 12));
        return columns;
    }

    public static object?[] Values(Analytics.ChartData chart, Analytics.ChartRow row, string label, IReadOnlyList<ExportColumn> columns) =>
        [.. columns.Select(c => c.Key switch
        {
            "label" => label,
            StartUtc => row.StartUtc is { } start ? DateTime.SpecifyKind(start, DateTimeKind.Utc) : null,
            "total" => row.Total,
            _ when c.Key.StartsWith("series:", StringComparison.Ordinal) => (object?)row.CountOf(c.Key["series:".Length..]),
            _ => throw new ArgumentOutOfRangeException(nameof(columns), c.Key, "Not a chart column."),
        })];
}
