using System.Globalization;
using System.Text.Json;
using System.Text.RegularExpressions;
using ComplianceConsole.Core.Query;

namespace ComplianceConsole.Core.Diff;

/// <summary>
/// Values as people read them (UI.md, house rules): times to the second in the zone shown, amounts with thousands
/// separators and the record's currency, empty as an em dash (never the word null), JSON pretty-printed.
/// </summary>
public static partial class ValueDisplay
{
    public const string Empty = "—";

    /// <summary>Column names that hold money; their currency is the record's <c>Currency</c> column when it has one.</summary>
    private static readonly string[] AmountNames = ["Amount", "Balance", "Price", "Total", "Fee"];

    public static string Text(JsonElement? value, string column, TimeZoneInfo zone, string? currency = null)
    {
        if (value is not { } v || v.ValueKind is JsonValueKind.Null or JsonValueKind.Undefined)
        {
            return Empty;
        }

        switch (v.ValueKind)
        {
            case JsonValueKind.String:
                var text = v.GetString()!;
                if (text.Length == 0)
                {
                    return "(empty)";
                }

                if (Timestamp().IsMatch(text) && Time(text, zone) is { } time)
                {
                    return time;
                }

                if (IsAmount(column) && decimal.TryParse(text, NumberStyles.Number, CultureInfo.InvariantCulture, out var amount))
                {
                    return Money(amount, currency);
                }

                return EntryDiff.Document(v) is { } doc ? Pretty(doc) : text;
            case JsonValueKind.Number:
                return IsAmount(column) && v.TryGetDecimal(out var number) ? Money(number, currency)
                    : v.GetRawText(); // ids and counts: as stored, no separators that would make an id unsearchable
            case JsonValueKind.True:
                return "yes";
            case JsonValueKind.False:
                return "no";
            default:
                return Pretty(v);
        }
    }

    /// <summary>Whether the value is a number to align right.</summary>
    public static bool IsNumeric(JsonElement? value, string column) =>
        value is { ValueKind: JsonValueKind.Number } || (IsAmount(column) && value is { ValueKind: JsonValueKind.String } s && decimal.TryParse(s.GetString(), NumberStyles.Number, CultureInfo.InvariantCulture, out _));

    public static bool IsAmount(string column) => AmountNames.Any(n => column.EndsWith(n, StringComparison.Ordinal));

    /// <summary>1234.5 and EUR read "1,234.50 EUR"; <paramref name="separator"/> goes between the figure and the currency.</summary>
    public static string Money(decimal amount, string? currency, string separator = " ") =>
        amount.ToString("#,##0.00", CultureInfo.InvariantCulture) + (string.IsNullOrEmpty(currency) ? "" : separator + currency);

    public static string Pretty(JsonElement element) => JsonSerializer.Serialize(element, PrettyOptions);

    /// <summary>A stored time, to the second: with an offset it is converted to the zone; without one it is a UTC time as EF stores it.</summary>
    private static string? Time(string text, TimeZoneInfo zone)
    {
        if (DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var value))
        {
            return TimeFormat.Format(value.UtcDateTime, zone);
        }

        return null;
    }

    private static readonly JsonSerializerOptions PrettyOptions = new() { WriteIndented = true, Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    [GeneratedRegex(@"^\d{4}-\d{2}-\d{2}[ T]\d{2}:\d{2}(:\d{2}(\.\d{1,7})?)?(Z|[+-]\d{2}:\d{2})?$")]
    private static partial Regex Timestamp();
}
