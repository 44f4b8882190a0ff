using System.Data.Common;
using Microsoft.Extensions.Options;

namespace ComplianceConsole.Web.Setup;

/// <summary>Turns what stops the console from starting into one message that says what to do, without a stack trace.</summary>
public static class StartupFailure
{
    public static string? Describe(Exception exception, IConfiguration? configuration = null) => exception switch
    {
        // Settings and policy checks: their messages already say what to write instead.
        InvalidOperationException or OptionsValidationException => $"Compliance Console did not start: {exception.Message}",
        DbException => $"Compliance Console did not start: the database could not be opened or upgraded " +
                       $"(Database:Provider={configuration?["Database:Provider"] ?? "Sqlite"}: {exception.Message}). " +
                       "Check Database:ConnectionString. For SQL Server, check that the server is reachable, that the database was deployed " +
                       "(install-capture, with the deploy login) and that the console's login is in the role cc_audit_writer (docs/sqlserver.md); " +
                       "for SQLite, that the folder of the file is writable.",
        _ => null,
    };
}
