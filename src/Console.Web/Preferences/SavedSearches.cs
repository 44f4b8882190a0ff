using System.Security.Claims;
using ComplianceConsole.Core.Query;
using ComplianceConsole.Data;
using ComplianceConsole.Data.Domain;
using Microsoft.EntityFrameworkCore;

namespace ComplianceConsole.Web.Preferences;

/// <summary>A user's named audit-browser searches. A saved search is the browser's URL state, so its link can be shared as it is.</summary>
public sealed class SavedSearches(IDbContextFactory<ConsoleDbContext> contexts)
{
    public const int MaxPerUser = 100;
    public const int MaxNameLength = 100;

    public async Task<List<SavedSearch>> ListAsync(ClaimsPrincipal user)
    {
        var owner = Owner(user);
        await using var db = await contexts.CreateDbContextAsync();
        return await db.SavedSearches.AsNoTracking().Where(s => s.OwnerId == owner).OrderBy(s => s.Name).ToListAsync();
    }

    /// <summary>Saves (or replaces, by name) a search. Returns a message saying what to fix, or null when saved.</summary>
    public async Task<string?> SaveAsync(ClaimsPrincipal user, string? name, AuditSearch search)
    {
        var owner = Owner(user);
        var clean = (name ?? "").Trim();
        if (clean.Length == 0)
        {
            return "Give the search a name, such as \"Night-time deletes\".";
        }

        if (clean.Length > MaxNameLength)
        {
            return $"The name is {clean.Length} characters long; keep it under {MaxNameLength}.";
        }

        await using var db = await contexts.CreateDbContextAsync();
        var existing = await db.SavedSearches.SingleOrDefaultAsync(s => s.OwnerId == owner && s.Name == clean);
        if (existing is null)
        {
            if (await db.SavedSearches.CountAsync(s => s.OwnerId == owner) >= MaxPerUser)
            {
                return $"You have {MaxPerUser} saved searches, the most there can be. Delete one you no longer use first.";
            }

            db.SavedSearches.Add(new SavedSearch { OwnerId = owner, Name = clean, Query = search.FirstPage.ToQueryString(), CreatedAtUtc = DateTime.UtcNow });
        }
        else
        {
            existing.Query = search.FirstPage.ToQueryString();
        }

        await db.SaveChangesAsync();
        return null;
    }

    public async Task DeleteAsync(ClaimsPrincipal user, int id)
    {
        var owner = Owner(user);
        await using var db = await contexts.CreateDbContextAsync();
        await db.SavedSearches.Where(s => s.Id == id && s.OwnerId == owner).ExecuteDeleteAsync();
    }

    private static string Owner(ClaimsPrincipal user) =>
        user.FindFirstValue(ClaimTypes.NameIdentifier) ?? throw new InvalidOperationException("Saved searches belong to a signed-in user.");
}
