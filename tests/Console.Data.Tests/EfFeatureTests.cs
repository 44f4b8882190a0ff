using System.Text.Json;
using ComplianceConsole.Core.Auditing;
using ComplianceConsole.Data.Capture;
using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Diagnostics;
using Xunit.Abstractions;

namespace ComplianceConsole.Data.Tests;

/// <summary>EF features an opted-in context may use: proxies (lazy loading, change tracking) and JSON columns.</summary>
public sealed class EfFeatureTests(ITestOutputHelper output) : IAsyncLifetime
{
    private readonly TempSqliteFile _db = new("effeatures");

    private string ConnectionString => _db.ConnectionString;

    public Task InitializeAsync() => Task.CompletedTask;

    public Task DisposeAsync()
    {
        _db.Dispose();
        return Task.CompletedTask;
    }

    private Task RawAsync(string sql) => _db.RawAsync(sql);

    private void Print(IEnumerable<AuditEntry> entries)
    {
        foreach (var e in entries)
        {
            output.WriteLine($"{e.Seq} {e.Operation} {e.TableName} {e.RecordKey} old={e.OldValues} new={e.NewValues} changed={e.ChangedColumns} actor={e.ActorId} outOfBand={e.OutOfBand}");
        }
    }

    // ---- Proxies ----

    public class Blog
    {
        public virtual int Id { get; set; }
        public virtual string Name { get; set; } = "";
        public virtual ICollection<Post> Posts { get; set; } = new System.Collections.ObjectModel.ObservableCollection<Post>(); // change-tracking proxies need a notifying collection
    }

    public class Post
    {
        public virtual int Id { get; set; }
        public virtual string Title { get; set; } = "";
        public virtual int BlogId { get; set; }
        public virtual Blog? Blog { get; set; }
    }

    public sealed class BlogContext(DbContextOptions<BlogContext> options) : DbContext(options)
    {
        public DbSet<Blog> Blogs => Set<Blog>();
        public DbSet<Post> Posts => Set<Post>();
    }

    public enum Proxies
    {
        LazyLoading,
        ChangeTracking,
    }

    private BlogContext Blogs(Proxies proxies)
    {
        var builder = new DbContextOptionsBuilder<BlogContext>().UseSqlite(ConnectionString);
        builder = proxies == Proxies.LazyLoading ? builder.UseLazyLoadingProxies() : builder.UseChangeTrackingProxies();
        return new BlogContext(builder.UseAuditTrail(new AuditContextAccessor(AuditContext.ForJob("blog-import"))).Options);
    }

    [Theory]
    [InlineData(Proxies.LazyLoading)]
    [InlineData(Proxies.ChangeTracking)]
    public async Task A_context_with_proxies_builds_is_captured_and_names_its_tables(Proxies proxies)
    {
        await using (var db = Blogs(proxies))
        {
            await db.Database.EnsureCreatedAsync();
            await db.Database.InstallAuditCaptureAsync(new AuditOptions());
            var blog = db.Blogs.CreateProxy(b => b.Name = "engineering");
            blog.Posts.Add(db.Posts.CreateProxy(p => p.Title = "hello"));
            db.Blogs.Add(blog);
            await db.SaveChangesAsync();
        }

        await using (var db = Blogs(proxies))
        {
            var post = await db.Posts.SingleAsync();
            Assert.NotEqual(typeof(Post), post.GetType()); // a proxy
            if (proxies == Proxies.LazyLoading)
            {
                Assert.Equal("engineering", post.Blog!.Name); // loaded lazily
            }
            else
            {
                Assert.Equal("engineering", (await db.Blogs.SingleAsync()).Name);
            }

            post.Title = "hello, world";
            await db.SaveChangesAsync();
        }

        await using (var db = Blogs(proxies))
        {
            var entries = await db.Set<AuditEntry>().AsNoTracking().Where(e => e.Operation != AuditOperations.Event).OrderBy(e => e.Seq).ToListAsync();
            Print(entries);
            Assert.Equal(["insert Blogs", "insert Posts", "update Posts"], entries.Select(e => $"{e.Operation} {e.TableName}"));
            Assert.Equal("{\"Title\":\"hello, world\"}", entries[2].NewValues);
            Assert.All(entries, e => Assert.Equal("system:blog-import", e.ActorId));
            Assert.DoesNotContain(entries, e => e.TableName!.Contains("Proxy", StringComparison.Ordinal) || e.TableName!.Contains("Castle", StringComparison.Ordinal));

            var policy = AuditPolicyResolver.Resolve(db.Model, new AuditOptions());
            Assert.Equal(["Blogs", "Posts"], policy.Tables.Select(t => t.Table).Order(StringComparer.Ordinal));
            Assert.Equal(["Blog", "Post"], policy.Tables.Select(t => t.EntityName!).Order(StringComparer.Ordinal));

            var report = await db.VerifyAuditChainAsync();
            Assert.True(report.IsValid, report.Describe());
        }
    }

    // ---- JSON columns ----

    public sealed class Customer
    {
        public int Id { get; set; }
        public string Name { get; set; } = "";
        public Preferences Preferences { get; set; } = new();
    }

    public sealed class Preferences
    {
        public string Theme { get; set; } = "";
        public List<string> Tags { get; set; } = [];
    }

    public sealed class CustomerContext(DbContextOptions<CustomerContext> options) : DbContext(options)
    {
        public DbSet<Customer> Customers => Set<Customer>();

        protected override void OnModelCreating(ModelBuilder b) =>
            b.Entity<Customer>().OwnsOne(c => c.Preferences, p => p.ToJson());
    }

    private CustomerContext Customers(List<string>? commands = null) => new(new DbContextOptionsBuilder<CustomerContext>().UseSqlite(ConnectionString)
        .LogTo(s => commands?.Add(s), [RelationalEventId.CommandExecuted])
        .UseAuditTrail(new AuditContextAccessor(AuditContext.ForJob("crm"))).Options);

    [Theory]
    [InlineData(AuditValueMode.ChangedOnly)]
    [InlineData(AuditValueMode.FullRecord)]
    public async Task A_json_column_is_recorded_as_a_json_object_on_both_sides_whatever_wrote_it(AuditValueMode mode)
    {
        var commands = new List<string>();
        await using (var db = Customers(commands))
        {
            await db.Database.EnsureCreatedAsync();
            await db.Database.InstallAuditCaptureAsync(new AuditOptions { Mode = mode });

            var customer = new Customer { Name = "Ada", Preferences = new Preferences { Theme = "light", Tags = ["vip"] } };
            db.Customers.Add(customer);
            await db.SaveChangesAsync();

            // A partial update: EF writes it with json_set.
            customer.Preferences.Theme = "dark";
            commands.Clear();
            await db.SaveChangesAsync();
            Assert.Contains(commands, c => c.Contains("json_set(\"Preferences\"", StringComparison.Ordinal));

            // A partial update of the list inside the document.
            customer.Preferences.Tags = ["vip", "eu"];
            commands.Clear();
            await db.SaveChangesAsync();
            Assert.Contains(commands, c => c.Contains("json_set(\"Preferences\"", StringComparison.Ordinal));

            // A whole-document replace.
            customer.Preferences = new Preferences { Theme = "solarized", Tags = ["eu"] };
            await db.SaveChangesAsync();
        }

        // Outside the app: a partial update with json_set, then a whole document written as plain text.
        await RawAsync("UPDATE Customers SET Preferences = json_set(Preferences, '$.Theme', 'x')");
        await RawAsync("UPDATE Customers SET Preferences = '{\"Theme\":\"y\",\"Tags\":[]}'");
        await using (var db = Customers())
        {
            await db.Database.SealOutOfBandAsync();
        }

        await using var check = Customers();
        var entries = await check.Set<AuditEntry>().AsNoTracking().Where(e => e.TableName == "Customers").OrderBy(e => e.Seq).ToListAsync();
        Print(entries);
        Assert.Equal([AuditOperations.Insert, .. Enumerable.Repeat(AuditOperations.Update, 5)], entries.Select(e => e.Operation));

        foreach (var e in entries)
        {
            foreach (var (side, json) in new[] { ("OldValues", e.OldValues), ("NewValues", e.NewValues) })
            {
                if (json is null)
                {
                    continue;
                }

                Assert.True(JsonDocument.Parse(json).RootElement.TryGetProperty("Preferences", out var value), $"entry {e.Seq}: {side} has no Preferences: {json}");
                Assert.True(value.ValueKind == JsonValueKind.Object, $"entry {e.Seq}: {side}.Preferences is a JSON {value.ValueKind}, not an object: {json}");
            }
        }

        string Theme(string? json) => JsonDocument.Parse(json!).RootElement.GetProperty("Preferences").GetProperty("Theme").GetString()!;
        Assert.Equal("light", Theme(entries[0].NewValues));
        Assert.Equal(("light", "dark"), (Theme(entries[1].OldValues), Theme(entries[1].NewValues)));
        string[] Tags(string? json) => JsonDocument.Parse(json!).RootElement.GetProperty("Preferences").GetProperty("Tags").EnumerateArray().Select(t => t.GetString()!).ToArray();
        Assert.Equal(["vip"], Tags(entries[2].OldValues));
        Assert.Equal(["vip", "eu"], Tags(entries[2].NewValues));
        Assert.Equal(("dark", "solarized"), (Theme(entries[3].OldValues), Theme(entries[3].NewValues)));
        Assert.Equal(("solarized", "x"), (Theme(entries[4].OldValues), Theme(entries[4].NewValues)));
        Assert.Equal(("x", "y"), (Theme(entries[5].OldValues), Theme(entries[5].NewValues)));
        Assert.All(entries.Take(4), e => Assert.Equal("system:crm", e.ActorId));
        Assert.All(entries.Skip(4), e => Assert.True(e.OutOfBand));

        var report = await check.VerifyAuditChainAsync();
        Assert.True(report.IsValid, report.Describe());
    }
}
