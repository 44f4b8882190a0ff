using System.Text.Json;
using ComplianceConsole.Core.Auditing;
using ComplianceConsole.Data.Capture;
using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore;

namespace ComplianceConsole.Data.Tests;

/// <summary>
/// Two modules, each with its own context and tables, share one database and one audit store. Each installs its own
/// capture triggers; neither install disturbs the other's, and capture is removed from a table only on purpose.
/// </summary>
public sealed class OwnershipTests : IAsyncLifetime
{
    public sealed class Invoice
    {
        public int Id { get; set; }
        public string Number { get; set; } = "";
    }

    public sealed class Parcel
    {
        public int Id { get; set; }
        public string Tracking { get; set; } = "";
    }

    public sealed class BillingContext(DbContextOptions<BillingContext> options) : DbContext(options)
    {
        public DbSet<Invoice> Invoices => Set<Invoice>();
    }

    public sealed class ShippingContext(DbContextOptions<ShippingContext> options) : DbContext(options)
    {
        public DbSet<Parcel> Parcels => Set<Parcel>();
    }

    /// <summary>Two modules whose contexts share a simple name: owners are told apart by the full type name.</summary>
    public static class BillingModule
    {
        public sealed class ModuleContext(DbContextOptions<ModuleContext> options) : DbContext(options)
        {
            public DbSet<Invoice> Invoices => Set<Invoice>();
        }
    }

    public static class ShippingModule
    {
        public sealed class ModuleContext(DbContextOptions<ModuleContext> options) : DbContext(options)
        {
            public DbSet<Parcel> Parcels => Set<Parcel>();
        }
    }

    [Fact]
    public async Task Two_modules_whose_contexts_share_a_simple_name_keep_each_others_capture()
    {
        var billingOptions = new DbContextOptionsBuilder<BillingModule.ModuleContext>().UseSqlite(ConnectionString)
            .UseAuditTrail(new AuditContextAccessor(AuditContext.ForJob("billing"))).Options;
        var shippingOptions = new DbContextOptionsBuilder<ShippingModule.ModuleContext>().UseSqlite(ConnectionString)
            .UseAuditTrail(new AuditContextAccessor(AuditContext.ForJob("shipping"))).Options;
        await using (var billing = new BillingModule.ModuleContext(billingOptions))
        {
            await billing.Database.InstallAuditCaptureAsync(new AuditOptions());
        }

        await using (var shipping = new ShippingModule.ModuleContext(shippingOptions))
        {
            var changes = await shipping.Database.InstallAuditCaptureAsync(new AuditOptions());
            Assert.Empty(changes.Dropped);
        }

        Assert.Contains(await CaptureTriggersAsync(), t => t.Name == "audit_capture_Invoices_insert" && t.Owner == typeof(BillingModule.ModuleContext).FullName);
        await using (var billing = new BillingModule.ModuleContext(billingOptions))
        {
            billing.Invoices.Add(new Invoice { Number = "INV-9" });
            await billing.SaveChangesAsync();
        }

        Assert.Single(await EntriesAsync(), e => e.TableName == "Invoices");
    }

    private static readonly AuditContext Remover = new(new AuditActor("u-ines", "ines.admin@example.test", ["Admin"]), "cli:remove-capture", "corr-remove");

    private readonly TempSqliteFile _db = new("owners");

    private string ConnectionString => _db.ConnectionString;

    private BillingContext Billing() => new(new DbContextOptionsBuilder<BillingContext>().UseSqlite(ConnectionString)
        .UseAuditTrail(new AuditContextAccessor(AuditContext.ForJob("billing"))).Options);

    private ShippingContext Shipping() => new(new DbContextOptionsBuilder<ShippingContext>().UseSqlite(ConnectionString)
        .UseAuditTrail(new AuditContextAccessor(AuditContext.ForJob("shipping"))).Options);

    public async Task InitializeAsync()
    {
        // Billing creates the database (its tables and the audit store); Shipping adds its own tables, taken from
        // the script its model generates, leaving out the audit store that is already there.
        await using (var billing = Billing())
        {
            await billing.Database.EnsureCreatedAsync();
        }

        await using var shipping = Shipping();
        var statements = shipping.Database.GenerateCreateScript()
            .Split(';', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Where(s => s.Length > 0 && !AuditStoreModel.StoreTables.Any(t => s.Contains($"\"{t}\"", StringComparison.Ordinal)))
            .ToList();
        Assert.NotEmpty(statements);
        Assert.All(statements, s => Assert.Contains("\"Parcels\"", s, StringComparison.Ordinal));
        foreach (var statement in statements)
        {
            await RawAsync(statement);
        }
    }

    public Task DisposeAsync()
    {
        _db.Dispose();
        return Task.CompletedTask;
    }

    private Task RawAsync(string sql) => _db.RawAsync(sql);

    /// <summary>Every capture trigger in the database: name, table and the owner its text names.</summary>
    private async Task<List<(string Name, string Table, string? Owner)>> CaptureTriggersAsync()
    {
        await using var connection = new SqliteConnection($"{ConnectionString};Pooling=False");
        await connection.OpenAsync();
        await using var command = connection.CreateCommand();
        command.CommandText = "SELECT name, tbl_name, sql FROM sqlite_master WHERE type = 'trigger' AND name LIKE 'audit\\_capture\\_%' ESCAPE '\\' ORDER BY name";
        await using var reader = await command.ExecuteReaderAsync();
        var triggers = new List<(string, string, string?)>();
        while (await reader.ReadAsync())
        {
            triggers.Add((reader.GetString(0), reader.GetString(1), SqliteAuditSql.OwnerOf(reader.GetString(2))));
        }

        return triggers;
    }

    private async Task<List<AuditEntry>> EntriesAsync()
    {
        await using var db = Billing();
        return await db.Set<AuditEntry>().AsNoTracking().OrderBy(e => e.Seq).ToListAsync();
    }

    private async Task<(AuditTriggerChanges Billing, AuditTriggerChanges Shipping)> InstallBothAsync()
    {
        AuditTriggerChanges first, second;
        await using (var billing = Billing())
        {
            first = await billing.Database.InstallAuditCaptureAsync(new AuditOptions());
        }

        await using (var shipping = Shipping())
        {
            second = await shipping.Database.InstallAuditCaptureAsync(new AuditOptions());
        }

        return (first, second);
    }

    private async Task AddInvoiceAsync(string number)
    {
        await using var billing = Billing();
        billing.Invoices.Add(new Invoice { Number = number });
        await billing.SaveChangesAsync();
    }

    private async Task AddParcelAsync(string tracking)
    {
        await using var shipping = Shipping();
        shipping.Parcels.Add(new Parcel { Tracking = tracking });
        await shipping.SaveChangesAsync();
    }

    private static string? Value(string? json, string column) =>
        json is not null && JsonDocument.Parse(json).RootElement.TryGetProperty(column, out var v) ? v.ToString() : null;

    [Fact]
    public async Task The_second_modules_install_leaves_the_first_modules_capture_in_place_and_each_trigger_names_its_owner()
    {
        var (billing, shipping) = await InstallBothAsync();
        Assert.True(billing.Any);
        Assert.True(shipping.Any);
        Assert.Empty(shipping.Dropped);
        Assert.Empty(shipping.Skipped);
        Assert.All(billing.Created, n => Assert.StartsWith("audit_capture_Invoices_", n, StringComparison.Ordinal));
        Assert.All(shipping.Created, n => Assert.StartsWith("audit_capture_Parcels_", n, StringComparison.Ordinal));

        var triggers = await CaptureTriggersAsync();
        Assert.Equal(["Invoices", "Parcels"], triggers.Select(t => t.Table).Distinct().Order(StringComparer.Ordinal));
        Assert.All(triggers, t => Assert.Equal(t.Table == "Invoices" ? typeof(BillingContext).FullName : typeof(ShippingContext).FullName, t.Owner));
        Assert.Contains(triggers, t => t.Name == "audit_capture_Invoices_insert");
        Assert.Contains(triggers, t => t.Name == "audit_capture_Parcels_insert");

        await AddInvoiceAsync("INV-1");
        await AddParcelAsync("PCL-1");
        var entries = await EntriesAsync();
        var invoice = Assert.Single(entries, e => e.TableName == "Invoices");
        Assert.Equal("INV-1", Value(invoice.NewValues, "Number"));
        Assert.Equal("system:billing", invoice.ActorId);
        var parcel = Assert.Single(entries, e => e.TableName == "Parcels");
        Assert.Equal("PCL-1", Value(parcel.NewValues, "Tracking"));
        Assert.Equal("system:shipping", parcel.ActorId);

        await using var check = Billing();
        var report = await check.VerifyAuditChainAsync();
        Assert.True(report.IsValid, report.Describe());
    }

    [Fact]
    public async Task Running_either_install_again_changes_nothing_and_records_nothing()
    {
        await InstallBothAsync();
        await AddInvoiceAsync("INV-1");
        var before = await EntriesAsync();
        var triggersBefore = await CaptureTriggersAsync();

        var (billing, shipping) = await InstallBothAsync();
        await using (var billingAgain = Billing())
        {
            Assert.False((await billingAgain.Database.InstallAuditCaptureAsync(new AuditOptions())).Any);
        }

        foreach (var changes in new[] { billing, shipping })
        {
            Assert.False(changes.Any, $"created: {string.Join(", ", changes.Created)}; dropped: {string.Join(", ", changes.Dropped)}");
            Assert.Empty(changes.Restored);
            Assert.Empty(changes.Skipped);
        }

        var after = await EntriesAsync();
        Assert.Equal(before.Count, after.Count);
        Assert.Equal(
            before.Count(e => e.EventName == AuditEventNames.CaptureChanged),
            after.Count(e => e.EventName == AuditEventNames.CaptureChanged));
        Assert.Equal(triggersBefore, await CaptureTriggersAsync());
    }

    [Fact]
    public async Task Removing_capture_from_one_table_is_recorded_with_its_reason_and_leaves_the_other_module_captured()
    {
        await InstallBothAsync();
        await AddInvoiceAsync("INV-1");
        await AddParcelAsync("PCL-1");

        IReadOnlyList<string> dropped;
        await using (var billing = Billing())
        {
            dropped = await billing.Database.RemoveAuditCaptureAsync("Invoices", "moved to the ERP", Remover);
        }

        Assert.NotEmpty(dropped);
        Assert.All(dropped, n => Assert.StartsWith("audit_capture_Invoices_", n, StringComparison.Ordinal));
        var triggers = await CaptureTriggersAsync();
        Assert.DoesNotContain(triggers, t => t.Table == "Invoices");
        Assert.Contains(triggers, t => t.Name == "audit_capture_Parcels_insert" && t.Owner == typeof(ShippingContext).FullName);

        var removed = Assert.Single(await EntriesAsync(), e => e.EventName == AuditEventNames.CaptureRemoved);
        Assert.Equal("u-ines", removed.ActorId);
        Assert.Equal("Invoices", removed.Target);
        Assert.Equal("moved to the ERP", Value(removed.Metadata, "reason"));
        Assert.Equal("Invoices", Value(removed.Metadata, "table"));
        Assert.All(dropped, n => Assert.Contains(n, Value(removed.Metadata, "dropped"), StringComparison.Ordinal));

        await AddInvoiceAsync("INV-2");
        await AddParcelAsync("PCL-2");
        await RawAsync("INSERT INTO Invoices (Number) VALUES ('INV-3-raw'); INSERT INTO Parcels (Tracking) VALUES ('PCL-3-raw')");
        await using (var db = Billing())
        {
            await db.Database.SealOutOfBandAsync();
        }

        var entries = await EntriesAsync();
        Assert.Equal(["INV-1"], entries.Where(e => e.TableName == "Invoices").Select(e => Value(e.NewValues, "Number")));
        Assert.Equal(["PCL-1", "PCL-2", "PCL-3-raw"], entries.Where(e => e.TableName == "Parcels").Select(e => Value(e.NewValues, "Tracking")));

        // Billing's next start-up, with the table excluded as RemoveAuditCaptureAsync asks, leaves it uncaptured and
        // sees no tampering: the removal was recorded.
        await using (var billing = Billing())
        {
            var changes = await billing.Database.InstallAuditCaptureAsync(new AuditOptions { ExcludedEntities = ["Invoices"] });
            Assert.False(changes.Any);
            Assert.Empty(changes.Restored);
        }

        Assert.DoesNotContain(await CaptureTriggersAsync(), t => t.Table == "Invoices");
        Assert.DoesNotContain(await EntriesAsync(), e => e.EventName == AuditEventNames.CaptureRestored);

        await using var check = Billing();
        var report = await check.VerifyAuditChainAsync();
        Assert.True(report.IsValid, report.Describe());
    }

    [Theory]
    [InlineData("")]
    [InlineData("   ")]
    public async Task Removing_capture_without_a_reason_is_refused_and_changes_nothing(string reason)
    {
        await InstallBothAsync();
        var triggers = await CaptureTriggersAsync();
        var entries = await EntriesAsync();

        await using (var billing = Billing())
        {
            var error = await Assert.ThrowsAsync<ArgumentException>(() => billing.Database.RemoveAuditCaptureAsync("Invoices", reason, Remover));
            Assert.Contains("reason", error.Message, StringComparison.OrdinalIgnoreCase);
        }

        Assert.Equal(triggers, await CaptureTriggersAsync());
        Assert.Equal(entries.Count, (await EntriesAsync()).Count);
        await AddInvoiceAsync("INV-1");
        Assert.Single(await EntriesAsync(), e => e.TableName == "Invoices");
    }
}
