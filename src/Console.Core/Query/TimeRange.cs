using System.Globalization;

namespace ComplianceConsole.Core.Query;

/// <summary>A quick range, counted back from now.</summary>
public sealed record TimePreset(string Key, string Label, TimeSpan? Span);

/// <summary>
/// The time range of a search: a preset counted back from now (<c>24h</c>), or absolute UTC bounds, the start
/// included and the end excluded. Presets stay presets in the URL, so that a saved link shows the latest entries.
/// </summary>
public sealed record TimeRange(string? Preset, DateTime? FromUtc = null, DateTime? ToUtc = null)
{
    public const string DefaultPreset = "30d";

    public static readonly IReadOnlyList<TimePreset> Presets =
    [
        new("15m", "Last 15 minutes", TimeSpan.FromMinutes(15)),
        new("1h", "Last hour", TimeSpan.FromHours(1)),
        new("24h", "Last 24 hours", TimeSpan.FromHours(24)),
        new("7d", "Last 7 days", TimeSpan.FromDays(7)),
        new("30d", "Last 30 days", TimeSpan.FromDays(30)),
        new("90d", "Last 90 days", TimeSpan.FromDays(90)),
        new("1y", "Last year", TimeSpan.FromDays(365)),
        new("all", "All time", null),
    ];

    public static readonly TimeRange Default = new(DefaultPreset);
    public static readonly TimeRange All = new("all");

    public static TimeRange Between(DateTime? fromUtc, DateTime? toUtc) => new(null, fromUtc, toUtc);

    /// <summary>
    /// A range from a typed start and end (either may be empty: unbounded), read in <paramref name="zone"/>: the custom
    /// range of the picker and the command line's --from/--to. Null, with a message saying what to write, when a time
    /// does not parse or the start is not before the end. <paramref name="names"/> are what the message calls the two.
    /// </summary>
    public static TimeRange? TryParse(string? from, string? to, TimeZoneInfo zone, out string? problem, (string From, string To)? names = null)
    {
        var (fromName, toName) = names ?? ("The start", "The end");
        DateTime? Read(string? text, string name, ref string? problem)
        {
            if (string.IsNullOrWhiteSpace(text) || problem is not null)
            {
                return null;
            }

            if (TimeFormat.TryParse(text, zone, out var utc))
            {
                return utc;
            }

            problem = $"{name} \"{AuditSearch.Clip(text)}\" is not a time: write 2026-11-30 or 2026-11-30 12:39:01 (in {(zone == TimeZoneInfo.Utc ? "UTC" : zone.Id)}), or ISO 8601 with an offset.";
            return null;
        }

        problem = null;
        var (start, end) = (Read(from, fromName, ref problem), Read(to, toName, ref problem));
        if (problem is null && start is { } a && end is { } b && a >= b)
        {
            problem = $"{fromName} must come before {toName.ToLowerInvariant()}.";
        }

        return problem is not null ? null : start is null && end is null ? All : Between(start, end);
    }

    /// <summary>The bounds at <paramref name="nowUtc"/>: from (inclusive) and to (exclusive); null means unbounded.</summary>
    public (DateTime? From, DateTime? To) Resolve(DateTime nowUtc)
    {
        if (Preset is null)
        {
            return (FromUtc, ToUtc);
        }

        var span = Presets.First(p => p.Key == Preset).Span;
        return (span is { } s ? nowUtc - s : null, null);
    }

    /// <summary>How the range reads on screen, in the zone shown.</summary>
    public string Describe(TimeZoneInfo zone) => Preset is { } key
        ? Presets.First(p => p.Key == key).Label
        : $"{(FromUtc is { } f ? TimeFormat.Format(f, zone) : "the beginning")} to {(ToUtc is { } t ? TimeFormat.Format(t, zone) : "now")}";
}

/// <summary>Times as the console writes and reads them: <c>2026-11-30 12:39:01</c>, in UTC or the user's zone.</summary>
public static class TimeFormat
{
    private static readonly string[] Formats =
    [
        "yyyy-MM-dd HH:mm:ss", "yyyy-MM-dd HH:mm", "yyyy-MM-dd", "yyyy-MM-ddTHH:mm:ss", "yyyy-MM-ddTHH:mm", "yyyy-MM-dd HH:mm:ss.FFFFFFF",
        "yyyy-MM-ddTHH:mm:ss.FFFFFFF", "yyyy/MM/dd HH:mm:ss", "yyyy/MM/dd HH:mm", "yyyy/MM/dd",
    ];

    public static string Format(DateTime utc, TimeZoneInfo zone) =>
        TimeZoneInfo.ConvertTimeFromUtc(DateTime.SpecifyKind(utc, DateTimeKind.Utc), zone).ToString("yyyy-MM-dd HH:mm:ss", CultureInfo.InvariantCulture);

    /// <summary>The URL form: ISO 8601 UTC with a Z, to the second.</summary>
    public static string ToUrl(DateTime utc) => DateTime.SpecifyKind(utc, DateTimeKind.Utc).ToString("yyyy-MM-ddTHH:mm:ssZ", CultureInfo.InvariantCulture);

    /// <summary>
    /// Reads a typed or pasted time. A time with an offset or a Z is taken as given; one without is in <paramref name="zone"/>.
    /// </summary>
    public static bool TryParse(string? text, TimeZoneInfo zone, out DateTime utc)
    {
        utc = default;
        var value = text?.Trim();
        if (string.IsNullOrEmpty(value))
        {
            return false;
        }

        if ((value.EndsWith('Z') || value.EndsWith('z') || HasOffset(value))
            && DateTimeOffset.TryParse(value, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out var withOffset))
        {
            utc = withOffset.UtcDateTime;
            return true;
        }

        if (DateTime.TryParseExact(value, Formats, CultureInfo.InvariantCulture, DateTimeStyles.None, out var local))
        {
            var unspecified = DateTime.SpecifyKind(local, DateTimeKind.Unspecified);
            if (zone.IsInvalidTime(unspecified))
            {
                return false;
            }

            utc = TimeZoneInfo.ConvertTimeToUtc(unspecified, zone);
            return true;
        }

        return false;
    }

    private static bool HasOffset(string value)
    {
        var t = value.IndexOf('T') is var i and > 0 ? i : value.IndexOf(' ');
        return t > 0 && (value.IndexOf('+', t) > 0 || value.IndexOf('-', t) > 0);
    }
}
