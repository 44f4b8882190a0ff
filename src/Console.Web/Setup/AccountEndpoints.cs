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
    /// <summary>
    /// The one answer to a refused sign-in: wrong password, unknown email and locked account alike. Saying "locked" only
    /// for real accounts would tell anyone which emails have an account. The trail still records which case it was.
    /// </summary>
    public const string RefusedMessage =
        "The email or password is not right, or the account is locked after 5 failed tries. Check them and try again; "
        + "a locked account opens again after 15 minutes, or an administrator can unlock it.";

    /// <summary>Carries the email typed back to the sign-in page after a refusal, so that it is not in the URL (nor in logs and history).</summary>
    private const string TypedEmailCookie = "cc-login-email";

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
        var http = signIn.Context;
        RememberTypedEmail(http, form.Email);
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
                http.Response.Cookies.Delete(TypedEmailCookie, TypedEmailCookieOptions(http));
                return Results.LocalRedirect(returnUrl);
            }

            var name = result.IsLockedOut ? AuditEventNames.LockedOut : AuditEventNames.LoginFailed;
            // The password is never recorded; the name typed is, because repeated failures against one account matter.
            await db.Database.RecordAuditEventAsync(new AuditEventRequest(name, email,
                new Dictionary<string, string?> { ["knownUser"] = (user is not null).ToString().ToLowerInvariant() },
                Actor: new AuditActor(AuditActor.Anonymous.Id, email, [])));
            // Locked or not, known or not: the same answer (see RefusedMessage).
            return Results.LocalRedirect($"/account/login?error=invalid&returnUrl={Uri.EscapeDataString(returnUrl)}");
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
            return Results.LocalRedirect("/account/password?error=audit");
        }

        if (!result.Succeeded)
        {
            // Codes, not text, in the URL: the page words them, so a crafted link cannot put its own words on the page.
            var codes = string.Join(",", result.Errors.Select(e => e.Code));
            return Results.LocalRedirect($"/account/password?error={Uri.EscapeDataString(codes)}");
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

    /// <summary>What the password page says for the error codes in its URL; unknown codes get a general message.</summary>
    public static IReadOnlyList<string> PasswordErrorMessages(string? codes)
    {
        if (string.IsNullOrEmpty(codes))
        {
            return [];
        }

        var messages = codes.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Take(10).Select(code => code switch
        {
            "audit" => SaveFailure.AuditUnavailable("Your password was not changed") + " Try again in a few minutes.",
            nameof(IdentityErrorDescriber.PasswordMismatch) => "The current password is not right. Type it again.",
            nameof(IdentityErrorDescriber.PasswordTooShort) => "The new password is too short: use 12 characters or more.",
            nameof(IdentityErrorDescriber.PasswordRequiresNonAlphanumeric) => "The new password needs a symbol, such as ! or #.",
            nameof(IdentityErrorDescriber.PasswordRequiresDigit) => "The new password needs a digit.",
            nameof(IdentityErrorDescriber.PasswordRequiresLower) => "The new password needs a lower-case letter.",
            nameof(IdentityErrorDescriber.PasswordRequiresUpper) => "The new password needs an upper-case letter.",
            nameof(IdentityErrorDescriber.PasswordRequiresUniqueChars) => "The new password needs more different characters.",
            _ => "Your password was not changed. Check both passwords and try again.",
        });
        return messages.Distinct().ToList();
    }

    /// <summary>The email typed in the last refused sign-in of this browser, if any.</summary>
    public static string? TypedEmailOf(HttpContext http) =>
        http.Request.Cookies[TypedEmailCookie] is { Length: > 0 and <= 256 } email ? email : null;

    private static void RememberTypedEmail(HttpContext http, string? email)
    {
        if (string.IsNullOrWhiteSpace(email) || email.Length > 256)
        {
            http.Response.Cookies.Delete(TypedEmailCookie, TypedEmailCookieOptions(http));
            return;
        }

        http.Response.Cookies.Append(TypedEmailCookie, email.Trim(), TypedEmailCookieOptions(http));
    }

    private static CookieOptions TypedEmailCookieOptions(HttpContext http) => new()
    {
        HttpOnly = true,
        Secure = http.Request.IsHttps,
        SameSite = SameSiteMode.Strict,
        Path = "/account/login",
        MaxAge = TimeSpan.FromMinutes(10),
        IsEssential = true,
    };

    private static ILogger Log(ILoggerFactory loggers) => loggers.CreateLogger(typeof(AccountEndpoints));

    internal static string SafeReturnUrl(string? returnUrl) =>
        !string.IsNullOrEmpty(returnUrl) && returnUrl.StartsWith('/') && !returnUrl.StartsWith("//") && !returnUrl.StartsWith("/\\")
            ? returnUrl
            : "/";
}
