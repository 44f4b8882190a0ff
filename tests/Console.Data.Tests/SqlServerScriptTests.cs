using ComplianceConsole.Core.Auditing;
using ComplianceConsole.Data.Capture;
using ComplianceConsole.Data.Interceptors;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Infrastructure;
using Microsoft.EntityFrameworkCore.Migrations;
using Microsoft.SqlServer.TransactSql.ScriptDom;

namespace ComplianceConsole.Data.Tests;

/// <summary>
/// What can be proved about SQL Server without one: the migration script and every statement the capture engine
/// sends are valid T-SQL (Microsoft's own parser, ScriptDom) and say what they must. The same engine runs against a
/// real server in <see cref="SqlServerCaptureTests"/> when one is configured.
/// </summary>
public sealed class SqlServerScriptTests
{
    private static void AssertParses(string sql)
    {
        new TSql160Parser(initialQuotedIdentifiers: true).Parse(new StringReader(sql), out var errors);
        Assert.True(errors.Count == 0, string.Join("\n", errors.Select(e => $"line {e.Line}: {e.Message}")) + "\n---\n" + sql);
    }

    private static AuditPolicySnapshot ConsolePolicy(AuditOptions options)
    {
        using var db = new SqlServerDesignTimeFactory().CreateDbContext([]);
        return AuditPolicyResolver.Resolve(db.Model, options);
    }

    [Fact]
    public void The_sql_server_migration_script_creates_the_audit_store_and_its_append_only_guards()
    {
        using var db = new SqlServerDesignTimeFactory().CreateDbContext([]);
        var script = db.GetService<IMigrator>().GenerateScript(options: MigrationsSqlGenerationOptions.Idempotent);
        Assert.Contains("CREATE TABLE [AuditEntries]", script);
        Assert.Contains("[RowHash] nchar(64) NOT NULL", script);
        Assert.Contains("INSTEAD OF UPDATE", script);
        Assert.Contains("INSTEAD OF DELETE", script);
        Assert.Contains("CREATE INDEX [IX_AuditEntries_TableName_RecordKey]", script);
        Assert.Contains("DEFAULT (CURRENT_TRANSACTION_ID())", script); // pending rows know their writer's transaction
        // Least privilege: the roles and their grants are in the script a DBA runs, and the pending table locks only rows.
        Assert.Contains($"CREATE ROLE [{SqlServerAuditSql.WriterRole}]", script);
        Assert.Contains($"DENY UPDATE, DELETE ON OBJECT::[dbo].[AuditEntries] TO [{SqlServerAuditSql.WriterRole}]", script);
        Assert.Contains("SET (ALLOW_PAGE_LOCKS = OFF)", script);
        Assert.Contains("CREATE INDEX [IX_AuditEntries_TableName_Seq]", script);
        Assert.Contains("CREATE INDEX [IX_AuditEntries_ActorId_Seq]", script);
        AssertParses(script);
    }

    [Fact]
    public void The_deploy_script_for_sqlcmd_parses_batch_by_batch_and_installs_and_records_the_policy()
    {
        var (script, refused) = SqlServerDeployScript.Generate(new AuditOptions());
        Assert.Empty(refused);
        var batches = System.Text.RegularExpressions.Regex.Split(script, @"^GO\s*$", System.Text.RegularExpressions.RegexOptions.Multiline)
            .Where(b => !string.IsNullOrWhiteSpace(b)).ToList();
        foreach (var batch in batches)
        {
            AssertParses(batch);
        }

        Assert.Contains("CREATE TABLE [AuditEntries]", script); // the migrations, idempotent
        Assert.Contains($"CREATE ROLE [{SqlServerAuditSql.WriterRole}]", script);
        Assert.Contains(batches, b => b.TrimStart().StartsWith("CREATE TRIGGER [dbo].[audit_capture_Customers]", StringComparison.Ordinal)); // a batch of its own
        Assert.Contains("IF OBJECT_ID(N'[dbo].[audit_capture_Customers]', N'TR') IS NOT NULL DROP TRIGGER [dbo].[audit_capture_Customers];", script); // re-runnable
        Assert.Contains(batches, b => b.TrimStart().StartsWith("CREATE TRIGGER [dbo].[audit_entries_refuse_update]", StringComparison.Ordinal));
        // The install is recorded: the policy event goes to AuditPending, sealed by the console as the deploy script's.
        Assert.Contains($"N'{AuditEventNames.CaptureChanged}', N'audit-policy'", script);
        Assert.Contains("N'deploy script (install-capture --script)'", script);
        var triggers = SqlServerAuditSql.CaptureTrigger(ConsolePolicy(new AuditOptions()).Find("Customers")!, AuditValueMode.ChangedOnly, "ComplianceConsole");
        Assert.Contains(AuditTriggerState.Hash(triggers.Value), script); // the same hash the runtime check compares
    }

    [Fact]
    public void An_opt_in_contexts_migration_gets_the_guards_and_roles_idempotently()
    {
        var builder = new MigrationBuilder("Microsoft.EntityFrameworkCore.SqlServer");
        builder.AddAuditStoreGuards("library");
        var statements = builder.Operations.OfType<Microsoft.EntityFrameworkCore.Migrations.Operations.SqlOperation>().Select(o => o.Sql).ToList();
        foreach (var statement in statements)
        {
            AssertParses(statement);
        }

        Assert.Equal(4, statements.Count(s => s.StartsWith("IF OBJECT_ID(N'[library].[audit_entries_", StringComparison.Ordinal) && s.Contains("N'TR') IS NULL EXEC(")));
        Assert.Contains(statements, s => s.Contains("ON [library].[AuditEntries] INSTEAD OF UPDATE", StringComparison.Ordinal));
        Assert.Contains(statements, s => s.Contains($"CREATE ROLE [{SqlServerAuditSql.WriterRole}]", StringComparison.Ordinal));
        Assert.Contains(statements, s => s.Contains("ALLOW_PAGE_LOCKS = OFF", StringComparison.Ordinal));
    }

    [Fact]
    public void Monthly_partitions_align_every_index_and_switch_out_only_what_the_delete_guard_would_allow()
    {
        using var db = new SqlServerDesignTimeFactory().CreateDbContext([]);
        var statements = ComplianceConsole.Data.Retention.SqlServerPartitions.Install(db.Model, "dbo");
        foreach (var statement in statements)
        {
            AssertParses(statement);
        }

        var indexes = db.Model.FindEntityType(typeof(AuditEntry))!.GetIndexes().Count();
        Assert.Equal(indexes + 1, statements.Count(s => s.Contains("WITH (DROP_EXISTING = ON) ON [cc_audit_seq_scheme]([Seq])", StringComparison.Ordinal))); // the key and every index, aligned
        Assert.Equal(indexes, statements.Count(s => s.Contains("ON [dbo].[AuditEntriesSwitch] (", StringComparison.Ordinal))); // the staging table mirrors them
        Assert.Contains(statements, s => s.Contains("WHERE [EventName] IS NOT NULL WITH (DROP_EXISTING = ON)", StringComparison.Ordinal)); // filters kept

        var procedure = ComplianceConsole.Data.Retention.SqlServerPartitions.SwitchProcedureSql("dbo");
        Assert.Contains("WITH EXECUTE AS OWNER", procedure); // the purger role holds no ALTER; the procedure does the one thing it needs it for
        Assert.Contains("[AuditRemovedRanges] AS r WHERE r.[FirstSeq] <= d.[Seq] AND r.[ThroughSeq] >= d.[Seq]", procedure); // every entry inside a removed range
        Assert.Contains($"a.[EventName] = N'{AuditEventNames.RetentionPurged}'", procedure); // and an anchor after the last
        Assert.Contains("WAIT_AT_LOW_PRIORITY (MAX_DURATION = 1 MINUTES, ABORT_AFTER_WAIT = SELF)", procedure); // never a queue of writers behind it
        Assert.Contains(statements, s => s.StartsWith($"GRANT EXECUTE ON OBJECT::[dbo].[cc_audit_switch_out] TO [{SqlServerAuditSql.PurgerRole}]", StringComparison.Ordinal));

        var month = ComplianceConsole.Data.Retention.SqlServerPartitions.NewMonthProcedureSql("dbo");
        Assert.Contains($"sp_getapplock @Resource = N'{SqlServerAuditSealer.ChainLock}'", month); // no seal between reading the head and the split
        Assert.Contains("SPLIT RANGE (@next)", month);
        AssertParses(ComplianceConsole.Data.Retention.SqlServerPartitions.PartitionsSql("dbo"));
        AssertParses(ComplianceConsole.Data.Retention.SqlServerPartitions.StartMonthSql("dbo"));

        var (script, _) = SqlServerDeployScript.Generate(new AuditOptions(), partition: true);
        foreach (var batch in System.Text.RegularExpressions.Regex.Split(script, @"^GO\s*$", System.Text.RegularExpressions.RegexOptions.Multiline).Where(b => !string.IsNullOrWhiteSpace(b)))
        {
            AssertParses(batch);
        }

        Assert.Contains("CREATE OR ALTER PROCEDURE [dbo].[cc_audit_switch_out]", script);
    }

    [Fact]
    public void The_role_script_gives_the_runtime_dml_only_and_keeps_the_store_append_only()
    {
        var script = SqlServerAuditSql.RoleScript("audit");
        foreach (var statement in script)
        {
            AssertParses(statement);
        }

        var text = string.Join("\n", script);
        Assert.DoesNotContain("ALTER ON", text);
        Assert.DoesNotContain("VIEW DEFINITION", text);
        Assert.DoesNotContain("CONTROL", text);
        Assert.Contains($"GRANT SELECT, INSERT, UPDATE, DELETE ON SCHEMA::[audit] TO [{SqlServerAuditSql.WriterRole}]", text);
        Assert.Contains($"DENY UPDATE, DELETE ON OBJECT::[audit].[AuditEntries] TO [{SqlServerAuditSql.WriterRole}]", text);
        Assert.Contains($"DENY UPDATE ON OBJECT::[audit].[AuditEntries] TO [{SqlServerAuditSql.PurgerRole}]", text); // the purger deletes, never updates
        Assert.Contains($"ALTER ROLE [{SqlServerAuditSql.ChainLockRole}] ADD MEMBER [{SqlServerAuditSql.WriterRole}]", text); // may take the chain lock
        Assert.Contains($"ALTER ROLE [{SqlServerAuditSql.ChainLockRole}] ADD MEMBER [{SqlServerAuditSql.PurgerRole}]", text);
        Assert.All(script, statement => Assert.Matches("^(IF |GRANT |DENY )", statement)); // idempotent: a re-run changes nothing
    }

    [Theory]
    [InlineData(AuditValueMode.ChangedOnly)]
    [InlineData(AuditValueMode.FullRecord)]
    public void Every_audited_table_gets_a_capture_trigger_that_parses(AuditValueMode mode)
    {
        var policy = ConsolePolicy(new AuditOptions { Mode = mode });
        var triggers = policy.Tables.Select(t => SqlServerAuditSql.CaptureTrigger(t, mode, "ComplianceConsole")).ToDictionary(p => p.Key, p => p.Value);
        Assert.Equal(policy.Tables.Select(t => "audit_capture_" + t.Table).Order(StringComparer.Ordinal), triggers.Keys.Order(StringComparer.Ordinal));
        Assert.DoesNotContain("audit_capture_UserPreferences", triggers.Keys); // excluded
        Assert.DoesNotContain("audit_capture_AuditEntries", triggers.Keys);
        foreach (var sql in triggers.Values)
        {
            AssertParses(sql);
            Assert.Contains("AFTER INSERT, UPDATE, DELETE", sql);
        }

        var customers = triggers["audit_capture_Customers"];
        Assert.Contains("[dbo].[Customers]", customers);
        Assert.DoesNotContain("[LastViewedAt]", customers); // ignored: neither captured nor compared
        Assert.Contains("CASE WHEN i.[TaxId] IS NULL THEN NULL", customers); // redacted inside the trigger
        Assert.DoesNotContain("i.[TaxId] AS", customers.Replace("i.[TaxId] IS", "")); // never the raw value
        Assert.Contains("i.[Name] COLLATE Latin1_General_BIN2", customers); // a change of case is a change
        Assert.Contains("LOWER(CONVERT(varchar(max), i.[ContentHash], 2))", triggers["audit_capture_Documents"]); // binary as hex, as on SQLite
        Assert.Contains("i.[AccountId] = d.[AccountId] AND i.[CustomerId] = d.[CustomerId]", triggers["audit_capture_AccountSignatories"]); // composite key pairs rows
        Assert.Equal(mode == AuditValueMode.ChangedOnly, customers.Contains("SUBSTRING(f.[o0], 2, LEN(f.[o0]) - 2)")); // only changed columns kept
    }

    [Fact]
    public void The_rollup_statements_parse()
    {
        var statements = Rollups.AuditRollups.CountStatements(sqlServer: true).ToList();
        Assert.True(statements.Count >= 7, "hourly, per-actor hourly and daily rows, peaks, three kinds of firsts");
        foreach (var statement in statements)
        {
            AssertParses(statement.Replace("{0}", "@p0").Replace("{1}", "@p1"));
        }

        AssertParses(Rollups.AuditRollups.PeaksBackfill(sqlServer: true));
        foreach (var statement in Rollups.AuditRollups.BackfillStatements(sqlServer: true))
        {
            AssertParses(statement);
        }
    }

    [Theory]
    [InlineData("dbo")]
    [InlineData("audit")]
    public void The_sealer_statements_parse_and_are_qualified_with_the_stores_schema(string schema)
    {
        var sql = SqlServerAuditSealer.For(schema);
        foreach (var statement in new[] { sql.Own, sql.OutOfBand, sql.TakeOwn, sql.Insert, SqlServerAuditSql.ListTriggers })
        {
            AssertParses(statement);
        }

        foreach (var statement in new[] { sql.Own, sql.OutOfBand, sql.TakeOwn, sql.Insert })
        {
            // Every reference to the store names its schema: a runtime user whose default schema is another still finds it.
            var unqualified = System.Text.RegularExpressions.Regex.Matches(statement, @"(?<!\]\.)\[(AuditEntries|AuditPending)\]");
            Assert.True(unqualified.Count == 0, statement);
            Assert.Contains($"[{schema}].[Audit", statement);
        }

        // An app transaction seals only its own rows; the background sealer takes the others, a bounded batch at a time.
        Assert.Contains("WHERE [TxId] = CURRENT_TRANSACTION_ID()", sql.Own);
        Assert.DoesNotContain("READPAST", sql.Own);
        Assert.Contains("SELECT TOP (@batch)", sql.OutOfBand);
        Assert.Contains("WITH (READPAST, ROWLOCK) ORDER BY [Id]", sql.OutOfBand);
        foreach (var statement in new[] { sql.Own, sql.OutOfBand, sql.Insert })
        {
            // Whatever the writer's level: the head is the newest, and the gap guard the insert fires sees the newest entry.
            Assert.StartsWith("SET TRANSACTION ISOLATION LEVEL READ COMMITTED;", statement);
        }

        foreach (var locked in new[] { sql.Own, sql.OutOfBand })
        {
            Assert.Contains($"@DbPrincipal = N'{SqlServerAuditSql.ChainLockRole}'", locked); // a reporting login cannot hold the lock
            Assert.Contains("@LockTimeout = @lockTimeout", locked);
            Assert.Contains("SELECT SYSUTCDATETIME();", locked); // one clock: the server's, under the lock
        }

        Assert.Contains("FROM OPENJSON(@rows) WITH (", sql.Insert); // one statement text whatever the count: one plan
    }

    [Theory]
    [InlineData(30, 25_000)]
    [InlineData(5, 2_500)]
    [InlineData(120, 30_000)]
    [InlineData(0, 30_000)]
    public void The_chain_lock_is_waited_for_less_than_the_command_timeout(int commandTimeout, int expectedMs)
    {
        Assert.Equal(expectedMs, SqlServerAuditSealer.LockTimeoutMs(commandTimeout));
        Assert.True(commandTimeout == 0 || expectedMs < commandTimeout * 1000);
    }

    [Fact]
    public void The_purges_delete_batch_statements_parse_as_t_sql()
    {
        var where = ComplianceConsole.Data.Retention.RetentionPurger.RemovableWhere(sqlServer: true, 100, 2099, [150, 151]);
        AssertParses($"DELETE FROM [AuditEntries] WHERE {where}");
        foreach (var statement in ComplianceConsole.Data.Rollups.AuditRollups.SubtractStatements(sqlServer: true, where)
                     .Concat(ComplianceConsole.Data.Rollups.AuditRollups.RefreshFirstsStatements(sqlServer: true).Select(s => s.Replace("{0}", "N'olivia'")))
                     .Concat(ComplianceConsole.Data.Queries.AuditTextIndex.ForgetStatements(sqlServer: true, where)))
        {
            AssertParses(statement);
        }
    }

    [Fact]
    public void The_store_guards_parse_and_refuse_every_rewrite()
    {
        var guards = SqlServerAuditSql.Guards;
        Assert.Equal(["audit_entries_ranges_refuse_change", "audit_entries_refuse_delete", "audit_entries_refuse_out_of_sequence", "audit_entries_refuse_update"], guards.Keys.Order(StringComparer.Ordinal));
        foreach (var sql in guards.Values)
        {
            AssertParses(sql);
        }

        Assert.Contains("INSTEAD OF UPDATE", guards["audit_entries_refuse_update"]); // a MERGE's update path too
        Assert.Contains("@last - @first + 1 <> @count", guards["audit_entries_refuse_out_of_sequence"]); // a block, gap-free
        Assert.Contains("[Seq] > @last", guards["audit_entries_refuse_out_of_sequence"]); // never below the head
        Assert.Contains("INSTEAD OF DELETE", guards["audit_entries_refuse_delete"]);
        Assert.Contains($"N'{AuditEventNames.RetentionPurged}'", guards["audit_entries_refuse_delete"]); // only with an anchor after it
        Assert.Contains("[AuditRemovedRanges]", guards["audit_entries_refuse_delete"]); // only inside a removed range
        Assert.Contains("INSTEAD OF UPDATE, DELETE", guards["audit_entries_ranges_refuse_change"]);
    }

    [Fact]
    public void A_capture_trigger_names_its_owner_and_pairs_merge_rows_by_key()
    {
        var policy = ConsolePolicy(new AuditOptions());
        var (_, sql) = SqlServerAuditSql.CaptureTrigger(policy.Find("Tags")!, AuditValueMode.ChangedOnly, "BillingContext");
        Assert.Equal("BillingContext", SqliteAuditSql.OwnerOf(sql));
        // A MERGE (or an INSERT under IGNORE_DUP_KEY, whose ignored rows never reach "inserted") is recorded per key:
        // rows in both inserted and deleted are updates, in one only are inserts or deletes.
        Assert.Contains("FROM inserted AS i JOIN deleted AS d ON i.[Id] = d.[Id]", sql);
        Assert.Contains("FROM inserted AS i WHERE NOT EXISTS (SELECT 1 FROM deleted AS d WHERE i.[Id] = d.[Id])", sql);
        Assert.Contains("FROM deleted AS d WHERE NOT EXISTS (SELECT 1 FROM inserted AS i WHERE i.[Id] = d.[Id])", sql);
    }

    [Fact]
    public void The_model_tells_ef_that_audited_tables_have_triggers()
    {
        using var db = new SqlServerDesignTimeFactory().CreateDbContext([]);
        var customer = db.Model.FindEntityType(typeof(Domain.Customer))!;
        Assert.False(customer.IsSqlOutputClauseUsed()); // EF's bare OUTPUT clause fails on a table with triggers
        Assert.True(db.Model.FindEntityType(typeof(AuditEntry))!.IsSqlOutputClauseUsed());
    }
}
