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

/// <summary>Reads and writes one user's <see cref="UserPreference"/> row: the one place that knows the row may not exist yet.</summary>
public static class UserPreferenceStore
{
    /// <summary>The user's settings, or the defaults when they have never changed one.</summary>
    public static async Task<UserPreference> ReadAsync(ConsoleDbContext db, string userId, CancellationToken cancellationToken = default) =>
        await Microsoft.EntityFrameworkCore.EntityFrameworkQueryableExtensions.SingleOrDefaultAsync(
            Microsoft.EntityFrameworkCore.EntityFrameworkQueryableExtensions.AsNoTracking(db.UserPreferences), p => p.UserId == userId, cancellationToken)
        ?? new UserPreference { UserId = userId };

    /// <summary>Changes some of the user's settings, creating the row on the first change; the other settings stay.</summary>
    public static async Task UpdateAsync(ConsoleDbContext db, string userId, Action<UserPreference> change, CancellationToken cancellationToken = default)
    {
        var row = await db.UserPreferences.FindAsync([userId], cancellationToken);
        if (row is null)
        {
            row = new UserPreference { UserId = userId };
            db.UserPreferences.Add(row);
        }

        change(row);
        await db.SaveChangesAsync(cancellationToken);
    }
}
