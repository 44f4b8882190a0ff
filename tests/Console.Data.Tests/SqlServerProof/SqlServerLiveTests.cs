using System.Data.Common;
using ComplianceConsole.Core.Auditing;
using ComplianceConsole.Data.Capture;
using ComplianceConsole.Data.Domain;
using Microsoft.Data.SqlClient;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Diagnostics;

namespace ComplianceConsole.Data.Tests.SqlServerProof;

/// <summary>
/// Issue 13's points on a real SQL Server (skipped, with the reason, without <see cref="SqlServerTestDatabase.EnvironmentVariable"/>):
/// the first server given proves in one run what the recording connection and the parser prove here.
/// </summary>
[RequiresSqlServer]
public sealed class SqlServerLiveTests
{
    /// <summary>Runs every connection of a context as a database user of the test database (EXECUTE AS), the way the runtime login would be.</summary>
    private sealed class ExecuteAsUser(string user) : DbConnectionInterceptor
    {
        public override async Task ConnectionOpenedAsync(DbConnection connection, ConnectionEndEventData eventData, CancellationToken cancellationToken = default)
        {
            await using var command = connection.CreateCommand();
            command.CommandText = $"EXECUTE AS USER = N'{user}'";
            await command.ExecuteNonQueryAsync(cancellationToken);
        }

        public override void ConnectionOpened(DbConnection connection, ConnectionEndEventData eventData)
        {
            using var command = connection.CreateCommand();
            command.CommandText = $"EXECUTE AS USER = N'{user}'";
            command.ExecuteNonQuery();
        }
    }

    private static ConsoleDbContext As(SqlServerTestDatabase store, string user, AuditContext? actor = null)
    {
        // No pooling: each connection is new, so its EXECUTE AS never leaks into another.
        var settings = store.Settings with { ConnectionString = new SqlConnectionStringBuilder(store.Settings.ConnectionString) { Pooling = false }.ConnectionString };
        return ConsoleDbContextFactory.Create(settings, b => b.UseAuditTrail(new AuditContextAccessor(actor ?? TestDatabase.Alice)).AddInterceptors(new ExecuteAsUser(user)));
    }

    [ProviderFact]
    public async Task The_runtime_login_needs_dml_only_and_cannot_disable_truncate_or_delete()
    {
        await using var store = await SqlServerTestDatabase.CreateAsync();
        await store.ExecuteRawAsync($"CREATE USER [cc_runtime] WITHOUT LOGIN; ALTER ROLE [{SqlServerAuditSql.WriterRole}] ADD MEMBER [cc_runtime];");
        await using (var db = As(store, "cc_runtime"))
        {
            db.Tags.Add(new Tag { Name = "least privilege" });
            await db.SaveChangesAsync();
            foreach (var forbidden in new[]
                     {
                         "DISABLE TRIGGER [audit_capture_Tags] ON [Tags]", "TRUNCATE TABLE [AuditEntries]", "DELETE FROM [AuditEntries]",
                         "UPDATE [AuditEntries] SET [ActorName] = N'nobody'", "ALTER TABLE [Tags] ADD [X] int NULL", "DROP TRIGGER [audit_capture_Tags]",
                     })
            {
                await Assert.ThrowsAsync<SqlException>(() => db.Database.ExecuteSqlRawAsync(forbidden));
            }

            var check = await AuditCaptureChecker.CheckAsync(db.Database, new AuditOptions(), DatabaseInitializer.Owner);
            Assert.True(check.IsClean, string.Join("\n", check.Problems));
            Assert.Empty(check.Notes); // no ALTER: least privilege in force
        }

        Assert.Equal("u-alice", Assert.Single(await store.ChangesAsync("Tags")).ActorId);
    }

    [ProviderFact]
    public async Task A_reporting_login_cannot_take_the_chain_lock()
    {
        await using var store = await SqlServerTestDatabase.CreateAsync();
        await store.ExecuteRawAsync("CREATE USER [cc_reporter] WITHOUT LOGIN; GRANT SELECT ON SCHEMA::[dbo] TO [cc_reporter];");
        await using var connection = new SqlConnection(new SqlConnectionStringBuilder(store.Settings.ConnectionString) { Pooling = false }.ConnectionString);
        await connection.OpenAsync();
        await using var command = connection.CreateCommand();
        command.CommandText = $"""
            EXECUTE AS USER = N'cc_reporter';
            BEGIN TRANSACTION;
            DECLARE @r int;
            EXEC @r = sp_getapplock @Resource = N'{Interceptors.SqlServerAuditSealer.ChainLock}', @LockMode = N'Exclusive', @LockOwner = N'Transaction', @LockTimeout = 0, @DbPrincipal = N'{SqlServerAuditSql.ChainLockRole}';
            ROLLBACK;
            REVERT;
            SELECT @r;
            """;
        int result;
        try
        {
            result = Convert.ToInt32(await command.ExecuteScalarAsync());
        }
        catch (SqlException)
        {
            result = -999; // refused outright: the same for the writers waiting
        }

        Assert.Equal(-999, result);
    }

    [ProviderFact]
    public async Task A_snapshot_transaction_seals_after_the_newest_head_not_its_snapshots()
    {
        await using var store = await SqlServerTestDatabase.CreateAsync();
        await store.ExecuteRawAsync("ALTER DATABASE CURRENT SET ALLOW_SNAPSHOT_ISOLATION ON;");
        await using var slow = store.Audited();
        await using var transaction = await slow.Database.BeginTransactionAsync(System.Data.IsolationLevel.Snapshot);
        _ = await slow.Tags.CountAsync(); // the snapshot starts here
        await using (var fast = store.Audited())
        {
            fast.Tags.Add(new Tag { Name = "committed meanwhile" });
            await fast.SaveChangesAsync(); // the head moves past the snapshot
        }

        slow.Tags.Add(new Tag { Name = "from the snapshot" });
        await slow.SaveChangesAsync();
        await transaction.CommitAsync(); // sealed at READ COMMITTED: the newest head, the next seq

        await using var verify = store.Unaudited();
        var report = await verify.VerifyAuditChainAsync();
        Assert.True(report.IsValid, report.Describe());
        Assert.Equal(["committed meanwhile", "from the snapshot"], (await store.ChangesAsync("Tags")).Select(e => JsonName(e.NewValues)));
    }

    [ProviderFact]
    public async Task A_bulk_change_outside_the_app_never_stalls_a_users_save_and_is_sealed_in_batches()
    {
        await using var store = await SqlServerTestDatabase.CreateAsync();
        await store.ExecuteRawAsync("INSERT INTO [Tags] ([Name]) SELECT TOP (4500) CONCAT(N'bulk-', ROW_NUMBER() OVER (ORDER BY (SELECT 1))) FROM sys.all_objects a CROSS JOIN sys.all_objects b;");
        await using (var db = store.Audited())
        {
            db.Tags.Add(new Tag { Name = "a user's save" });
            await db.SaveChangesAsync(); // seals its own entry only
            Assert.Equal(4500, await db.AuditPending.CountAsync());
            Assert.Equal(4500, await db.Database.SealOutOfBandAsync()); // three transactions of at most 2,000
            Assert.Equal(0, await db.AuditPending.CountAsync());
        }

        var entries = await store.ChangesAsync("Tags");
        Assert.Equal(4501, entries.Count);
        Assert.False(entries[0].OutOfBand);
        Assert.All(entries.Skip(1), e => Assert.True(e.OutOfBand));
    }

    [ProviderFact]
    public async Task Two_nodes_installing_at_once_install_once()
    {
        await using var store = await SqlServerTestDatabase.CreateUncapturedAsync();
        await Task.WhenAll(Enumerable.Range(0, 2).Select(async _ =>
        {
            await using var db = store.Unaudited();
            await db.Database.InstallAuditCaptureAsync(new AuditOptions(), DatabaseInitializer.Owner);
        }));

        var policyEvents = (await store.AllEntriesAsync()).Count(e => e.EventName == AuditEventNames.CaptureChanged && e.Target == "audit-policy");
        Assert.Equal(1, policyEvents);
    }

    [ProviderFact]
    public async Task A_table_outside_dbo_is_captured_into_the_stores_schema()
    {
        await using var store = await SqlServerTestDatabase.CreateAsync();
        await store.ExecuteRawAsync("EXEC(N'CREATE SCHEMA [sales]'); CREATE TABLE [sales].[Orders] ([Id] int IDENTITY PRIMARY KEY, [Number] nvarchar(50) NOT NULL);");
        var options = new DbContextOptionsBuilder<SalesContext>().UseSqlServer(store.Settings.ConnectionString).UseAuditTrail(new AuditContextAccessor(TestDatabase.Alice)).Options;
        await using (var db = new SalesContext(options))
        {
            var changes = await db.Database.InstallAuditCaptureAsync(new AuditOptions(), "Sales");
            Assert.Contains("audit_capture_Orders", changes.Created);
            db.Orders.Add(new SalesOrder { Number = "SO-1" });
            await db.SaveChangesAsync(); // error 208 before: the trigger wrote to [sales].[AuditPending]
        }

        Assert.Equal("u-alice", Assert.Single(await store.ChangesAsync("Orders")).ActorId);
    }

    [ProviderFact]
    public async Task A_long_composite_key_is_cut_in_the_trigger_exactly_as_the_console_cuts_it()
    {
        await using var store = await SqlServerTestDatabase.CreateAsync();
        await store.ExecuteRawAsync("CREATE TABLE [LongKeys] ([A] nvarchar(300) NOT NULL, [B] nvarchar(300) NOT NULL, [V] int NOT NULL, PRIMARY KEY ([A], [B]));");
        var plan = new TableCapturePlan("LongKeys", null, ["A", "B"],
            [new("A", ColumnTreatment.Capture, false, "key", true, StoreType: "nvarchar(300)"), new("B", ColumnTreatment.Capture, false, "key", true, StoreType: "nvarchar(300)"),
             new("V", ColumnTreatment.Capture, false, "default", StoreType: "int")]);
        await store.ExecuteRawAsync(SqlServerAuditSql.CaptureTrigger(plan, AuditValueMode.ChangedOnly, "LongKeys").Value);
        var (a, b) = (new string('a', 300), new string('b', 300));
        await store.ExecuteRawAsync($"INSERT INTO [LongKeys] ([A], [B], [V]) VALUES (N'{a}', N'{b}', 1);"); // never fails the write

        await using (var db = store.Unaudited())
        {
            Assert.Equal(1, await db.Database.SealOutOfBandAsync());
        }

        var entry = Assert.Single(await store.ChangesAsync("LongKeys"));
        Assert.Equal(AuditFieldLimits.Fit($$"""{"A":"{{a}}","B":"{{b}}"}""", AuditFieldLimits.RecordKey), entry.RecordKey);
    }

    [ProviderFact]
    public async Task A_store_partitioned_on_seq_still_seals_verifies_and_refuses_a_switch_the_guard_would_refuse()
    {
        await using var store = await SqlServerTestDatabase.CreateAsync();
        await using (var db = store.Unaudited())
        {
            foreach (var statement in ComplianceConsole.Data.Retention.SqlServerPartitions.Install(db.Model, "dbo"))
            {
                await db.Database.ExecuteSqlRawAsync(statement);
            }
        }

        await using (var db = store.Audited())
        {
            db.Tags.Add(new Tag { Name = "after partitioning" });
            await db.SaveChangesAsync(); // lands in partition 2
            var partitions = await ComplianceConsole.Data.Retention.SqlServerPartitions.ReadAsync(db.Database.GetDbConnection(), null, "dbo", default);
            Assert.Equal([1, 2], partitions.Select(p => p.Number));
            var report = await db.VerifyAuditChainAsync();
            Assert.True(report.IsValid, report.Describe());
            // Nothing of partition 1 is inside a removed range: the procedure refuses, and nothing moves.
            var refused = await Assert.ThrowsAsync<SqlException>(() => db.Database.ExecuteSqlRawAsync("EXEC [dbo].[cc_audit_switch_out] @partition = 1"));
            Assert.Equal(51004, refused.Number);
        }

        Assert.NotEmpty(await store.ChangesAsync("Tags"));
    }

    private static string? JsonName(string? values) => values is null ? null : System.Text.Json.JsonDocument.Parse(values).RootElement.GetProperty("Name").GetString();

    private sealed class SalesContext(DbContextOptions<SalesContext> options) : DbContext(options)
    {
        public DbSet<SalesOrder> Orders => Set<SalesOrder>();

        protected override void OnModelCreating(ModelBuilder modelBuilder) => modelBuilder.Entity<SalesOrder>().ToTable("Orders", "sales");
    }

    private sealed class SalesOrder
    {
        public int Id { get; set; }
        public string Number { get; set; } = "";
    }
}
