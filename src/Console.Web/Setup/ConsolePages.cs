using System.ComponentModel;
using System.Reflection;
using ComplianceConsole.Data.Domain;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Components;
using Microsoft.AspNetCore.Routing.Template;

namespace ComplianceConsole.Web.Setup;

/// <summary>A routable page: its route, its name for people, and the roles it needs (none: any signed-in user).</summary>
public sealed record ConsolePage(string Route, Type Component, string Name, IReadOnlyList<string> Roles)
{
    public string NeedsText => Roles.Count == 0 ? "any signed-in user" : string.Join(" or ", Roles);
}

/// <summary>
/// Every page of the console, read from the components' own [Route], [Authorize] and [DisplayName] attributes, so the
/// access-denied page can name the page and the role it needs, and the role matrix cannot drift from the code.
/// </summary>
public static class ConsolePages
{
    public static readonly IReadOnlyList<ConsolePage> All = typeof(ConsolePages).Assembly.GetTypes()
        .Where(t => typeof(Microsoft.AspNetCore.Components.IComponent).IsAssignableFrom(t))
        .SelectMany(t => t.GetCustomAttributes<RouteAttribute>().Select(r => new ConsolePage(r.Template, t, NameOf(t, r.Template), RolesOf(t))))
        .OrderBy(p => p.Route, StringComparer.Ordinal)
        .ToList();

    /// <summary>The page a path leads to, if any.</summary>
    public static ConsolePage? Find(string? path)
    {
        var clean = "/" + (path ?? "").Split('?', '#')[0].Trim('/');
        var values = new RouteValueDictionary();
        return All.Where(p => !p.Route.Contains('{')).FirstOrDefault(p => string.Equals(p.Route, clean, StringComparison.OrdinalIgnoreCase))
            ?? All.FirstOrDefault(p => new TemplateMatcher(TemplateParser.Parse(p.Route.TrimStart('/')), []).TryMatch(clean, values) && ConstraintsHold(p.Route, values));
    }

    public static ConsolePage? For(Type component) => All.FirstOrDefault(p => p.Component == component);

    public static IReadOnlyList<string> RolesOf(Type component) =>
        component.GetCustomAttributes<AuthorizeAttribute>()
            .SelectMany(a => (a.Roles ?? "").Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
            .Distinct().ToList();

    private static string NameOf(Type component, string route) =>
        component.GetCustomAttribute<DisplayNameAttribute>()?.DisplayName ?? route;

    private static bool ConstraintsHold(string route, RouteValueDictionary values)
    {
        foreach (var (name, value) in values)
        {
            var text = value?.ToString() ?? "";
            if (route.Contains($"{{{name}:int}}") && !int.TryParse(text, out _)
                || route.Contains($"{{{name}:long}}") && !long.TryParse(text, out _)
                || route.Contains($"{{{name}:guid}}") && !Guid.TryParse(text, out _))
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>Whether a user in these roles may open the page.</summary>
    public static bool Allows(this ConsolePage page, IEnumerable<string> roles) =>
        page.Roles.Count == 0 || page.Roles.Intersect(roles, StringComparer.Ordinal).Any();

    /// <summary>The roles a user holds, as <see cref="ConsoleRoles"/> names.</summary>
    public static IReadOnlyList<string> RolesOf(System.Security.Claims.ClaimsPrincipal user) =>
        ConsoleRoles.All.Where(user.IsInRole).ToList();
}
