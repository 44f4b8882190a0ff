using Microsoft.Data.Sqlite;

namespace ComplianceConsole.OptIn.Tests;

/// <summary>A real SQLite file in its own temp folder, deleted afterwards.</summary>
public sealed class TempLibraryDatabase : IDisposable
{
    private readonly string _folder = Path.Combine(Path.GetTempPath(), "cc-optin-" + Guid.NewGuid().ToString("N"));

    public TempLibraryDatabase()
    {
        Directory.CreateDirectory(_folder);
        ConnectionString = $"Data Source={Path.Combine(_folder, "library.db")}";
    }

    public string ConnectionString { get; }

    public void Dispose()
    {
        SqliteConnection.ClearAllPools();
        try { Directory.Delete(_folder, recursive: true); }
        catch (IOException) { /* best effort: a temp folder */ }
    }
}
