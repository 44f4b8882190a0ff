using System.Data.Common;

namespace ComplianceConsole.Web.Jobs;

/// <summary>
/// Quartz's job store tables (<c>QRTZ_*</c>) as part of the deploy step. At start-up the scheduler only checks that they
/// are there and creates what is missing, which on SQL Server needs <c>CREATE TABLE</c> the runtime login does not have.
/// So <c>install-capture</c> creates them with the deploy login, and <c>--script</c> writes the same statements: Quartz's
/// own create-if-missing schema (shipped inside Quartz, for the version the console runs), which never drops anything.
/// </summary>
public static class QuartzSchema
{
    /// <summary>The table prefix the console's scheduler uses (Quartz's default).</summary>
    public const string TablePrefix = "QRTZ_";

    private const string SqlServerResource = "Quartz.Impl.AdoJobStore.Schema.create_sqlServer.sql";

    /// <summary>Each statement of Quartz's SQL Server schema, create-if-missing, for the connection's default schema.</summary>
    public static IReadOnlyList<string> SqlServerStatements()
    {
        using var stream = typeof(Quartz.IScheduler).Assembly.GetManifestResourceStream(SqlServerResource)
            ?? throw new InvalidOperationException(
                $"This build's Quartz does not ship its SQL Server schema ({SqlServerResource}). Create the {TablePrefix}* tables with Quartz's database/tables/tables_sqlServer.sql as the deploy login, once.");
        using var reader = new StreamReader(stream);
        // Pieces are separated by a line reading "--;;"; {0} is the prefix, {1} the prefix without a schema (the same here).
        return reader.ReadToEnd().ReplaceLineEndings("\n").Split("\n--;;\n")
            .Select(piece => piece.Replace("{0}", TablePrefix, StringComparison.Ordinal).Replace("{1}", TablePrefix, StringComparison.Ordinal).Trim())
            .Where(piece => piece.Split('\n').Any(line => line.Length > 0 && !line.TrimStart().StartsWith("--", StringComparison.Ordinal)))
            .ToList();
    }

    /// <summary>The tables the statements create (their names, with the prefix), in order.</summary>
    public static IReadOnlyList<string> SqlServerTables() =>
        SqlServerStatements().Select(s => System.Text.RegularExpressions.Regex.Match(s, @"CREATE TABLE (\w+)"))
            .Where(m => m.Success).Select(m => m.Groups[1].Value).Distinct(StringComparer.OrdinalIgnoreCase).ToList();

    /// <summary>
    /// Start-up under least privilege (SQL Server, no install at start-up): reads which job store tables are missing and,
    /// if any is, stops with what to run, before the scheduler would try (and fail) to create them. Writes nothing.
    /// </summary>
    public static async Task RequireAsync(DbConnection connection, CancellationToken cancellationToken = default)
    {
        var missing = new List<string>();
        foreach (var table in SqlServerTables())
        {
            await using var command = connection.CreateCommand();
            command.CommandText = "SELECT CASE WHEN OBJECT_ID(@name, N'U') IS NULL THEN 1 ELSE 0 END";
            var name = command.CreateParameter();
            name.ParameterName = "@name";
            name.Value = table;
            command.Parameters.Add(name);
            if (Convert.ToInt32(await command.ExecuteScalarAsync(cancellationToken), System.Globalization.CultureInfo.InvariantCulture) == 1)
            {
                missing.Add(table);
            }
        }

        if (missing.Count > 0)
        {
            throw new InvalidOperationException(
                $"the scheduler's tables are not deployed ({string.Join(", ", missing)} missing), and the console's login may not create them (Database:InstallAtStartup is false): " +
                $"{Data.Capture.AuditCaptureChecker.Fix}, then start the console again.");
        }
    }

    /// <summary>Creates whatever of the job store is missing, on <paramref name="connection"/> (the deploy login's).</summary>
    public static async Task InstallAsync(DbConnection connection, CancellationToken cancellationToken = default)
    {
        foreach (var statement in SqlServerStatements())
        {
            await using var command = connection.CreateCommand();
            command.CommandText = statement;
            await command.ExecuteNonQueryAsync(cancellationToken);
        }
    }
}
