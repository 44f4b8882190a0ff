using ComplianceConsole.Core.Auditing;
using ComplianceConsole.Core.History;
using ComplianceConsole.Data.Capture;
using ComplianceConsole.Data.History;
using Microsoft.EntityFrameworkCore;

namespace ComplianceConsole.Data.Tests.History;

/// <summary>
/// The shapes the console's own domain does not use, on a context of its own: an owned type split into its owner's
/// table, an owned collection in a table of its own, and an owned type stored as a JSON column. The state the trail
/// rebuilds equals every live row after every kind of write, and reconciliation finds nothing, then finds a bypass.
/// </summary>
public sealed class OwnedAndJsonHistoryTests : IDisposable
{
    private readonly TempSqliteFile _db = new("owned-history");

    public void Dispose() => _db.Dispose();

    public sealed class Supplier
    {
        public int Id { get; set; }
        public string Name { get; set; } = "";
        public Contact Contact { get; set; } = new();
        public Terms Terms { get; set; } = new();
        public List<Site> Sites { get; set; } = [];
    }

    public sealed class Contact
    {
        public string Email { get; set; } = "";
        public string? Phone { get; set; }
    }

    public sealed class Terms
    {
        public int Days { get; set; }
        public List<string> Currencies { get; set; } = [];
    }

    public sealed class Site
    {
        public string City { get; set; } = "";
        public bool Warehouse { get; set; }
    }

    public sealed class SupplierContext(DbContextOptions<SupplierContext> options) : DbContext(options)
    {
        public DbSet<Supplier> Suppliers => Set<Supplier>();

        protected override void OnModelCreating(ModelBuilder b)
        {
            b.Entity<Supplier>().OwnsOne(s => s.Contact);                      // table splitting: Contact_Email, Contact_Phone
            b.Entity<Supplier>().OwnsOne(s => s.Terms, t => t.ToJson());        // one JSON column
            b.Entity<Supplier>().OwnsMany(s => s.Sites, s =>
            {
                s.ToTable("SupplierSites"); // a table of its own, keyed by its owner and the city
                s.WithOwner().HasForeignKey("SupplierId");
                s.HasKey("SupplierId", nameof(Site.City));
            });
        }
    }

    private SupplierContext Context(string actor = "buyer") => new(new DbContextOptionsBuilder<SupplierContext>().UseSqlite(_db.ConnectionString)
        .UseAuditTrail(new AuditContextAccessor(AuditContext.ForJob(actor))).Options);

    [Fact]
    public async Task Owned_split_owned_collections_and_json_columns_rebuild_to_the_live_rows_and_reconcile()
    {
        await using (var db = Context())
        {
            await db.Database.EnsureCreatedAsync();
            await db.Database.InstallAuditCaptureAsync(new AuditOptions());
            db.Suppliers.Add(new Supplier
            {
                Name = "Acme", Contact = new Contact { Email = "sales@acme.test" }, Terms = new Terms { Days = 30, Currencies = ["EUR"] },
                Sites = [new Site { City = "Lyon", Warehouse = true }, new Site { City = "Graz" }],
            });
            db.Suppliers.Add(new Supplier { Name = "Globex", Contact = new Contact { Email = "hi@globex.test", Phone = "+1 555" }, Terms = new Terms { Days = 60 } });
            await db.SaveChangesAsync();
        }

        await using (var db = Context("editor"))
        {
            var acme = await db.Suppliers.Include(s => s.Sites).SingleAsync(s => s.Name == "Acme");
            acme.Contact.Phone = "+33 1";
            acme.Terms.Days = 45;                         // a partial JSON update (json_set)
            acme.Terms.Currencies.Add("CHF");
            acme.Sites.RemoveAt(1);
            acme.Sites.Add(new Site { City = "Porto" });
            acme.Sites[0].Warehouse = false;
            await db.SaveChangesAsync();
            await db.Suppliers.Where(s => s.Name == "Globex").ExecuteUpdateAsync(s => s.SetProperty(x => x.Name, "Globex Corp"));
        }

        // Outside the app: a whole JSON document written as text, and an owned column; sealed as out-of-band.
        await _db.RawAsync("UPDATE Suppliers SET Terms = '{\"Currencies\":[\"USD\"],\"Days\":90}', Contact_Phone = NULL WHERE Name = 'Globex Corp'");
        await _db.RawAsync("DELETE FROM SupplierSites WHERE City = 'Porto'");
        await using (var db = Context())
        {
            await db.Database.SealOutOfBandAsync();
        }

        await using (var db = Context())
        {
            var policy = AuditPolicyResolver.Resolve(db.Model, new AuditOptions());
            Assert.Equal(["SupplierSites", "Suppliers"], policy.Tables.Select(t => t.Table).Order(StringComparer.Ordinal));
            var compared = 0;
            foreach (var table in policy.Tables.Select(t => t.Table))
            {
                foreach (var (key, live) in await RecordHistoryTests.LiveAsync(db, table))
                {
                    var entries = await db.Set<AuditEntry>().AsNoTracking().Where(e => e.TableName == table && e.RecordKey == key).ToListAsync();
                    RecordHistoryTests.AssertSame(RecordHistory.Replay(entries), live, $"{table} {key}");
                    compared++;
                }
            }

            Assert.Equal(3, compared); // two suppliers and Lyon, the one site left
            var report = await Reconciler.RunAsync(db, new AuditOptions());
            Assert.True(report.Clean, string.Join("\n", report.Mismatches.Select(m => m.Describe())));
        }

        // A JSON column changed with its capture trigger out of the way is named.
        await _db.RawAsync("""
            DROP TRIGGER audit_capture_Suppliers_update;
            UPDATE Suppliers SET Terms = json_set(Terms, '$.Days', 7) WHERE Name = 'Acme';
            """);
        await using (var db = Context())
        {
            var report = await Reconciler.RunAsync(db, new AuditOptions());
            var mismatch = Assert.Single(report.Mismatches);
            Assert.Equal(("Suppliers", MismatchKind.Differs, "Terms"), (mismatch.Table, mismatch.Kind, Assert.Single(mismatch.Columns)));
        }
    }
}
