namespace ComplianceConsole.Core.Auditing;

/// <summary>Names of the events the console itself records. Custom events use the same <c>resource.verb</c> form.</summary>
public static class AuditEventNames
{
    public const string LoginSucceeded = "auth.login_succeeded";
    public const string LoginFailed = "auth.login_failed";
    public const string Logout = "auth.logout";
    public const string PasswordChanged = "auth.password_changed";
    public const string RoleChanged = "auth.role_changed";
    public const string LockedOut = "auth.locked_out";

    public static bool IsValid(string name)
    {
        var dot = name.IndexOf('.');
        return dot > 0 && dot < name.Length - 1 && name.IndexOf('.', dot + 1) < 0
            && name.All(c => char.IsAsciiLetterLower(c) || char.IsAsciiDigit(c) || c is '.' or '_' or '-');
    }
}

/// <summary>A custom or built-in event to append to the audit store.</summary>
public sealed record AuditEventRequest(
    string Name,
    string? Target = null,
    IReadOnlyDictionary<string, string?>? Metadata = null,
    string? Tenant = null,
    AuditActor? Actor = null);
