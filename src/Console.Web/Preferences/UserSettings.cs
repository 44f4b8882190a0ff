using System.Security.Claims;
using ComplianceConsole.Core.Query;
using ComplianceConsole.Data;
using ComplianceConsole.Data.Domain;
using Microsoft.EntityFrameworkCore;
using Microsoft.JSInterop;

namespace ComplianceConsole.Web.Preferences;

/// <summary>
/// One user's console preferences for a circuit: the time zone shown (UTC, or the browser's own zone), and the audit
/// browser's columns and density. Kept in <see cref="UserPreference"/> (through <see cref="UserPreferenceStore"/>, as
/// the theme is), so they follow the user to any browser.
/// </summary>
public sealed class UserSettings(IDbContextFactory<ConsoleDbContext> contexts, IJSRuntime js)
{
    private string? _userId;
    private TimeZoneInfo? _browserZone;

    public UserPreference Current { get; private set; } = new();

    /// <summary>The zone times are shown in.</summary>
    public TimeZoneInfo Zone => Current.TimeZone == TimeZoneChoices.Local && _browserZone is not null ? _browserZone : TimeZoneInfo.Utc;

    /// <summary>How the zone reads on screen: "UTC", or "Europe/Berlin (UTC+01:00)".</summary>
    public string ZoneLabel => Zone == TimeZoneInfo.Utc ? "UTC" : $"{Zone.Id} (UTC{Offset(Zone.GetUtcOffset(DateTime.UtcNow))})";

    public bool IsLocal => Current.TimeZone == TimeZoneChoices.Local;

    public event Action? Changed;

    /// <summary>Reads the user's row once per circuit (this service is scoped to it); later pages reuse what it read and what it saved.</summary>
    public async Task LoadAsync(ClaimsPrincipal user)
    {
        var userId = user.FindFirstValue(ClaimTypes.NameIdentifier);
        if (userId is null || userId == _userId)
        {
            return;
        }

        _userId = userId;

        await using var db = await contexts.CreateDbContextAsync();
        Current = await UserPreferenceStore.ReadAsync(db, _userId);
    }

    /// <summary>Asks the browser for its zone (after the first interactive render; prerendering has no browser).</summary>
    public async Task DetectBrowserZoneAsync()
    {
        if (_browserZone is not null)
        {
            return;
        }

        try
        {
            var id = await js.InvokeAsync<string>("complianceConsole.timeZone");
            if (!string.IsNullOrEmpty(id) && TimeZoneInfo.TryFindSystemTimeZoneById(id, out var zone))
            {
                _browserZone = zone;
                Changed?.Invoke();
            }
        }
        catch (JSException)
        {
            // A browser that cannot say: stay on UTC, which is always labelled.
        }
    }

    public string Format(DateTime utc) => TimeFormat.Format(utc, Zone);

    public Task SetTimeZoneAsync(string choice) => UpdateAsync(p => p.TimeZone = choice);

    public Task SetColumnsAsync(IEnumerable<string> columns) => UpdateAsync(p => p.AuditColumns = string.Join(',', columns));

    public Task SetDensityAsync(string density) => UpdateAsync(p => p.AuditDensity = density);

    private async Task UpdateAsync(Action<UserPreference> change)
    {
        change(Current);
        Changed?.Invoke();
        if (_userId is null)
        {
            return;
        }

        await using var db = await contexts.CreateDbContextAsync();
        await UserPreferenceStore.UpdateAsync(db, _userId, change);
    }

    private static string Offset(TimeSpan offset) => (offset < TimeSpan.Zero ? "-" : "+") + offset.ToString(@"hh\:mm");
}
