using System.Text.Json;
using ComplianceConsole.Core.Auditing;
using ComplianceConsole.Data.Capture;
using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;

namespace ComplianceConsole.Data.Tests;

/// <summary>
/// Writes are attributed to the actor of the scope, circuit or job that makes them, whichever registration the app
/// uses: AddDbContext with a scoped accessor, AddDbContextFactory, AddDbContextPool, AddPooledDbContextFactory, or a
/// context built by hand. Six users write at once; every entry must name the user who wrote its row.
/// </summary>
public sealed class RegistrationTests : IAsyncLifetime
{
    public sealed class Note
    {
        public int Id { get; set; }

        /// <summary>"user#n": who wrote the row, so every entry can be checked against its actor.</summary>
        public string Text { get; set; } = "";
    }

    /// <summary>One constructor taking its own options only, so that it can be pooled.</summary>
    public sealed class JournalContext(DbContextOptions<JournalContext> options) : DbContext(options)
    {
        public DbSet<Note> Notes => Set<Note>();
    }

    public enum Form
    {
        AddDbContext,
        AddDbContextFactory,
        AddDbContextPool,
        AddPooledDbContextFactory,
        HandBuilt,
    }

    private const int Users = 6;
    private const int Inserts = 8; // plus one raw-SQL insert and one ExecuteUpdate: ten writes per scope

    private readonly string _file = Path.Combine(Path.GetTempPath(), $"cc-registration-{Guid.NewGuid():N}.db");

    private string ConnectionString => $"Data Source={_file};Default Timeout=60";

    public async Task InitializeAsync()
    {
        await using (var connection = new SqliteConnection(ConnectionString))
        {
            await connection.OpenAsync();
            await using var wal = connection.CreateCommand();
            wal.CommandText = "PRAGMA journal_mode=WAL;";
            await wal.ExecuteNonQueryAsync();
        }

        await using var db = Reader();
        await db.Database.EnsureCreatedAsync();
        await db.Database.InstallAuditCaptureAsync(new AuditOptions());
    }

    public Task DisposeAsync()
    {
        SqliteConnection.ClearAllPools();
        foreach (var suffix in new[] { "", "-wal", "-shm" })
        {
            File.Delete(_file + suffix);
        }

        return Task.CompletedTask;
    }

    /// <summary>A plain opted-in context, for setting up and reading back.</summary>
    private JournalContext Reader() => new(new DbContextOptionsBuilder<JournalContext>().UseSqlite(ConnectionString).UseAuditTrail().Options);

    private static AuditContext UserContext(int i) =>
        new(new AuditActor($"u-{i}", $"user{i}@example.test", [i % 2 == 0 ? "Operator" : "Admin"]), $"circuit:{i}", $"corr-{i}");

    // ---- The application's registration, as the README documents it ----

    /// <summary>What the app registered, and how one scope (request, circuit, job) gets its context.</summary>
    private sealed class App : IAsyncDisposable
    {
        private readonly Form _form;
        private readonly ServiceProvider? _root;
        private readonly DbContextOptions<JournalContext>? _options;

        public App(Form form, string connectionString)
        {
            _form = form;
            if (form == Form.HandBuilt)
            {
                _options = new DbContextOptionsBuilder<JournalContext>().UseSqlite(connectionString).UseAuditTrail().Options;
                return;
            }

            var services = new ServiceCollection();
            services.AddScoped<AuditContextAccessor>();
            services.AddScoped<IAuditContextAccessor>(sp => sp.GetRequiredService<AuditContextAccessor>());
            switch (form)
            {
                case Form.AddDbContext:
                    services.AddDbContext<JournalContext>((sp, o) => o.UseSqlite(connectionString).UseAuditTrail(sp.GetRequiredService<IAuditContextAccessor>()));
                    break;
                case Form.AddDbContextFactory:
                    services.AddDbContextFactory<JournalContext>(o => o.UseSqlite(connectionString).UseAuditTrail());
                    break;
                case Form.AddDbContextPool:
                    // A small pool, so that one context instance serves several users in turn.
                    services.AddDbContextPool<JournalContext>(o => o.UseSqlite(connectionString).UseAuditTrail(), poolSize: 2);
                    break;
                case Form.AddPooledDbContextFactory:
                    services.AddPooledDbContextFactory<JournalContext>(o => o.UseSqlite(connectionString).UseAuditTrail(), poolSize: 2);
                    break;
            }

            _root = services.BuildServiceProvider(new ServiceProviderOptions { ValidateScopes = true, ValidateOnBuild = true });
        }

        /// <summary>Runs <paramref name="work"/> in a scope of its own, as a request, a circuit action or a job would.</summary>
        public async Task InScopeAsync(Func<Func<Task<Lease>>, AuditContextAccessor?, Task> work)
        {
            if (_root is null)
            {
                await work(() => Task.FromResult(new Lease(new JournalContext(_options!), owned: true)), null);
                return;
            }

            await using var scope = _root.CreateAsyncScope();
            var sp = scope.ServiceProvider;
            var accessor = _form == Form.AddDbContext ? sp.GetRequiredService<AuditContextAccessor>() : null;
            Func<Task<Lease>> open = _form switch
            {
                Form.AddDbContext or Form.AddDbContextPool => () => Task.FromResult(new Lease(sp.GetRequiredService<JournalContext>(), owned: false)),
                _ => async () => new Lease(await sp.GetRequiredService<IDbContextFactory<JournalContext>>().CreateDbContextAsync(), owned: true),
            };
            await work(open, accessor);
        }

        public ValueTask DisposeAsync() => _root?.DisposeAsync() ?? ValueTask.CompletedTask;
    }

    /// <summary>A context for one write: disposed after it when the scope does not own it.</summary>
    private sealed class Lease(JournalContext db, bool owned) : IAsyncDisposable
    {
        public JournalContext Db { get; } = db;

        public ValueTask DisposeAsync() => owned ? Db.DisposeAsync() : ValueTask.CompletedTask;
    }

    /// <summary>Ten writes of one user: inserts through SaveChanges (async and sync), a raw-SQL insert, and an ExecuteUpdate of all its rows.</summary>
    private static async Task WriteAsync(Func<Task<Lease>> open, string user)
    {
        for (var n = 0; n < Inserts; n++)
        {
            await using (var lease = await open())
            {
                lease.Db.Notes.Add(new Note { Text = $"{user}#{n}" });
                if (n % 2 == 0)
                {
                    await lease.Db.SaveChangesAsync();
                }
                else
                {
                    lease.Db.SaveChanges(); // the synchronous path seals the same way
                }
            }

            await Task.Yield();
        }

        await using (var lease = await open())
        {
            var text = $"{user}#raw";
            await lease.Db.Database.ExecuteSqlAsync($"INSERT INTO Notes (Text) VALUES ({text})");
        }

        await using (var lease = await open())
        {
            var prefix = user + "#";
            await lease.Db.Notes.Where(x => x.Text.StartsWith(prefix)).ExecuteUpdateAsync(s => s.SetProperty(x => x.Text, x => x.Text + "!"));
        }
    }

    /// <summary>Starts all users' scopes at once, so that their writes interleave.</summary>
    private static async Task AllAtOnceAsync(Func<int, Task> scope)
    {
        var start = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        var tasks = Enumerable.Range(1, Users).Select(i => Task.Run(async () =>
        {
            await start.Task;
            await scope(i);
        })).ToList();
        start.SetResult();
        await Task.WhenAll(tasks);
    }

    private static string? WriterOf(AuditEntry e)
    {
        var json = e.NewValues ?? e.OldValues;
        if (json is null || !JsonDocument.Parse(json).RootElement.TryGetProperty("Text", out var text))
        {
            return null;
        }

        var value = text.GetString() ?? "";
        return value[..Math.Max(0, value.IndexOf('#', StringComparison.Ordinal))];
    }

    private async Task AssertEachEntryNamesItsWriterAsync()
    {
        await using var db = Reader();
        var entries = await db.Set<AuditEntry>().AsNoTracking().Where(e => e.TableName == "Notes").OrderBy(e => e.Seq).ToListAsync();
        var shown = string.Join(Environment.NewLine, entries.Select(e => $"{e.Seq} {e.Operation} {e.RecordKey} actor={e.ActorId} origin={e.Origin} new={e.NewValues}"));

        // Per user: 8 + 1 inserts, then one update entry for each of its 9 rows.
        Assert.True(entries.Count == Users * (2 * (Inserts + 1)), $"expected {Users * (2 * (Inserts + 1))} entries, got {entries.Count}:{Environment.NewLine}{shown}");
        Assert.DoesNotContain(entries, e => e.ActorId == AuditActor.Anonymous.Id || e.ActorId == AuditActor.Unattributed.Id || e.OutOfBand);
        foreach (var e in entries)
        {
            var writer = WriterOf(e);
            Assert.True(writer is not null && e.ActorId == writer, $"entry {e.Seq} of row written by {writer} is attributed to {e.ActorId}:{Environment.NewLine}{shown}");
            var i = int.Parse(writer!["u-".Length..], System.Globalization.CultureInfo.InvariantCulture);
            var expected = UserContext(i);
            Assert.Equal(expected.Actor.Name, e.ActorName);
            Assert.Equal(expected.Actor.RolesText, e.ActorRoles);
            Assert.Equal(expected.Origin, e.Origin);
            Assert.Equal(expected.CorrelationId, e.CorrelationId);
        }

        Assert.Equal(Enumerable.Range(1, Users).Select(i => $"u-{i}"), entries.Select(e => e.ActorId!).Distinct().Order(StringComparer.Ordinal));
        var report = await db.VerifyAuditChainAsync();
        Assert.True(report.IsValid, report.Describe());
    }

    [Theory]
    [InlineData(Form.AddDbContext)]
    [InlineData(Form.AddDbContextFactory)]
    [InlineData(Form.AddDbContextPool)]
    [InlineData(Form.AddPooledDbContextFactory)]
    [InlineData(Form.HandBuilt)]
    public async Task Concurrent_scopes_are_each_attributed_to_the_user_of_their_AuditScope(Form form)
    {
        await using (var app = new App(form, ConnectionString))
        {
            await AllAtOnceAsync(i => app.InScopeAsync(async (open, _) =>
            {
                using (AuditScope.Begin(UserContext(i)))
                {
                    await WriteAsync(open, $"u-{i}");
                }
            }));
        }

        await AssertEachEntryNamesItsWriterAsync();
    }

    [Fact]
    public async Task AddDbContext_with_a_scoped_accessor_attributes_each_scope_to_the_user_its_accessor_names()
    {
        await using (var app = new App(Form.AddDbContext, ConnectionString))
        {
            // An ambient scope of someone else around all of it: the context's own accessor knows better, and wins.
            using (AuditScope.Begin(new AuditContext(new AuditActor("u-decoy", "decoy", []), "decoy", "corr-decoy")))
            {
                await AllAtOnceAsync(i => app.InScopeAsync(async (open, accessor) =>
                {
                    Assert.NotNull(accessor);
                    accessor.Current = UserContext(i);
                    await WriteAsync(open, $"u-{i}");
                }));
            }
        }

        await AssertEachEntryNamesItsWriterAsync();
    }

    [Theory]
    [InlineData(Form.AddDbContext)]
    [InlineData(Form.AddDbContextFactory)]
    [InlineData(Form.AddDbContextPool)]
    [InlineData(Form.AddPooledDbContextFactory)]
    [InlineData(Form.HandBuilt)]
    public async Task A_write_with_no_accessor_context_and_no_AuditScope_is_recorded_as_unattributed_never_anonymous(Form form)
    {
        Assert.Null(AuditScope.Current);
        await using (var app = new App(form, ConnectionString))
        {
            await app.InScopeAsync(async (open, _) =>
            {
                await using (var lease = await open())
                {
                    lease.Db.Notes.Add(new Note { Text = "nobody#1" });
                    await lease.Db.SaveChangesAsync();
                }

                await using (var lease = await open())
                {
                    await lease.Db.Notes.ExecuteUpdateAsync(s => s.SetProperty(x => x.Text, "nobody#2"));
                }
            });
        }

        await using var db = Reader();
        var entries = await db.Set<AuditEntry>().AsNoTracking().Where(e => e.TableName == "Notes").OrderBy(e => e.Seq).ToListAsync();
        Assert.Equal([AuditOperations.Insert, AuditOperations.Update], entries.Select(e => e.Operation));
        Assert.All(entries, e =>
        {
            Assert.Equal("unattributed", e.ActorId);
            Assert.Equal("unattributed", e.ActorName);
            Assert.Equal("unattributed", e.Origin);
            Assert.False(e.OutOfBand);
        });
        var report = await db.VerifyAuditChainAsync();
        Assert.True(report.IsValid, report.Describe());
    }
}

