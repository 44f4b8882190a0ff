using System.Data.Common;
using ComplianceConsole.Core.Auditing;
using ComplianceConsole.Data.Capture;
using ComplianceConsole.Data.Domain;
using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Diagnostics;
using Microsoft.EntityFrameworkCore.Storage;

namespace ComplianceConsole.Data.Tests;

/// <summary>EF owns the transaction; the seal happens inside it, before EF accepts the changes.</summary>
public sealed class TransactionTests
{
    [Fact]
    public async Task A_failed_seal_leaves_the_changes_pending_and_a_retry_with_the_same_context_saves_them_once()
    {
        await using var store = await SqliteTestDatabase.CreateAsync();
        await store.BreakAuditStoreAsync("disk full");
        await using var db = store.Audited();
        var tag = new Tag { Name = "kept" };
        db.Tags.Add(tag);
        var error = await Assert.ThrowsAsync<AuditCaptureException>(() => db.SaveChangesAsync());
        Assert.Contains("audit trail cannot be written", error.Message);
        Assert.Contains("disk full", error.Message);
        Assert.Equal(EntityState.Added, db.Entry(tag).State); // as after any failed SaveChanges

        await store.ExecuteRawAsync("DROP TRIGGER test_break_store");
        await db.SaveChangesAsync();
        Assert.Equal(EntityState.Unchanged, db.Entry(tag).State);

        await using var check = store.Unaudited();
        var saved = Assert.Single(await check.Tags.ToListAsync());
        Assert.Equal(tag.Id, saved.Id);
        var entry = Assert.Single(await store.ChangesAsync("Tags"));
        Assert.Equal($"{{\"Id\":{tag.Id}}}", entry.RecordKey);
    }

    /// <summary>A retrying strategy, as Azure SQL setups use, here retrying SQLite's abort of the first seal.</summary>
    private sealed class RetryingStrategy(ExecutionStrategyDependencies dependencies) : ExecutionStrategy(dependencies, 3, TimeSpan.FromMilliseconds(10))
    {
        protected override bool ShouldRetryOn(Exception exception) =>
            exception is AuditCaptureException { InnerException: SqliteException { Message: var m } } && m.Contains("transient");
    }

    /// <summary>Fails the first audit insert of the connection with a "transient" error, then lets the rest through.</summary>
    private sealed class FailOnce : DbConnectionInterceptor
    {
        public int Failures;

        public override void ConnectionOpened(DbConnection connection, ConnectionEndEventData eventData) =>
            ((SqliteConnection)connection).CreateFunction("cc_fail_once", () => Interlocked.Exchange(ref Failures, 1) == 0 ? 1 : 0);

        public override Task ConnectionOpenedAsync(DbConnection connection, ConnectionEndEventData eventData, CancellationToken cancellationToken = default)
        {
            ConnectionOpened(connection, eventData);
            return Task.CompletedTask;
        }
    }

    [Fact]
    public async Task A_retrying_execution_strategy_works_and_retries_the_whole_save_with_its_seal()
    {
        await using var store = await SqliteTestDatabase.CreateAsync();
        await store.ExecuteRawAsync("CREATE TRIGGER test_transient BEFORE INSERT ON AuditEntries WHEN cc_fail_once() BEGIN SELECT RAISE(ABORT, 'transient'); END");
        var failOnce = new FailOnce();
        await using (var db = ConsoleDbContextFactory.Create(store.Settings, b => b
            .UseAuditTrail(new AuditContextAccessor(TestDatabase.Alice))
            .AddInterceptors(failOnce)
            .ReplaceService<IExecutionStrategyFactory, RetryingStrategyFactory>()))
        {
            db.Tags.Add(new Tag { Name = "retried" });
            await db.SaveChangesAsync();
            await db.Tags.ExecuteUpdateAsync(s => s.SetProperty(t => t.Name, "retried-2"));
        }

        Assert.Equal(1, failOnce.Failures);
        await using var check = store.Unaudited();
        Assert.Equal("retried-2", (await check.Tags.SingleAsync()).Name);
        Assert.Equal([AuditOperations.Insert, AuditOperations.Update], (await store.ChangesAsync("Tags")).Select(e => e.Operation));
    }

    private sealed class RetryingStrategyFactory(ExecutionStrategyDependencies dependencies) : IExecutionStrategyFactory
    {
        public IExecutionStrategy Create() => new RetryingStrategy(dependencies);
    }

    [Theory]
    [InlineData("/* note */ UPDATE Tags SET Name = 'x'")]
    [InlineData("; UPDATE Tags SET Name = 'x'")]
    [InlineData("SELECT 1; UPDATE Tags SET Name = 'x'")]
    [InlineData("WITH t AS (SELECT 1) UPDATE Tags SET Name = 'x'")]
    public async Task A_write_behind_a_comment_or_another_statement_is_the_apps_own_and_attributed(string sql)
    {
        await using var store = await SqliteTestDatabase.CreateAsync();
        await using (var db = store.Audited())
        {
            db.Tags.Add(new Tag { Name = "t" });
            await db.SaveChangesAsync();
            await db.Database.ExecuteSqlRawAsync(sql);
        }

        var update = Assert.Single(await store.ChangesAsync("Tags"), e => e.Operation == AuditOperations.Update);
        Assert.False(update.OutOfBand);
        Assert.Equal("u-alice", update.ActorId);
        await using var check = store.Unaudited();
        Assert.Equal(0, await check.AuditPending.CountAsync()); // nothing committed unsealed
    }

    [Fact]
    public async Task A_raw_ado_command_in_an_ef_transaction_is_sealed_at_its_commit()
    {
        await using var store = await SqliteTestDatabase.CreateAsync();
        await using (var db = store.Audited())
        {
            await using var transaction = await db.Database.BeginTransactionAsync();
            await using (var command = db.Database.GetDbConnection().CreateCommand())
            {
                command.Transaction = transaction.GetDbTransaction();
                command.CommandText = "INSERT INTO Tags (Name) VALUES ('through ado.net')";
                await command.ExecuteNonQueryAsync(); // EF never sees this command
            }

            await transaction.CommitAsync();
        }

        var entry = Assert.Single(await store.ChangesAsync("Tags"));
        Assert.Equal("u-alice", entry.ActorId);
        Assert.False(entry.OutOfBand);
    }

    [Fact]
    public async Task A_save_with_no_changes_writes_nothing_and_takes_no_lock()
    {
        await using var store = await SqliteTestDatabase.CreateAsync();
        await using var blocker = new SqliteConnection(store.Settings.ConnectionString);
        await blocker.OpenAsync();
        await using var hold = blocker.BeginTransaction(); // IMMEDIATE: holds the write lock
        await using var db = ConsoleDbContextFactory.Create(store.Settings with { ConnectionString = store.Settings.ConnectionString.Replace("Default Timeout=60", "Default Timeout=1") },
            b => b.UseAuditTrail(new AuditContextAccessor(TestDatabase.Alice)));
        Assert.Equal(0, await db.SaveChangesAsync()); // would time out if it waited for the lock
        await hold.RollbackAsync();
        Assert.Equal(2, (await store.AllEntriesAsync()).Count); // the install events only
    }
}
