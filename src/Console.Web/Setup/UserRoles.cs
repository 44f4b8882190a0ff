using ComplianceConsole.Data.Domain;
using Microsoft.AspNetCore.Identity;

namespace ComplianceConsole.Web.Setup;

/// <summary>A change of a user's roles, as the users page makes it: never the last Admin's own role, and always a new security stamp.</summary>
public static class UserRoles
{
    /// <summary>Gives <paramref name="user"/> exactly <paramref name="wanted"/>; returns what changed, or why nothing did.</summary>
    public static async Task<(IReadOnlyList<string> Added, IReadOnlyList<string> Removed, string? Refusal)> ChangeAsync(UserManager<ConsoleUser> users, ConsoleUser user, IReadOnlySet<string> wanted)
    {
        var current = (await users.GetRolesAsync(user)).ToHashSet();
        var added = wanted.Except(current).Order(StringComparer.Ordinal).ToList();
        var removed = current.Except(wanted).Order(StringComparer.Ordinal).ToList();
        if (added.Count == 0 && removed.Count == 0)
        {
            return ([], [], "No change.");
        }

        if (removed.Contains(ConsoleRoles.Admin) && (await users.GetUsersInRoleAsync(ConsoleRoles.Admin)).Count <= 1)
        {
            return ([], [], $"{user.Email} is the only Admin: make someone else an Admin first, so the console always has one.");
        }

        await users.AddToRolesAsync(user, added);
        await users.RemoveFromRolesAsync(user, removed);
        await users.UpdateSecurityStampAsync(user); // open pages with the old roles ask to sign in again (RolesRevalidation)
        return (added, removed, null);
    }
}
