using ComplianceConsole.Core.Query;

namespace ComplianceConsole.Core.Analytics;

/// <summary>
/// The thresholds of the unusual-activity findings (section "Analytics"). Documented in docs/analytics.md; every value is
/// checked at start-up (<see cref="Validate"/>).
/// </summary>
public sealed class AnalyticsOptions
{
    public const string Section = "Analytics";

    /// <summary>One actor deleting at least this many rows within one hour is a finding.</summary>
    public int BulkDeleteRowsPerHour { get; set; } = 50;

    /// <summary>One actor updating at least this many rows within one hour is a finding.</summary>
    public int BulkUpdateRowsPerHour { get; set; } = 100;

    /// <summary>At least this many failed sign-ins within one hour is a finding.</summary>
    public int FailedLoginsPerHour { get; set; } = 10;

    /// <summary>
    /// An actor acting at an hour of the day they never acted at before is a finding once they have this many days of
    /// history (a new actor's every hour is new).
    /// </summary>
    public int NewHourAfterDays { get; set; } = 14;

    /// <summary>Tables where an actor's first change is a finding.</summary>
    public List<string> SensitiveTables { get; set; } = ["Accounts", "Payments", "AccountSignatories", "AspNetUserRoles"];

    /// <summary>How many actors, accounts and addresses the top lists show.</summary>
    public int TopCount { get; set; } = 10;

    public IEnumerable<string> Validate()
    {
        foreach (var (key, value, least) in new[]
                 {
                     ("BulkDeleteRowsPerHour", BulkDeleteRowsPerHour, 1), ("BulkUpdateRowsPerHour", BulkUpdateRowsPerHour, 1),
                     ("FailedLoginsPerHour", FailedLoginsPerHour, 1), ("NewHourAfterDays", NewHourAfterDays, 1), ("TopCount", TopCount, 1),
                 })
        {
            if (value < least)
            {
                yield return $"{Section}:{key} is {value}: set it to {least} or more (see docs/analytics.md for the defaults).";
            }
        }

        if (TopCount > 100)
        {
            yield return $"{Section}:TopCount is {TopCount}: set it to 100 or less (the default is 10).";
        }

        foreach (var table in SensitiveTables.Where(string.IsNullOrWhiteSpace))
        {
            yield return $"{Section}:SensitiveTables has an empty name: list table names, for example \"Payments\".";
        }
    }
}

/// <summary>The kinds of finding, the most serious first: the panel lists them in this order.</summary>
public enum FindingKind
{
    OutOfBand,
    BulkDelete,
    BulkUpdate,
    FailedLoginSpike,
    FirstOnSensitiveTable,
    NewHour,
}

/// <summary>
/// One unusual-activity finding: what, who, when, how many, the threshold it met, and the audit search of the entries
/// behind it. <see cref="Describe"/> says it in one sentence, in the reader's time zone.
/// </summary>
public sealed record Finding(FindingKind Kind, DateTime AtUtc, string? Actor, string? Table, long Count, long Threshold, AuditSearch Link, long HistoryDays = 0)
{
    public string Title => Kind switch
    {
        FindingKind.BulkDelete => "Bulk delete",
        FindingKind.BulkUpdate => "Bulk update",
        FindingKind.NewHour => "New working hour",
        FindingKind.FirstOnSensitiveTable => "First change to a sensitive table",
        FindingKind.FailedLoginSpike => "Failed sign-in spike",
        FindingKind.OutOfBand => "Out-of-band writes",
        _ => Kind.ToString(),
    };

    public string Describe(TimeZoneInfo zone)
    {
        var hour = TimeFormat.Format(AtUtc, zone)[..13] + ":00";
        return Kind switch
        {
            FindingKind.BulkDelete => $"{Actor} deleted {Count:N0} rows in the hour from {hour}; a finding from {Threshold:N0} deletes an hour.",
            FindingKind.BulkUpdate => $"{Actor} updated {Count:N0} rows in the hour from {hour}; a finding from {Threshold:N0} updates an hour.",
            FindingKind.NewHour => $"{Actor} acted in the hour from {hour} ({Count:N0} {(Count == 1 ? "entry" : "entries")}), an hour of the day they had never worked in {HistoryDays:N0} days of activity.",
            FindingKind.FirstOnSensitiveTable => $"{Actor} changed {Table} for the first time, in the hour from {hour}; {Table} is a sensitive table. The link shows every change they made to it since.",
            FindingKind.FailedLoginSpike => $"{Count:N0} failed sign-ins in the hour from {hour}; a finding from {Threshold:N0} an hour.",
            FindingKind.OutOfBand => $"{Count:N0} changes to {Table} were written outside the console (raw SQL or another tool); the actor is unknown.",
            _ => Kind.ToString(),
        };
    }
}
