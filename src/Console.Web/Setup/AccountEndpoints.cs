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

    private static async Task<IResult> LoginAsync([FromForm] LoginForm form, SignInManager<ConsoleUser> signIn, IDbContextFactory<ConsoleDbContext> contexts)
    {
        var returnUrl = SafeReturnUrl(form.ReturnUrl);
        if (string.IsNullOrWhiteSpace(form.Email) || string.IsNullOrEmpty(form.Password))
        {
            return Results.LocalRedirect($"/account/login?error=missing&returnUrl={Uri.EscapeDataString(returnUrl)}");
        }

        var email = form.Email.Trim();
        var user = await signIn.UserManager.FindByEmailAsync(email);
        var result = user is null
            ? Microsoft.AspNetCore.Identity.SignInResult.Failed
            : await signIn.PasswordSignInAsync(user, form.Password, isPersistent: false, lockoutOnFailure: true);

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

    private static async Task<IResult> LogoutAsync(SignInManager<ConsoleUser> signIn, IDbContextFactory<ConsoleDbContext> contexts, HttpContext http)
    {
        await using (var db = await contexts.CreateDbContextAsync())
        {
            await db.Database.RecordAuditEventAsync(new AuditEventRequest(AuditEventNames.Logout, WebAuditContextAccessor.ActorOf(http.User).Name));
        }

        await signIn.SignOutAsync();
        return Results.LocalRedirect("/account/login?signedOut=1");
    }

    private static async Task<IResult> ChangePasswordAsync([FromForm] PasswordForm form, SignInManager<ConsoleUser> signIn, IDbContextFactory<ConsoleDbContext> contexts, HttpContext http)
    {
        var user = await signIn.UserManager.GetUserAsync(http.User);
        if (user is null)
        {
            return Results.LocalRedirect("/account/login");
        }

        var result = await signIn.UserManager.ChangePasswordAsync(user, form.CurrentPassword ?? "", form.NewPassword ?? "");
        if (!result.Succeeded)
        {
            var message = string.Join(" ", result.Errors.Select(e => e.Description));
            return Results.LocalRedirect($"/account/password?error={Uri.EscapeDataString(message)}");
        }

        await using (var db = await contexts.CreateDbContextAsync())
        {
            await db.Database.RecordAuditEventAsync(new AuditEventRequest(AuditEventNames.PasswordChanged, user.Email));
        }

        await signIn.RefreshSignInAsync(user);
        return Results.LocalRedirect("/account/password?changed=1");
    }

    internal static string SafeReturnUrl(string? returnUrl) =>
        !string.IsNullOrEmpty(returnUrl) && returnUrl.StartsWith('/') && !returnUrl.StartsWith("//") && !returnUrl.StartsWith("/\\")
            ? returnUrl
            : "/";
}
