using System.Globalization;

namespace ComplianceConsole.Core.Query;

/// <summary>
/// The audit browser's whole state, as the URL carries it: the query, the time range and the keyset position.
/// <c>before=N</c> shows the entries below seq N, newest first; <c>after=N</c> the page just above seq N.
/// </summary>
public sealed record AuditSearch(AuditQuery Query, TimeRange Range, long? Before = null, long? After = null)
{
    public static readonly AuditSearch Default = new(AuditQuery.Empty, TimeRange.Default);

    private static readonly string[] Known = ["q", "range", "from", "to", "before", "after"];

    /// <summary>The same search from its first page (a new query or range resets the position).</summary>
    public AuditSearch FirstPage => this with { Before = null, After = null };

    /// <summary>The audit browser's address for this search.</summary>
    public string BrowserUrl => "/audit?" + ToQueryString();

    /// <summary>The URL query string, without '?'; parameters at their defaults are left out.</summary>
    public string ToQueryString()
    {
        var parts = new List<string>();
        if (!Query.IsEmpty)
        {
            parts.Add("q=" + Uri.EscapeDataString(Query.Text));
        }

        if (Range.Preset is { } preset)
        {
            if (preset != TimeRange.DefaultPreset)
            {
                parts.Add("range=" + preset);
            }
        }
        else
        {
            if (Range.FromUtc is { } from)
            {
                parts.Add("from=" + Uri.EscapeDataString(TimeFormat.ToUrl(from)));
            }

            if (Range.ToUtc is { } to)
            {
                parts.Add("to=" + Uri.EscapeDataString(TimeFormat.ToUrl(to)));
            }

            if (Range.FromUtc is null && Range.ToUtc is null)
            {
                parts.Add("range=all");
            }
        }

        if (Before is { } before)
        {
            parts.Add("before=" + before.ToString(CultureInfo.InvariantCulture));
        }
        else if (After is { } after)
        {
            parts.Add("after=" + after.ToString(CultureInfo.InvariantCulture));
        }

        return string.Join('&', parts);
    }

    /// <summary>
    /// Reads a URL's query string. Never throws: a parameter that cannot be used is left at its default, and
    /// <see cref="AuditSearchParse.Problems"/> says what was wrong and what to write instead.
    /// </summary>
    public static AuditSearchParse FromQueryString(string? queryString, TimeZoneInfo? zone = null)
    {
        zone ??= TimeZoneInfo.Utc;
        var problems = new List<string>();
        var queryProblems = (IReadOnlyList<QueryProblem>)[];
        var values = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        foreach (var pair in (queryString ?? "").TrimStart('?').Split('&', StringSplitOptions.RemoveEmptyEntries))
        {
            var eq = pair.IndexOf('=');
            var key = Unescape(eq < 0 ? pair : pair[..eq]);
            var value = eq < 0 ? "" : Unescape(pair[(eq + 1)..]);
            if (!Known.Contains(key, StringComparer.OrdinalIgnoreCase))
            {
                problems.Add($"The link has a parameter \"{Clip(key)}\" that the audit browser does not know, so it was ignored. It reads {string.Join(", ", Known)}.");
            }
            else if (!values.TryAdd(key, value))
            {
                problems.Add($"The link gives \"{key}\" more than once; the first one is used. Remove the others.");
            }
        }

        var query = AuditQuery.Empty;
        if (values.TryGetValue("q", out var q))
        {
            var parsed = QueryParser.Parse(q);
            queryProblems = parsed.Problems;
            query = parsed.Query;
        }

        var range = TimeRange.Default;
        values.TryGetValue("from", out var fromText);
        values.TryGetValue("to", out var toText);
        if (values.TryGetValue("range", out var preset))
        {
            if (TimeRange.Presets.FirstOrDefault(p => string.Equals(p.Key, preset, StringComparison.OrdinalIgnoreCase)) is { } known)
            {
                range = new TimeRange(known.Key);
            }
            else
            {
                problems.Add($"\"{Clip(preset)}\" is not a time range: use one of {string.Join(", ", TimeRange.Presets.Select(p => p.Key))}, or from= and to= dates. Showing {TimeRange.Presets.First(p => p.Key == TimeRange.DefaultPreset).Label.ToLowerInvariant()}.");
            }

            if (fromText is not null || toText is not null)
            {
                problems.Add("The link gives both a range and from/to dates; the range is used. Remove one of them.");
                fromText = toText = null;
            }
        }

        if (fromText is not null || toText is not null)
        {
            var from = Time(fromText, "from", zone, problems);
            var to = Time(toText, "to", zone, problems);
            if (from is { } f && to is { } t && f >= t)
            {
                problems.Add($"The time range runs backwards ({fromText} to {toText}): the start must come before the end. Showing everything from {fromText} on.");
                to = null;
            }

            range = TimeRange.Between(from, to);
        }

        var before = Seq(values.GetValueOrDefault("before"), "before", problems);
        var after = Seq(values.GetValueOrDefault("after"), "after", problems);
        if (before is not null && after is not null)
        {
            problems.Add("The link gives both before and after; before is used.");
            after = null;
        }

        return new AuditSearchParse(new AuditSearch(query, range, before, after), values.GetValueOrDefault("q") ?? "", queryProblems, problems);
    }

    private static DateTime? Time(string? text, string name, TimeZoneInfo zone, List<string> problems)
    {
        if (string.IsNullOrWhiteSpace(text))
        {
            return null;
        }

        if (TimeFormat.TryParse(text, zone, out var utc))
        {
            return utc;
        }

        problems.Add($"The '{name}' time \"{Clip(text)}\" is not a time: write it as 2026-11-30 or 2026-11-30 12:39:01 (or ISO 8601 with Z), or remove it.");
        return null;
    }

    private static long? Seq(string? text, string name, List<string> problems)
    {
        if (text is null)
        {
            return null;
        }

        if (long.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var seq) && seq > 0)
        {
            return seq;
        }

        problems.Add($"'{name}' must be an entry's seq, a whole number above 0; \"{Clip(text)}\" is not. Showing the newest entries instead.");
        return null;
    }

    private static string Unescape(string text)
    {
        try
        {
            return Uri.UnescapeDataString(text.Replace('+', ' '));
        }
        catch (UriFormatException)
        {
            return text;
        }
    }

    /// <summary>Echoed values are cut short, so that a long parameter cannot flood the page.</summary>
    public static string Clip(string text, int max = 60) => text.Length <= max ? text : text[..max] + $"… ({text.Length:N0} characters)";
}

/// <summary>A URL read into a search, with what could not be used and why.</summary>
public sealed record AuditSearchParse(AuditSearch Search, string QueryText, IReadOnlyList<QueryProblem> QueryProblems, IReadOnlyList<string> Problems);
