using System.Data.Common;
using Microsoft.AspNetCore.Components;
using Microsoft.EntityFrameworkCore;

namespace ComplianceConsole.Web.Components.Shared;

/// <summary>What the list pages share: their filters live in the URL, and a failed load becomes an <see cref="ErrorState"/>.</summary>
public static class ListLoad
{
    /// <summary>
    /// Puts one filter into the URL as a new history entry (not a replacement), so Back returns to the previous
    /// search. An empty value removes the parameter.
    /// </summary>
    public static void PushFilter(NavigationManager navigation, string name, string? value)
    {
        var target = navigation.GetUriWithQueryParameter(name, string.IsNullOrWhiteSpace(value) ? null : value.Trim());
        if (target != navigation.Uri)
        {
            navigation.NavigateTo(target, replace: false);
        }
    }

    public static bool IsDatabaseFailure(Exception ex) => ex is DbException or InvalidOperationException { InnerException: DbException } or DbUpdateException or TimeoutException;

    /// <summary>What happened and what to do next, for a read that failed (a list, the audit log).</summary>
    public static string Message(Exception ex) => Describe(ex) + " Try again; if it keeps failing, an administrator can check the console's health page.";

    /// <summary>What happened, in words for the user; the next step is the page's to say.</summary>
    private static string Describe(Exception ex)
    {
        var reason = (ex as DbException ?? ex.InnerException as DbException)?.Message ?? ex.Message;
        return $"The database did not answer ({EchoText.Cap(reason.TrimEnd('.'), 200)}).";
    }
}
