using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Query.SqlExpressions;

namespace ComplianceConsole.Data.Queries;

/// <summary>Database functions the read side needs in SQL (grouping by time), mapped per provider.</summary>
public static class AuditDbFunctions
{
    /// <summary>Seconds since 1970-01-01 UTC. Only in queries: SQLite's unixepoch(), SQL Server's DATEDIFF_BIG.</summary>
    public static long EpochSeconds(DateTime utc) => throw new InvalidOperationException("EpochSeconds runs in the database only, inside a LINQ query.");

    public static ModelBuilder AddAuditDbFunctions(this ModelBuilder builder, bool sqlServer)
    {
        builder.HasDbFunction(typeof(AuditDbFunctions).GetMethod(nameof(EpochSeconds))!)
            .HasTranslation(args => sqlServer
                ? new SqlFunctionExpression("DATEDIFF_BIG", [new SqlFragmentExpression("second"), new SqlFragmentExpression("'19700101'"), args[0]],
                    nullable: true, argumentsPropagateNullability: [false, false, true], typeof(long), null)
                : new SqlFunctionExpression("unixepoch", [args[0]], nullable: true, argumentsPropagateNullability: [true], typeof(long), null));
        return builder;
    }
}
