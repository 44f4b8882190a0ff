using System.Data.Common;
using ComplianceConsole.Core.Auditing;
using ComplianceConsole.Data;
using ComplianceConsole.Data.Capture;
using ComplianceConsole.Data.Domain;
using ComplianceConsole.Web.Auditing;
using Microsoft.AspNetCore.Identity;
using Microsoft.AspNetCore.Mvc;
using Microsoft.EntityFrameworkCore;

namespace ComplianceConsole.Web.Setup;

public sealed record LoginForm(string? Email, string? Password, string? ReturnUrl);

public sealed record PasswordForm(string? CurrentPassword, string? NewPassword);

/// <summary>Sign-in, sign-out and password change: form posts, so the cookie is set on a real HTTP response. Each records its auth event.</summary>
public static class AccountEndpoints
{
    public static void MapAccountEndpoints(this IEndpointRouteBuilder app)
    {
        app.MapPost("/account/login", LoginAsync).AllowAnonymous();
        app.MapPost("/account/logout", LogoutAsync);
        app.MapPost("/account/password", ChangePasswordAsync);
    }

    /// <summary>
    /// Policy: no sign-in without its audit event. If the event (or the failed-attempt count) cannot be written,
    /// a cookie already issued is taken back, the error is logged, and the login page says sign-in is unavailable.
    /// </summary>
    internal static async Task<IResult> LoginAsync([FromForm] LoginForm form, SignInManager<ConsoleUser> signIn, IDbContextFactory<ConsoleDbContext> contexts, ILoggerFactory loggers)
    {
        var returnUrl = SafeReturnUrl(form.ReturnUrl);
        if (string.IsNullOrWhiteSpace(form.Email) || string.IsNullOrEmpty(form.Password))
        {
            return Results.LocalRedirect($"/account/login?error=missing&returnUrl={Uri.EscapeDataString(returnUrl)}");
        }

        var email = form.Email.Trim();
        var signedIn = false;
        try
        {
            var user = await signIn.UserManager.FindByEmailAsync(email);
            var result = user is null
                ? Microsoft.AspNetCore.Identity.SignInResult.Failed
                : await signIn.PasswordSignInAsync(user, form.Password, isPersistent: false, lockoutOnFailure: true);
            signedIn = result.Succeeded;

            await using var db = await contexts.CreateDbContextAsync();
            if (result.Succeeded)
            {
                var roles = (await signIn.UserManager.GetRolesAsync(user!)).Order(StringComparer.Ordinal).ToList();
                await db.Database.RecordAuditEventAsync(new AuditEventRequest(AuditEventNames.LoginSucceeded, user!.Email,
                    Actor: new AuditActor(user.Id, user.Email ?? email, roles)));
                return Results.LocalRedirect(returnUrl);
            }

            var name = result.IsLockedOut ? AuditEventNames.LockedOut : AuditEventNames.LoginFailed;
            // The password is never recorded; the name typed is, because repeated failures against one account matter.
            await db.Database.RecordAuditEventAsync(new AuditEventRequest(name, email,
                new Dictionary<string, string?> { ["knownUser"] = (user is not null).ToString().ToLowerInvariant() },
                Actor: new AuditActor(AuditActor.Anonymous.Id, email, [])));
            var error = result.IsLockedOut ? "locked" : "invalid";
            return Results.LocalRedirect($"/account/login?error={error}&returnUrl={Uri.EscapeDataString(returnUrl)}");
        }
        catch (Exception ex) when (ex is AuditCaptureException or DbException or DbUpdateException)
        {
            Log(loggers).LogError(ex, "Sign-in refused: the audit trail cannot be written, so the sign-in cannot be recorded. Check /health.");
            if (signedIn)
            {
                await signIn.SignOutAsync();
            }

            return Results.LocalRedirect($"/account/login?error=audit&returnUrl={Uri.EscapeDataString(returnUrl)}");
        }
    }

    /// <summary>Signing out always works, even when the event cannot be recorded; that failure is logged and shown.</summary>
    private static async Task<IResult> LogoutAsync(SignInManager<ConsoleUser> signIn, IDbContextFactory<ConsoleDbContext> contexts, HttpContext http, ILoggerFactory loggers)
    {
        var recorded = true;
        try
        {
            await using var db = await contexts.CreateDbContextAsync();
            await db.Database.RecordAuditEventAsync(new AuditEventRequest(AuditEventNames.Logout, WebAuditContextAccessor.ActorOf(http.User).Name));
        }
        catch (Exception ex) when (ex is AuditCaptureException or DbException)
        {
            recorded = false;
            Log(loggers).LogError(ex, "Sign-out of {User} could not be recorded: the audit trail cannot be written. Check /health.", WebAuditContextAccessor.ActorOf(http.User).Name);
        }

        await signIn.SignOutAsync();
        return Results.LocalRedirect(recorded ? "/account/login?signedOut=1" : "/account/login?signedOut=1&error=audit");
    }

    private static async Task<IResult> ChangePasswordAsync([FromForm] PasswordForm form, SignInManager<ConsoleUser> signIn, IDbContextFactory<ConsoleDbContext> contexts, HttpContext http, ILoggerFactory loggers)
    {
        var user = await signIn.UserManager.GetUserAsync(http.User);
        if (user is null)
        {
            return Results.LocalRedirect("/account/login");
        }

        IdentityResult result;
        try
        {
            result = await signIn.UserManager.ChangePasswordAsync(user, form.CurrentPassword ?? "", form.NewPassword ?? "");
        }
        catch (Exception ex) when (ex is AuditCaptureException or DbException or DbUpdateException)
        {
            Log(loggers).LogError(ex, "Password change refused: the audit trail cannot be written. Check /health.");
            return Results.LocalRedirect($"/account/password?error={Uri.EscapeDataString(SaveFailure.AuditUnavailable("Your password was not changed"))}");
        }

        if (!result.Succeeded)
        {
            var message = string.Join(" ", result.Errors.Select(e => e.Description));
            return Results.LocalRedirect($"/account/password?error={Uri.EscapeDataString(message)}");
        }

        try
        {
            await using var db = await contexts.CreateDbContextAsync();
            await db.Database.RecordAuditEventAsync(new AuditEventRequest(AuditEventNames.PasswordChanged, user.Email));
        }
        catch (Exception ex) when (ex is AuditCaptureException or DbException)
        {
            // The new password is in the trail as an update of the user; only the event is missing.
            Log(loggers).LogError(ex, "The password change of {User} was saved, but its event could not be recorded. Check /health.", user.Email);
        }

        await signIn.RefreshSignInAsync(user);
        return Results.LocalRedirect("/account/password?changed=1");
    }

    private static ILogger Log(ILoggerFactory loggers) => loggers.CreateLogger(typeof(AccountEndpoints));

    internal static string SafeReturnUrl(string? returnUrl) =>
        !string.IsNullOrEmpty(returnUrl) && returnUrl.StartsWith('/') && !returnUrl.StartsWith("//") && !returnUrl.StartsWith("/\\")
            ? returnUrl
            : "/";
}
