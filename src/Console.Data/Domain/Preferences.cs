using ComplianceConsole.Core.Auditing;

namespace ComplianceConsole.Data.Domain;

/// <summary>A user's console settings, kept across sessions and browsers. UI state, not evidence: excluded from the trail.</summary>
[AuditExclude]
public class UserPreference
{
    public string UserId { get; set; } = "";

    /// <summary>system (follow the browser), light or dark.</summary>
    public string Theme { get; set; } = ThemeChoices.System;

    /// <summary>How times are shown: utc, or local (the browser's zone).</summary>
    public string TimeZone { get; set; } = TimeZoneChoices.Utc;

    /// <summary>The audit browser's visible columns, comma-separated; empty means the default set.</summary>
    public string? AuditColumns { get; set; }

    /// <summary>The audit browser's row density: compact or comfortable.</summary>
    public string? AuditDensity { get; set; }
}

public static class ThemeChoices
{
    public const string System = "system";
    public const string Light = "light";
    public const string Dark = "dark";
}

public static class TimeZoneChoices
{
    public const string Utc = "utc";
    public const string Local = "local";
}

/// <summary>A named audit-browser search of one user: the browser's URL query, so that opening it restores the view exactly.</summary>
[AuditExclude]
public class SavedSearch
{
    public int Id { get; set; }
    public string OwnerId { get; set; } = "";
    public string Name { get; set; } = "";

    /// <summary>The browser's query string (q, from, to, ...), without the leading '?'.</summary>
    public string Query { get; set; } = "";
    public DateTime CreatedAtUtc { get; set; }
}
