using ComplianceConsole.Web.Auditing;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Authorization.Infrastructure;
using Microsoft.AspNetCore.Authorization.Policy;
using Microsoft.AspNetCore.Components.Endpoints;

namespace ComplianceConsole.Web.Setup;

/// <summary>
/// What a refused request gets. A page: the console's access-denied page, which names the page and the role it needs.
/// An endpoint (<c>/health</c>, anything that is not a page): 401 or 403 with a JSON reason, never a redirect to HTML
/// that a monitor would read as success. Every refusal of a signed-in user is recorded as <c>access.denied</c>.
/// </summary>
public sealed class AccessDeniedHandler : IAuthorizationMiddlewareResultHandler
{
    private readonly AuthorizationMiddlewareResultHandler _default = new();

    public async Task HandleAsync(RequestDelegate next, HttpContext context, AuthorizationPolicy policy, PolicyAuthorizationResult result)
    {
        if (result.Succeeded)
        {
            await _default.HandleAsync(next, context, policy, result);
            return;
        }

        var endpoint = context.GetEndpoint();
        var isPage = endpoint?.Metadata.GetMetadata<ComponentTypeMetadata>() is not null;
        var page = isPage ? ConsolePages.For(endpoint!.Metadata.GetMetadata<ComponentTypeMetadata>()!.Type) : null;
        var needs = page?.Roles ?? policy.Requirements.OfType<RolesAuthorizationRequirement>().SelectMany(r => r.AllowedRoles).Distinct().ToList();
        var route = context.Request.Path + context.Request.QueryString;

        if (result.Forbidden)
        {
            await context.RequestServices.GetRequiredService<ReadAudit>()
                .DeniedAsync(route, page?.Name ?? context.Request.Path.ToString(), needs, context.RequestAborted);
        }

        // A browser's form post (sign-out, password) is answered like a page; /health and any caller that does not ask
        // for HTML (a monitor, a script) get a status code and a JSON reason.
        var machine = policy.Requirements.OfType<RolesOrMonitorToken>().Any()
            || !context.Request.Headers.Accept.ToString().Contains("text/html", StringComparison.OrdinalIgnoreCase);
        if (isPage || !machine)
        {
            if (result.Forbidden)
            {
                context.Response.Redirect("/access-denied?from=" + Uri.EscapeDataString(route));
                return;
            }

            await _default.HandleAsync(next, context, policy, result); // not signed in: the cookie handler sends them to sign in
            return;
        }

        var status = result.Forbidden ? StatusCodes.Status403Forbidden : StatusCodes.Status401Unauthorized;
        var message = result.Forbidden
            ? $"Your role may not use {context.Request.Path}: it needs {string.Join(" or ", needs)}."
            : $"{context.Request.Path} needs a signed-in user with a role, or a monitor token (see README, 'Health checks').";
        await Results.Json(new { status, error = message }, statusCode: status).ExecuteAsync(context);
    }
}
