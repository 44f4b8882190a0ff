using ComplianceConsole.Core.Auditing;
using Microsoft.Data.SqlClient;

namespace ComplianceConsole.Data.Tests;

/// <summary>
/// A database of its own on the SQL Server named by <see cref="EnvironmentVariable"/> (a login that may create
/// databases), migrated and with capture installed, dropped afterwards.
/// </summary>
public sealed class SqlServerTestDatabase : TestDatabase
{
    public const string EnvironmentVariable = "CONSOLE_TEST_SQLSERVER";

    private readonly string _server;
    private readonly string _name;

    private SqlServerTestDatabase(string server, string name)
    {
        _server = server;
        _name = name;
        Settings = new DatabaseSettings(DatabaseProvider.SqlServer, new SqlConnectionStringBuilder(server) { InitialCatalog = name }.ConnectionString);
    }

    public static string? ServerConnectionString =>
        Environment.GetEnvironmentVariable(EnvironmentVariable) is { Length: > 0 } value ? value : null;

    public override DatabaseSettings Settings { get; }

    public static async Task<SqlServerTestDatabase> CreateAsync(AuditOptions? options = null)
    {
        var server = ServerConnectionString ?? throw new InvalidOperationException($"Set {EnvironmentVariable} to run the SQL Server tests.");
        var db = new SqlServerTestDatabase(server, $"cc_test_{Guid.NewGuid():N}");
        await DatabaseInitializer.InitializeAsync(db.Settings, options ?? new AuditOptions());
        return db;
    }

    /// <summary>A migrated database with no capture installed yet: what an existing database is before the console captures it.</summary>
    public static async Task<SqlServerTestDatabase> CreateUncapturedAsync()
    {
        var server = ServerConnectionString ?? throw new InvalidOperationException($"Set {EnvironmentVariable} to run the SQL Server tests.");
        var db = new SqlServerTestDatabase(server, $"cc_test_{Guid.NewGuid():N}");
        await using var context = db.Unaudited();
        await Microsoft.EntityFrameworkCore.RelationalDatabaseFacadeExtensions.MigrateAsync(context.Database);
        return db;
    }

    public override async Task ExecuteRawAsync(string sql)
    {
        await using var connection = new SqlConnection(Settings.ConnectionString);
        await connection.OpenAsync();
        await using var command = connection.CreateCommand();
        command.CommandText = sql;
        await command.ExecuteNonQueryAsync();
    }

    public override Task BypassCaptureAsync(string table, string sql) =>
        ExecuteRawAsync($"DISABLE TRIGGER [audit_capture_{table}] ON [{table}]; {sql}; ENABLE TRIGGER [audit_capture_{table}] ON [{table}];");

    public override Task BreakAuditStoreAsync(string message) =>
        ExecuteRawAsync($"CREATE TRIGGER test_break_store ON AuditEntries INSTEAD OF INSERT AS THROW 50000, '{message}', 1;");

    public override async ValueTask DisposeAsync()
    {
        SqlConnection.ClearAllPools();
        await using var connection = new SqlConnection(new SqlConnectionStringBuilder(_server) { InitialCatalog = "master" }.ConnectionString);
        await connection.OpenAsync();
        await using var command = connection.CreateCommand();
        command.CommandText = $"IF DB_ID(N'{_name}') IS NOT NULL BEGIN ALTER DATABASE [{_name}] SET SINGLE_USER WITH ROLLBACK IMMEDIATE; DROP DATABASE [{_name}]; END";
        await command.ExecuteNonQueryAsync();
    }
}
