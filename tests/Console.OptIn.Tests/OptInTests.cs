using ComplianceConsole.Core.Auditing;
using ComplianceConsole.Data.Capture;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace ComplianceConsole.OptIn.Tests;

// Written from README.md "Auditing your own DbContext" only: this is the README's proof.
public sealed class OptInTests : IDisposable
{
    private static readonly AuditActor Lena = new("u-42", "lena@library.example", ["Librarian"]);
    private readonly TempLibraryDatabase _database = new();

    public void Dispose() => _database.Dispose();

    private ServiceProvider FactoryServices()
    {
        var services = new ServiceCollection();
        services.AddDbContextFactory<LibraryContext>(o => o.UseSqlite(_database.ConnectionString).UseAuditTrail());
        return services.BuildServiceProvider();
    }

    // Start-up as the README says: migrate (the generated migration), then install capture.
    private static async Task StartUpAsync(IDbContextFactory<LibraryContext> factory, AuditOptions? options = null)
    {
        await using var db = await factory.CreateDbContextAsync();
        await db.Database.MigrateAsync();
        await db.Database.InstallAuditCaptureAsync(options ?? new AuditOptions(), owner: "Library");
    }

    private static async Task LendAsync(IDbContextFactory<LibraryContext> factory, string isbn)
    {
        await using var db = await factory.CreateDbContextAsync();
        var book = new Book { Isbn = isbn, Title = "Dune" };
        book.Loans.Add(new Loan { Borrower = "Sam", BorrowerPhone = "+44 7700 900123", LentAt = DateTime.UtcNow });
        db.Books.Add(book);
        await db.SaveChangesAsync();
    }

    [Fact]
    public async Task The_store_refuses_rewrites_from_the_migration_on_before_any_install()
    {
        using var services = FactoryServices();
        var factory = services.GetRequiredService<IDbContextFactory<LibraryContext>>();
        await using var db = await factory.CreateDbContextAsync();
        await db.Database.MigrateAsync(); // the generated migrations only: no install yet
        await db.Database.ExecuteSqlRawAsync(
            "INSERT INTO AuditEntries (Seq, Version, OccurredAtUtc, Operation, Origin, OutOfBand, PayloadHash, RowHash) VALUES (1, 1, '2026-12-02 08:00:00', 'event', 'x', 0, 'p', 'r')");
        foreach (var rewrite in new[] { "UPDATE AuditEntries SET Origin = 'forged'", "DELETE FROM AuditEntries", "INSERT OR REPLACE INTO AuditEntries (Seq, Version, OccurredAtUtc, Operation, Origin, OutOfBand, PayloadHash, RowHash) VALUES (1, 1, '2026-12-02', 'event', 'y', 0, 'p', 'r')" })
        {
            var refused = await Assert.ThrowsAsync<Microsoft.Data.Sqlite.SqliteException>(() => db.Database.ExecuteSqlRawAsync(rewrite));
            Assert.Contains("append-only", refused.Message);
        }

        // The install that follows keeps them, and records them.
        await db.Database.InstallAuditCaptureAsync(new AuditOptions(), owner: "Library");
        await Assert.ThrowsAsync<Microsoft.Data.Sqlite.SqliteException>(() => db.Database.ExecuteSqlRawAsync("UPDATE AuditEntries SET Origin = 'forged'"));
    }

    [Fact]
    public async Task A_migrated_context_captures_who_changed_what_with_redaction()
    {
        await using var sp = FactoryServices();
        var factory = sp.GetRequiredService<IDbContextFactory<LibraryContext>>();
        await StartUpAsync(factory);

        using (AuditScope.Begin(new AuditContext(Lena, "job:lending", "corr-1")))
        {
            await LendAsync(factory, "978-0441013593");
        }

        await using var db = await factory.CreateDbContextAsync();
        // Its own migrations, every one applied: the first creates the store, later ones follow the store's model
        // (a release that adds read-side indexes asks for one more `dotnet ef migrations add`).
        var applied = (await db.Database.GetAppliedMigrationsAsync()).ToList();
        Assert.EndsWith("_Initial", applied[0]);
        Assert.Equal(db.Database.GetMigrations(), applied);

        var book = Assert.Single(await db.Set<AuditEntry>().Where(e => e.TableName == "Books").ToListAsync());
        Assert.Equal("u-42", book.ActorId);
        Assert.Contains("978-0441013593", book.NewValues);

        var loan = Assert.Single(await db.Set<AuditEntry>().Where(e => e.TableName == "Loans").ToListAsync());
        Assert.Equal("u-42", loan.ActorId);
        Assert.Equal("lena@library.example", loan.ActorName);
        Assert.Equal("corr-1", loan.CorrelationId);
        Assert.Contains("[redacted]", loan.NewValues);
        Assert.DoesNotContain("900123", loan.NewValues);
        Assert.Contains("Sam", loan.NewValues);

        var report = await db.VerifyAuditChainAsync();
        Assert.True(report.IsValid, report.Describe());
    }

    [Fact]
    public async Task AddDbContext_with_a_scoped_accessor_attributes_each_scope_to_its_own_actor()
    {
        var services = new ServiceCollection();
        services.AddScoped<AuditContextAccessor>();
        services.AddDbContext<LibraryContext>((sp, o) => o.UseSqlite(_database.ConnectionString)
            .UseAuditTrail(sp.GetRequiredService<AuditContextAccessor>()));
        await using var root = services.BuildServiceProvider();

        await using (var scope = root.CreateAsyncScope())
        {
            var db = scope.ServiceProvider.GetRequiredService<LibraryContext>();
            await db.Database.MigrateAsync();
            await db.Database.InstallAuditCaptureAsync(new AuditOptions(), owner: "Library");
        }

        await using (var scope = root.CreateAsyncScope())
        {
            scope.ServiceProvider.GetRequiredService<AuditContextAccessor>().Current =
                new AuditContext(Lena, "http:POST /loans", "corr-2");
            var db = scope.ServiceProvider.GetRequiredService<LibraryContext>();
            db.Books.Add(new Book { Isbn = "978-0-00-000001-1", Title = "Attributed" });
            await db.SaveChangesAsync();
        }

        await using (var scope = root.CreateAsyncScope())
        {
            var db = scope.ServiceProvider.GetRequiredService<LibraryContext>();
            db.Books.Add(new Book { Isbn = "978-0-00-000002-2", Title = "Nobody said" });
            await db.SaveChangesAsync();
        }

        await using (var scope = root.CreateAsyncScope())
        {
            var db = scope.ServiceProvider.GetRequiredService<LibraryContext>();
            var entries = await db.Set<AuditEntry>().Where(e => e.TableName == "Books").OrderBy(e => e.Seq).ToListAsync();
            Assert.Equal(2, entries.Count);
            Assert.Equal("u-42", entries[0].ActorId);
            Assert.Equal("corr-2", entries[0].CorrelationId);
            Assert.Equal("unattributed", entries[1].ActorId);
            var report = await db.VerifyAuditChainAsync();
            Assert.True(report.IsValid, report.Describe());
        }
    }

    [Fact]
    public async Task An_event_recorded_from_code_is_in_the_trail()
    {
        await using var sp = FactoryServices();
        var factory = sp.GetRequiredService<IDbContextFactory<LibraryContext>>();
        await StartUpAsync(factory);

        using (AuditScope.Begin(new AuditContext(Lena, "job:overdue-report", "corr-3")))
        {
            await using var db = await factory.CreateDbContextAsync();
            await db.Database.RecordAuditEventAsync(
                new AuditEventRequest("report.exported", "Loans", new Dictionary<string, string?> { ["rows"] = "12" }));
        }

        await using var check = await factory.CreateDbContextAsync();
        var entry = Assert.Single(await check.Set<AuditEntry>().Where(e => e.EventName == "report.exported").ToListAsync());
        Assert.Equal("Loans", entry.Target);
        Assert.Equal("u-42", entry.ActorId);
        Assert.Contains("12", entry.Metadata);
        var report = await check.VerifyAuditChainAsync();
        Assert.True(report.IsValid, report.Describe());
    }

    [Fact]
    public async Task Removing_capture_stops_that_table_only_and_keeps_the_chain_valid()
    {
        await using var sp = FactoryServices();
        var factory = sp.GetRequiredService<IDbContextFactory<LibraryContext>>();
        await StartUpAsync(factory);

        await using (var db = await factory.CreateDbContextAsync())
        {
            await db.Database.RemoveAuditCaptureAsync(
                "Books", "moved to the catalogue service", new AuditContext(Lena, "ops:remove-capture", "corr-r"));
        }

        // The next start-up installs again: with Books excluded, the removal holds.
        await StartUpAsync(factory, new AuditOptions { ExcludedEntities = ["Books"] });
        using (AuditScope.Begin(new AuditContext(Lena, "job:lending", "corr-4")))
        {
            await LendAsync(factory, "978-0-00-000003-3");
        }

        await using var check = await factory.CreateDbContextAsync();
        Assert.Empty(await check.Set<AuditEntry>().Where(e => e.TableName == "Books").ToListAsync());
        Assert.Single(await check.Set<AuditEntry>().Where(e => e.TableName == "Loans").ToListAsync());
        var removed = Assert.Single(await check.Set<AuditEntry>().Where(e => e.EventName == "audit.capture_removed").ToListAsync());
        Assert.Equal("Books", removed.Target);
        Assert.Contains("moved to the catalogue service", removed.Metadata);
        Assert.Equal("u-42", removed.ActorId);
        var report = await check.VerifyAuditChainAsync();
        Assert.True(report.IsValid, report.Describe());
    }
}
