using System.Security.Claims;
using ComplianceConsole.Data;
using ComplianceConsole.Data.Domain;
using Microsoft.EntityFrameworkCore;

namespace ComplianceConsole.Web.Theming;

/// <summary>
/// Each user's theme choice (system, light or dark), kept in <see cref="UserPreference"/> so that it follows the user
/// across reloads, tabs and browsers. "system" (the default) follows the browser's prefers-color-scheme.
/// </summary>
public sealed class ThemePreferences(IDbContextFactory<ConsoleDbContext> contexts)
{
    /// <summary>
    /// Set by assets/theme.js on every page load: whether this browser prefers dark. It lets the server render the first
    /// paint in the right theme for "system" users (and on the sign-in page), before the circuit can ask the browser.
    /// </summary>
    public const string SystemDarkCookie = "cc-system-dark";

    public static readonly string[] Choices = [ThemeChoices.System, ThemeChoices.Light, ThemeChoices.Dark];

    /// <summary>The user's choice; "system" when the user has none, is anonymous, or the store cannot be read.</summary>
    public async Task<string> GetAsync(ClaimsPrincipal user, CancellationToken ct = default)
    {
        if (UserIdOf(user) is not { } id)
        {
            return ThemeChoices.System;
        }

        await using var db = await contexts.CreateDbContextAsync(ct);
        return Normalize((await UserPreferenceStore.ReadAsync(db, id, ct)).Theme);
    }

    /// <summary>Saves the choice of a signed-in user; only the theme column changes, the user's other settings stay.</summary>
    public async Task SaveAsync(ClaimsPrincipal user, string choice, CancellationToken ct = default)
    {
        var id = UserIdOf(user) ?? throw new InvalidOperationException("Only a signed-in user has a theme choice to save.");
        await using var db = await contexts.CreateDbContextAsync(ct);
        await UserPreferenceStore.UpdateAsync(db, id, p => p.Theme = Normalize(choice), ct);
    }

    public static bool IsDark(string choice, bool systemDark) => choice switch
    {
        ThemeChoices.Dark => true,
        ThemeChoices.Light => false,
        _ => systemDark,
    };

    /// <summary>What the browser said about its colour scheme on this request (see <see cref="SystemDarkCookie"/>); light when unknown.</summary>
    public static bool SystemDarkOf(HttpContext? http) => http?.Request.Cookies[SystemDarkCookie] == "1";

    public static string Normalize(string? choice) => Choices.Contains(choice) ? choice! : ThemeChoices.System;

    private static string? UserIdOf(ClaimsPrincipal user) =>
        user.Identity?.IsAuthenticated == true ? user.FindFirstValue(ClaimTypes.NameIdentifier) : null;
}
