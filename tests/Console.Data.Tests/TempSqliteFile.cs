using Microsoft.Data.Sqlite;

namespace ComplianceConsole.Data.Tests;

/// <summary>A SQLite file in the temp folder for a test's own context, deleted with its -wal and -shm afterwards.</summary>
public sealed class TempSqliteFile(string prefix) : IDisposable
{
    public string Path { get; } = System.IO.Path.Combine(System.IO.Path.GetTempPath(), $"cc-{prefix}-{Guid.NewGuid():N}.db");

    public string ConnectionString => $"Data Source={Path}";

    /// <summary>Runs SQL on a plain connection, with none of the app's settings: what the sqlite3 shell or another tool is.</summary>
    public async Task RawAsync(string sql)
    {
        await using var connection = new SqliteConnection($"{ConnectionString};Pooling=False");
        await connection.OpenAsync();
        await using var command = connection.CreateCommand();
        command.CommandText = sql;
        await command.ExecuteNonQueryAsync();
    }

    public void Dispose()
    {
        SqliteConnection.ClearAllPools();
        foreach (var suffix in new[] { "", "-wal", "-shm" })
        {
            File.Delete(Path + suffix);
        }
    }
}
