using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Query.SqlExpressions;

namespace ComplianceConsole.Data.Queries;

/// <summary>Database functions the read side needs in SQL (grouping by time), mapped per provider.</summary>
public static class AuditDbFunctions
{
    /// <summary>Seconds since 1970-01-01 UTC. Only in queries: SQLite's unixepoch(), SQL Server's DATEDIFF_BIG.</summary>
    public static long EpochSeconds(DateTime utc) => throw new InvalidOperationException("EpochSeconds runs in the database only, inside a LINQ query.");

    /// <summary>
    /// A condition that keeps few rows: on SQLite <c>likelihood(condition, 0.01)</c>, which lets the planner prefer its
    /// index (a one-hour time range) over a partial index that looks smaller without statistics of ranges; elsewhere the
    /// condition itself. Only in queries.
    /// </summary>
    public static bool Selective(bool condition) => throw new InvalidOperationException("Selective runs in the database only, inside a LINQ query.");

    public static ModelBuilder AddAuditDbFunctions(this ModelBuilder builder, bool sqlServer)
    {
        builder.HasDbFunction(typeof(AuditDbFunctions).GetMethod(nameof(Selective))!)
            .HasTranslation(args => sqlServer
                ? args[0]
                : new SqlFunctionExpression("likelihood", [args[0], new SqlFragmentExpression("0.01")], nullable: false, argumentsPropagateNullability: [false, false], typeof(bool), null));
        builder.HasDbFunction(typeof(AuditDbFunctions).GetMethod(nameof(EpochSeconds))!)
            .HasTranslation(args => sqlServer
                ? new SqlFunctionExpression("DATEDIFF_BIG", [new SqlFragmentExpression("second"), new SqlFragmentExpression("'19700101'"), args[0]],
                    nullable: true, argumentsPropagateNullability: [false, false, true], typeof(long), null)
                : new SqlFunctionExpression("unixepoch", [args[0]], nullable: true, argumentsPropagateNullability: [true], typeof(long), null));
        return builder;
    }
}
