using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Configuration;

namespace ComplianceConsole.Data;

public enum DatabaseProvider
{
    Sqlite,
    SqlServer,
}

/// <summary>The "Database" configuration section, checked once at start-up.</summary>
public sealed record DatabaseSettings(DatabaseProvider Provider, string ConnectionString)
{
    /// <summary>
    /// Whether start-up migrates the database and installs capture (DDL). SQLite: yes, always (one file, one principal).
    /// SQL Server: only when Database:InstallAtStartup is true; by default the runtime login runs DML only, and the deploy
    /// step (<c>install-capture</c>) runs the DDL under a deploy login.
    /// </summary>
    public bool InstallAtStartup { get; init; } = true;

    /// <summary>SQL Server: the deploy login's connection string, used by <c>install-capture</c> (else <see cref="ConnectionString"/>).</summary>
    public string? DeployConnectionString { get; init; }

    /// <summary>These settings with the deploy login's connection, when one is given: what the deploy step connects with.</summary>
    public DatabaseSettings Deploy => DeployConnectionString is { } deploy ? this with { ConnectionString = deploy, DeployConnectionString = null } : this;

    public const string DefaultSqlite = "Data Source=App_Data/console.db";

    /// <summary>Reads and checks the settings; a relative SQLite path is taken from <paramref name="contentRoot"/>.</summary>
    public static DatabaseSettings From(IConfiguration configuration, string contentRoot)
    {
        var providerText = configuration["Database:Provider"] ?? nameof(DatabaseProvider.Sqlite);
        if (!Enum.TryParse<DatabaseProvider>(providerText, ignoreCase: true, out var provider))
        {
            throw new InvalidOperationException(
                $"Database:Provider is \"{providerText}\". Set it to Sqlite (the embedded default) or SqlServer.");
        }

        var connectionString = configuration["Database:ConnectionString"];
        if (provider == DatabaseProvider.SqlServer)
        {
            if (string.IsNullOrWhiteSpace(connectionString))
            {
                throw new InvalidOperationException(
                    "Database:Provider is SqlServer but Database:ConnectionString is empty. Set it, for example \"Server=.;Database=ComplianceConsole;Trusted_Connection=True;TrustServerCertificate=True\".");
            }

            var installText = configuration["Database:InstallAtStartup"];
            var install = false;
            if (!string.IsNullOrWhiteSpace(installText) && !bool.TryParse(installText, out install))
            {
                throw new InvalidOperationException(
                    $"Database:InstallAtStartup is \"{installText}\". Set it to false (the runtime login runs DML only; deploy with install-capture) or true (start-up migrates and installs capture, which needs a login that may alter the database).");
            }

            return new DatabaseSettings(provider, connectionString)
            {
                InstallAtStartup = install,
                DeployConnectionString = configuration["Database:DeployConnectionString"] is { Length: > 0 } deploy ? deploy : null,
            };
        }

        SqliteConnectionStringBuilder builder;
        try
        {
            builder = new SqliteConnectionStringBuilder(string.IsNullOrWhiteSpace(connectionString) ? DefaultSqlite : connectionString);
        }
        catch (ArgumentException ex)
        {
            throw new InvalidOperationException(
                $"Database:ConnectionString is not a valid SQLite connection string ({ex.Message}). Use the form \"Data Source=App_Data/console.db\".", ex);
        }

        if (builder.DataSource is not (":memory:" or "") && !Path.IsPathRooted(builder.DataSource))
        {
            builder.DataSource = Path.GetFullPath(Path.Combine(contentRoot, builder.DataSource));
        }

        // Writers wait up to 30 s for the single SQLite write lock instead of failing at once.
        builder.DefaultTimeout = builder.DefaultTimeout < 30 ? 30 : builder.DefaultTimeout;
        return new DatabaseSettings(provider, builder.ToString());
    }

    public string? SqliteFilePath =>
        Provider == DatabaseProvider.Sqlite ? new SqliteConnectionStringBuilder(ConnectionString).DataSource : null;
}

/// <summary>Paths in settings: a relative one is taken from the console's content root (src/Console.Web).</summary>
public static class ContentPath
{
    public static string Resolve(string path, string contentRoot) => Path.IsPathRooted(path) ? path : Path.GetFullPath(Path.Combine(contentRoot, path));
}
