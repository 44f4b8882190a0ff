using ComplianceConsole.Core.Analytics;
using ComplianceConsole.Core.Auditing;
using ComplianceConsole.Web.Preferences;

namespace ComplianceConsole.Web.Components.Analytics;

/// <summary>How the dashboard names and colours a series, and labels a row, the same on screen, in the table view, in CSV and in PNG.</summary>
public static class ChartSeries
{
    public static string Name(string series) => series switch
    {
        AuditEventNames.LoginFailed => "failed sign-in",
        AuditEventNames.LockedOut => "lockout",
        _ => series,
    };

    /// <summary>The CSS class that colours a series (audit.css).</summary>
    public static string Css(string series) => series switch
    {
        AuditEventNames.LoginFailed => "cc-series-failed",
        AuditEventNames.LockedOut => "cc-series-locked",
        _ => "cc-op-" + series,
    };

    /// <summary>The palette variable of a series, for the PNG drawn on a canvas.</summary>
    public static string Var(string series) => series switch
    {
        AuditOperations.Insert => "--mud-palette-success",
        AuditOperations.Update => "--mud-palette-info",
        AuditOperations.Delete or AuditEventNames.LockedOut => "--mud-palette-error",
        AuditEventNames.LoginFailed => "--mud-palette-warning",
        _ => "--mud-palette-text-disabled",
    };

    /// <summary>A row's label: a bar of time in the reader's zone (to the hour for hourly bars), or the category.</summary>
    public static string Label(ChartData chart, ChartRow row, UserSettings settings)
    {
        if (row.StartUtc is not { } start)
        {
            return row.Label;
        }

        var text = settings.Format(start);
        return chart.BarSize is { } size && size < TimeSpan.FromDays(1) ? text[..16] : chart.BarSize >= TimeSpan.FromDays(7) ? "week of " + text[..10] : text[..10];
    }

    public static string Plural(long count, string series) => $"{count:N0} {Name(series)}{(count == 1 ? "" : "s")}";
}
