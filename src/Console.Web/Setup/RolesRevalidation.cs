using System.Security.Claims;
using ComplianceConsole.Data.Domain;
using Microsoft.AspNetCore.Components.Authorization;
using Microsoft.AspNetCore.Components.Server;
using Microsoft.AspNetCore.Identity;
using Microsoft.Extensions.Options;

namespace ComplianceConsole.Web.Setup;

/// <summary>
/// An open page (a circuit) keeps the user it was opened with; without this, a user whose roles an Admin took away
/// (or whose password changed, or who was deleted) kept them in every page already open. Each circuit checks its user's
/// security stamp every <see cref="Interval"/>: when it changed, the circuit's user becomes anonymous, so the page
/// sends them to sign in again, with their current roles. Page loads check it as often (SecurityStampValidator).
/// </summary>
public sealed class RolesRevalidation(ILoggerFactory loggers, IServiceScopeFactory scopes, IOptions<IdentityOptions> identity)
    : RevalidatingServerAuthenticationStateProvider(loggers)
{
    public static readonly TimeSpan Interval = TimeSpan.FromMinutes(1);

    protected override TimeSpan RevalidationInterval => Interval;

    protected override async Task<bool> ValidateAuthenticationStateAsync(AuthenticationState authenticationState, CancellationToken cancellationToken) =>
        await IsCurrentAsync(scopes, identity.Value, authenticationState.User);

    /// <summary>Whether <paramref name="principal"/> still stands for its user as stored: the user exists and its security stamp is the principal's.</summary>
    public static async Task<bool> IsCurrentAsync(IServiceScopeFactory scopes, IdentityOptions identity, ClaimsPrincipal principal)
    {
        await using var scope = scopes.CreateAsyncScope();
        var users = scope.ServiceProvider.GetRequiredService<UserManager<ConsoleUser>>();
        var user = await users.GetUserAsync(principal);
        if (user is null)
        {
            return false;
        }

        return !users.SupportsUserSecurityStamp
            || principal.FindFirstValue(identity.ClaimsIdentity.SecurityStampClaimType) == await users.GetSecurityStampAsync(user);
    }
}
