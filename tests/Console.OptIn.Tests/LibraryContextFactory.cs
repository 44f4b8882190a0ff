using ComplianceConsole.Data.Capture;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Design;

namespace ComplianceConsole.OptIn.Tests;

// What `dotnet ef` uses at design time: a context with the audit trail, so the migration has the audit tables.
public sealed class LibraryContextFactory : IDesignTimeDbContextFactory<LibraryContext>
{
    public LibraryContext CreateDbContext(string[] args) =>
        new(new DbContextOptionsBuilder<LibraryContext>()
            .UseSqlite("Data Source=library.db")
            .UseAuditTrail()
            .Options);
}
