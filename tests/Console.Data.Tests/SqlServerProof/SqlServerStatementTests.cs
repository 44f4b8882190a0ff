using System.Data;
using System.Transactions;
using ComplianceConsole.Core.Auditing;
using ComplianceConsole.Data.Capture;
using ComplianceConsole.Data.Domain;
using ComplianceConsole.Data.Interceptors;
using Microsoft.Data.SqlClient;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Storage;
using IsolationLevel = System.Data.IsolationLevel;

namespace ComplianceConsole.Data.Tests.SqlServerProof;

/// <summary>
/// The exact statements the capture engine sends on SQL Server, in order, through EF's real SQL Server provider and
/// the real interceptor on a <see cref="RecordingConnection"/>. The trigger's pending rows are simulated (the
/// trigger's own T-SQL is proved by <see cref="SqlServerScriptTests"/> and, on a server, by the shared tests).
/// </summary>
public sealed class SqlServerStatementTests
{
    private static PendingRow Row(string table, string operation, int id, string? actorName = null) =>
        new(0, table, operation, $$"""{"Id":{{id}}}""", operation == "insert" ? null : """{"Name":"old"}""", operation == "delete" ? null : """{"Name":"new"}""", ActorName: actorName);

    /// <summary>The triggers of the console's tables: one pending row per row an INSERT, UPDATE or DELETE of Customers touches.</summary>
    private static IEnumerable<PendingRow> CustomersTrigger(Recorded statement)
    {
        var sql = statement.Text;
        var body = Proof.Describe(sql);
        if (sql.Contains("INSERT INTO [dbo].[AuditPending]", StringComparison.Ordinal))
        {
            // RecordAuditEventAsync: name, target, metadata, tenant, actor id, actor name, time.
            string? P(int i) => statement.Parameters[i].Value as string;
            return [new PendingRow(0, null, "event", null, null, null, EventName: P(0), Target: P(1), ActorName: P(5))];
        }

        int Count(string statement) => sql.Split(statement).Length - 1;
        return Enumerable.Range(1, Count("INSERT INTO [Customers]")).Select(_ => Row("Customers", "insert", 41))
            .Concat(Enumerable.Range(1, Count("UPDATE [Customers]") + Count("UPDATE [c]")).Select(i => Row("Customers", "update", i)))
            .Concat(Enumerable.Range(1, Count("DELETE FROM [Customers]")).Select(i => Row("Customers", "delete", i)))
            .ToList();
    }

    private static Proof NewProof(Func<Recorded, Answer?>? answer = null) => new(answer) { Trigger = CustomersTrigger };

    [Fact]
    public async Task SaveChanges_inserts_then_seals_its_own_rows_in_its_transaction_with_the_servers_clock()
    {
        var proof = NewProof();
        await using (var db = proof.Context())
        {
            db.Customers.Add(new Customer { Name = "Ada", Email = "ada@example.test" });
            await db.SaveChangesAsync();
        }

        Assert.Equal(["#BEGIN ReadCommitted", "INSERT INTO [Customers]", "SEAL OWN", "INSERT ENTRIES", "#COMMIT"], proof.Outline());
        var seal = proof.Connection.Log.Single(r => r.Text == Proof.Sql.Own);
        Assert.Equal(SqlDbType.Int, seal.Parameter("@lockTimeout").SqlDbType);
        Assert.Equal(25_000, seal.Parameter("@lockTimeout").Value); // under the 30 s command timeout
        var entry = Assert.Single(proof.Appended);
        Assert.Equal(8, entry.GetProperty("Seq").GetInt64()); // the head was 7
        Assert.Equal("2026-12-02T08:00:00.0000000", entry.GetProperty("OccurredAtUtc").GetString()); // SYSUTCDATETIME() under the lock
        Assert.Equal("alice@example.test", entry.GetProperty("ActorName").GetString());
        Assert.False(entry.GetProperty("OutOfBand").GetBoolean());
        var rows = proof.Connection.Log.Single(r => r.Text == Proof.Sql.Insert).Parameter("@rows");
        Assert.Equal((SqlDbType.NVarChar, -1), (rows.SqlDbType, rows.Size)); // one parameter of one type: one plan
    }

    [Fact]
    public async Task Update_delete_and_a_batch_seal_once_at_commit_with_one_insert_for_every_entry()
    {
        var proof = NewProof();
        await using (var db = proof.Context())
        {
            db.Customers.AttachRange(new Customer { Id = 1, Name = "a" }, new Customer { Id = 2, Name = "b" }, new Customer { Id = 3, Name = "c" });
            db.Customers.Local.First(c => c.Id == 1).Name = "a2";
            db.Customers.Local.First(c => c.Id == 2).Name = "b2";
            db.Customers.Remove(db.Customers.Local.First(c => c.Id == 3));
            await db.SaveChangesAsync();
        }

        var outline = proof.Outline();
        Assert.Equal("#BEGIN ReadCommitted", outline[0]);
        Assert.Equal(["SEAL OWN", "INSERT ENTRIES", "#COMMIT"], outline.TakeLast(3));
        Assert.Single(outline, o => o == "SEAL OWN"); // one seal, at the end, for the whole batch
        Assert.Equal(3, proof.Appended.Count);
        Assert.Equal([8L, 9L, 10L], proof.Appended.Select(e => e.GetProperty("Seq").GetInt64()));
        Assert.Equal(["delete", "update", "update"], proof.Appended.Select(e => e.GetProperty("Operation").GetString()).Order());
    }

    [Fact]
    public async Task ExecuteUpdate_and_raw_sql_outside_a_transaction_get_one_of_their_own_sealed_and_committed()
    {
        var proof = NewProof();
        await using (var db = proof.Context())
        {
            await db.Customers.Where(c => c.Id > 0).ExecuteUpdateAsync(s => s.SetProperty(c => c.Name, "x"));
            await db.Database.ExecuteSqlRawAsync("DELETE FROM [Customers] WHERE [Id] = 5");
        }

        Assert.Equal(
            ["#BEGIN ReadCommitted", "UPDATE [c]", "SEAL OWN", "INSERT ENTRIES", "#COMMIT",
             "#BEGIN ReadCommitted", "DELETE FROM [Customers] WHERE [Id] = 5", "SEAL OWN", "INSERT ENTRIES", "#COMMIT"], proof.Outline());
    }

    [Fact]
    public async Task A_rolled_back_transaction_never_seals()
    {
        var proof = NewProof();
        await using (var db = proof.Context())
        {
            await using var tx = await db.Database.BeginTransactionAsync();
            db.Customers.Add(new Customer { Name = "Ada" });
            await db.SaveChangesAsync();
            await tx.RollbackAsync();
        }

        Assert.Equal(["#BEGIN ReadCommitted", "SAVE TRANSACTION [__EFSavePoint];", "INSERT INTO [Customers]", "#ROLLBACK"], proof.Outline());
        Assert.Empty(proof.Appended);
    }

    [Fact]
    public async Task An_empty_SaveChanges_sends_nothing_and_a_change_to_an_unaudited_table_takes_no_lock()
    {
        var proof = NewProof();
        await using (var db = proof.Context())
        {
            Assert.Equal(0, await db.SaveChangesAsync());
            Assert.Empty(proof.Connection.Log);

            db.UserPreferences.Add(new UserPreference { UserId = "u-alice", Theme = "dark" });
            await db.SaveChangesAsync();
        }

        // The seal finds no row of its own and returns before sp_getapplock: a transaction with nothing to seal waits for no one.
        Assert.Equal(["#BEGIN ReadCommitted", "INSERT INTO [UserPreferences]", "SEAL OWN", "#COMMIT"], proof.Outline());
        Assert.Empty(proof.Appended);
    }

    [Theory]
    [InlineData(IsolationLevel.Serializable)]
    [InlineData(IsolationLevel.Snapshot)]
    [InlineData(IsolationLevel.RepeatableRead)]
    public async Task Under_any_isolation_level_the_seal_runs_at_read_committed(IsolationLevel level)
    {
        var proof = NewProof();
        await using (var db = proof.Context())
        {
            await using var tx = await db.Database.BeginTransactionAsync(level);
            db.Customers.Add(new Customer { Name = "Ada" });
            await db.SaveChangesAsync();
            await tx.CommitAsync();
        }

        Assert.Equal([$"#BEGIN {level}", "SAVE TRANSACTION [__EFSavePoint];", "INSERT INTO [Customers]", "SEAL OWN", "INSERT ENTRIES", "#COMMIT"], proof.Outline());
        // A parameterized command runs as sp_executesql, so its SET ends with it: the caller's level is back after the seal.
        var seal = proof.Connection.Log.Single(r => r.Text == Proof.Sql.Own);
        Assert.StartsWith("SET TRANSACTION ISOLATION LEVEL READ COMMITTED;", seal.Text);
        Assert.NotEmpty(seal.Parameters);
        Assert.DoesNotContain("READPAST", seal.Text); // refused under SERIALIZABLE and SNAPSHOT; own rows need no skipping
    }

    [Fact]
    public async Task Inside_a_TransactionScope_an_audited_write_is_refused_before_anything_is_sent()
    {
        var proof = NewProof();
        await using var db = proof.Context();
        using (new TransactionScope(TransactionScopeAsyncFlowOption.Enabled))
        {
            db.Customers.Add(new Customer { Name = "Ada" });
            var refused = await Assert.ThrowsAsync<AuditCaptureException>(() => db.SaveChangesAsync());
            Assert.Contains("TransactionScope", refused.Message);
            Assert.Contains("BeginTransaction", refused.Message); // what to do instead

            var raw = await Assert.ThrowsAsync<AuditCaptureException>(() => db.Database.ExecuteSqlRawAsync("UPDATE [Customers] SET [Name] = 'x'"));
            Assert.Contains("TransactionScope", raw.Message);
        }

        Assert.DoesNotContain(proof.Connection.Log, r => !r.Text.StartsWith('#')); // joined the scope, sent nothing
    }

    [Fact]
    public async Task A_retrying_strategy_runs_the_whole_save_again_seal_included()
    {
        var attempts = 0;
        var proof = NewProof(r => r.Text == Proof.Sql.Insert && attempts++ == 0 ? Answer.Fail(new TimeoutException("transient")) : null);
        await using (var db = proof.Context(sqlServer: o => o.ExecutionStrategy(d => new RetryOnTimeout(d))))
        {
            db.Customers.Add(new Customer { Name = "Ada" });
            await db.SaveChangesAsync();
        }

        Assert.Equal(
            ["#BEGIN ReadCommitted", "INSERT INTO [Customers]", "SEAL OWN", "INSERT ENTRIES", "#ROLLBACK",
             "#BEGIN ReadCommitted", "INSERT INTO [Customers]", "SEAL OWN", "INSERT ENTRIES", "#COMMIT"], proof.Outline());
        Assert.Equal(8, proof.Appended.Single().GetProperty("Seq").GetInt64()); // the failed attempt appended nothing
    }

    [Fact]
    public async Task Never_block_undoes_the_failed_seal_to_its_savepoint_and_commits_the_change_with_its_spool_mark()
    {
        using var folder = new TempSqliteFile("spool");
        var spool = new AuditSpool(folder.Path + ".jsonl");
        var proof = NewProof(r => r.Text == Proof.Sql.Insert ? Answer.Fail(new InvalidOperationException("disk full")) : null);
        await using (var db = proof.Context(spool))
        {
            db.Customers.Add(new Customer { Name = "Ada" });
            await db.SaveChangesAsync();
        }

        Assert.Equal(
            ["#BEGIN ReadCommitted", "INSERT INTO [Customers]", "#SAVE cc_seal", "SEAL OWN", "INSERT ENTRIES", "#ROLLBACK TO cc_seal", "#RELEASE cc_seal",
             "TAKE OWN", "INSERT INTO [dbo].[AuditSpoolMarks]", "#COMMIT"], proof.Outline());
        var spooled = Assert.Single(spool.ReadLines());
        Assert.Equal("Customers", Assert.Single(spooled.Record!.Rows).TableName);
    }

    [Fact]
    public async Task The_lock_wait_follows_the_contexts_command_timeout()
    {
        var proof = NewProof();
        await using (var db = proof.Context())
        {
            db.Database.SetCommandTimeout(10);
            db.Customers.Add(new Customer { Name = "Ada" });
            await db.SaveChangesAsync();
        }

        var seal = proof.Connection.Log.Single(r => r.Text == Proof.Sql.Own);
        Assert.Equal(10, seal.CommandTimeout);
        Assert.Equal(5_000, seal.Parameter("@lockTimeout").Value);
    }

    [Fact]
    public async Task Attributes_longer_than_the_store_keeps_are_cut_visibly_and_the_write_goes_through()
    {
        var email = new string('x', 290) + "@example.test"; // 303 characters typed at sign-in
        var proof = NewProof();
        var actor = new AuditContext(new AuditActor("u-long", email, ["Operator"]), "page:/customers", "corr", "10.0.0.1", new string('F', 700));
        await using (var db = proof.Context(actor: actor))
        {
            db.Customers.Add(new Customer { Name = "Ada" });
            await db.SaveChangesAsync();
            await db.Database.RecordAuditEventAsync(new AuditEventRequest(AuditEventNames.LoginFailed, email));
        }

        Assert.Equal(2, proof.Appended.Count);
        var entry = proof.Appended[0];
        var name = entry.GetProperty("ActorName").GetString()!;
        Assert.Equal(AuditFieldLimits.ActorName, name.Length);
        Assert.StartsWith(email[..200], name);
        Assert.True(AuditFieldLimits.WasCut(name));
        Assert.Equal(AuditFieldLimits.UserAgent, entry.GetProperty("UserAgent").GetString()!.Length);
        // The event's target went into AuditPending already cut, so the pending insert cannot overflow either.
        var pendingInsert = proof.Connection.Log.Single(r => r.Text.Contains("INSERT INTO [dbo].[AuditPending]", StringComparison.Ordinal));
        Assert.All(pendingInsert.Parameters.Where(p => p.Value is string), p => Assert.True(((string)p.Value).Length <= AuditFieldLimits.Target));
    }

    private sealed class RetryOnTimeout(ExecutionStrategyDependencies dependencies) : ExecutionStrategy(dependencies, 3, TimeSpan.FromMilliseconds(1))
    {
        protected override bool ShouldRetryOn(Exception exception) => exception is TimeoutException;
    }
}
