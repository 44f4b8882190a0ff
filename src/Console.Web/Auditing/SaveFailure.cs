using ComplianceConsole.Core.Auditing;

namespace ComplianceConsole.Web.Auditing;

/// <summary>
/// What a user is told when a change was not saved. A failure of the audit trail is said as such, never as bad
/// input. The capture engine has already logged it as an error (the log and /health alert the administrator).
/// </summary>
public static class SaveFailure
{
    /// <summary>"{whatFailed} because the audit trail cannot be written; an administrator has been alerted."</summary>
    public static string AuditUnavailable(string whatFailed) =>
        $"{whatFailed} because the audit trail cannot be written; an administrator has been alerted.";

    /// <summary>
    /// The message for a failed save or delete: for an <see cref="AuditCaptureException"/> the audit trail and its
    /// reason; otherwise the database's reason followed by <paramref name="otherwise"/>.
    /// </summary>
    public static string Describe(string whatFailed, Exception ex, string otherwise = "")
    {
        if (AuditFailureIn(ex) is not { } audit)
        {
            return $"{whatFailed}: {ex.GetBaseException().Message} {otherwise}".TrimEnd();
        }

        var reason = audit.InnerException is AggregateException both
            ? string.Join("; ", both.InnerExceptions.Select(e => e.Message))
            : audit.InnerException?.Message ?? audit.Message;
        return $"{AuditUnavailable(whatFailed)} Reason: {reason.TrimEnd('.')}. What you entered is kept here: save again once it is fixed.";
    }

    private static AuditCaptureException? AuditFailureIn(Exception? ex)
    {
        for (; ex is not null; ex = ex.InnerException)
        {
            if (ex is AuditCaptureException audit)
            {
                return audit;
            }
        }

        return null;
    }
}
