using ComplianceConsole.Core.Auditing;
using ComplianceConsole.Data.Capture;
using ComplianceConsole.Data.Interceptors;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace ComplianceConsole.Data;

/// <summary>
/// One context per operation, each attributed to the scope this factory lives in. Registered scoped: a Blazor
/// circuit, an HTTP request and a job each get their own, and so their own actor.
/// </summary>
public sealed class ConsoleDbContextFactory(DatabaseSettings settings, IAuditContextAccessor accessor, TimeProvider time, IOptions<AuditOptions> audit, AuditSpool spool, ILogger<AuditTrailInterceptor> log)
    : IDbContextFactory<ConsoleDbContext>
{
    // The system clock is left to the sealer, which on SQL Server takes the server's clock under the chain lock.
    public ConsoleDbContext CreateDbContext() => Create(settings, b => b.UseAuditTrail(accessor, time == TimeProvider.System ? null : time, audit.Value.NeverBlock ? spool : null, log));

    /// <summary>Builds a context for the configured provider; <paramref name="configure"/> adds options such as the audit trail.</summary>
    public static ConsoleDbContext Create(DatabaseSettings settings, Action<DbContextOptionsBuilder>? configure = null)
    {
        switch (settings.Provider)
        {
            case DatabaseProvider.SqlServer:
            {
                var builder = new DbContextOptionsBuilder<SqlServerConsoleDbContext>().UseSqlServer(settings.ConnectionString);
                configure?.Invoke(builder);
                return new SqlServerConsoleDbContext(builder.Options);
            }

            default:
            {
                var builder = new DbContextOptionsBuilder<SqliteConsoleDbContext>().UseSqlite(settings.ConnectionString);
                configure?.Invoke(builder);
                return new SqliteConsoleDbContext(builder.Options);
            }
        }
    }
}
