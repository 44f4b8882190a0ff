using System.Data;
using System.Text.Json;
using ComplianceConsole.Core.Auditing;
using ComplianceConsole.Data.Capture;
using Microsoft.SqlServer.TransactSql.ScriptDom;

namespace ComplianceConsole.Data.Tests.SqlServerProof;

/// <summary>
/// The capture install on SQL Server, through the recording connection: the shapes the generator cannot handle are
/// refused with a message that says what to do, and the rest is installed; the install takes its lock before reading
/// anything; every trigger parses; and the triggers see every change SQLite sees.
/// </summary>
public sealed class SqlServerInstallTests
{
    private static void AssertParses(string sql)
    {
        new TSql160Parser(initialQuotedIdentifiers: true).Parse(new StringReader(sql), out var errors);
        Assert.True(errors.Count == 0, string.Join("\n", errors.Select(e => $"line {e.Line}: {e.Message}")) + "\n---\n" + sql);
    }

    /// <summary>
    /// A server's catalog as the install and the runtime check read it: the triggers it holds (name, table, disabled; their
    /// text hidden, as from a login without VIEW DEFINITION, or null for none), the policy events the chain recorded, and
    /// Sessions as a memory-optimized table. Other statements fall through to <see cref="Proof"/>'s defaults.
    /// </summary>
    private static Answer? Catalog(Recorded r, IEnumerable<(string Name, string Table, bool Disabled)> triggers, params string[] recordedPolicies)
    {
        if (r.Text == SqlServerAuditSql.ListTriggers)
        {
            var t = new DataTable();
            foreach (var (column, type) in new[] { ("name", typeof(string)), ("table", typeof(string)), ("definition", typeof(string)), ("schema", typeof(string)), ("is_disabled", typeof(bool)) })
            {
                t.Columns.Add(column, type);
            }

            foreach (var (name, table, disabled) in triggers)
            {
                t.Rows.Add(name, table, DBNull.Value, "dbo", disabled);
            }

            return Answer.Rows(t);
        }

        if (r.Text.Contains("[is_memory_optimized] = 1", StringComparison.Ordinal))
        {
            return Answer.Rows(Answer.Column("name", "Sessions"));
        }

        if (r.Text.Contains($"[EventName] = N'{AuditEventNames.CaptureChanged}'", StringComparison.Ordinal))
        {
            var t = new DataTable();
            t.Columns.Add("Seq", typeof(long));
            t.Columns.Add("OccurredAtUtc", typeof(DateTime));
            t.Columns.Add("Metadata", typeof(string));
            foreach (var metadata in recordedPolicies)
            {
                t.Rows.Add(9L, Proof.ServerNow, metadata);
            }

            return Answer.Rows(t);
        }

        return null;
    }

    /// <summary>A fresh database: no triggers yet, nothing recorded.</summary>
    private static Proof FreshServer() => new(r => Catalog(r, []))
    {
        // The install's own events go into AuditPending, to be sealed with the install.
        Trigger = r => r.Text.TrimStart().StartsWith("INSERT INTO [dbo].[AuditPending]", StringComparison.Ordinal)
            ? [new PendingRow(0, null, "event", null, null, null, EventName: (string)r.Parameter("@EventName").Value, Target: r.Parameter("@Target").Value as string, Metadata: r.Parameter("@Metadata").Value as string)]
            : [],
    };

    [Fact]
    public async Task The_install_refuses_what_it_cannot_capture_with_what_to_do_and_installs_the_rest()
    {
        var proof = FreshServer();
        AuditTriggerChanges changes;
        await using (var db = proof.OddShapes())
        {
            changes = await db.Database.InstallAuditCaptureAsync(new AuditOptions(), "Odd");
        }

        Assert.Contains(changes.Refused, r => r.Contains("LogLines has no primary key") && r.Contains("exclude it"));
        Assert.Contains(changes.Refused, r => r.Contains("Legacy.Body is ntext") && r.Contains("nvarchar(max)"));
        Assert.Contains(changes.Refused, r => r.StartsWith("Notes is a table name in the schemas", StringComparison.Ordinal) && r.Contains("hr") && r.Contains("sales"));
        Assert.Contains(changes.Refused, r => r.Contains("Sessions is a memory-optimized table"));
        Assert.Equal(5, changes.Refused.Count); // the two Notes tables, LogLines, Legacy, Sessions
        Assert.Equal(
            ["audit_capture_Composite", "audit_capture_Invoices", "audit_capture_Odd", "audit_capture_People", "audit_capture_PeopleDetails", "audit_capture_Prices"],
            changes.Created);

        // The refusals are in the chain too, with the policy event.
        var policyEvent = proof.Appended.Select(e => e.GetProperty("Metadata").GetString()).Single(m => m is not null && m.Contains("\"owner\":\"Odd\"", StringComparison.Ordinal));
        var refused = JsonSerializer.Deserialize<Dictionary<string, string>>(policyEvent!)!["refused"];
        Assert.Contains("LogLines has no primary key", refused);
    }

    [Fact]
    public async Task Two_nodes_installing_at_once_wait_for_the_install_lock_before_reading_anything()
    {
        var proof = FreshServer();
        await using (var db = proof.OddShapes())
        {
            await db.Database.InstallAuditCaptureAsync(new AuditOptions(), "Odd");
        }

        var texts = proof.Connection.Texts;
        Assert.Equal("#BEGIN", texts[0]);
        Assert.Contains($"sp_getapplock @Resource = N'{AuditTriggerInstaller.InstallLock}'", texts[1]);
        Assert.True(texts.ToList().IndexOf(SqlServerAuditSql.ListTriggers) > 1); // the trigger list is read under the lock
        Assert.Equal("#COMMIT", texts[^1]);
    }

    [Fact]
    public async Task Every_trigger_the_install_creates_parses_and_writes_to_the_stores_schema()
    {
        var proof = FreshServer();
        await using (var db = proof.OddShapes())
        {
            await db.Database.InstallAuditCaptureAsync(new AuditOptions(), "Odd");
        }

        var creates = proof.Connection.Texts.Where(t => t.StartsWith("CREATE TRIGGER", StringComparison.Ordinal)).ToList();
        Assert.Equal(4 + 6, creates.Count); // the store's four guards, six capture triggers
        foreach (var sql in creates)
        {
            AssertParses(sql);
        }

        var invoices = creates.Single(c => c.Contains("[audit_capture_Invoices]", StringComparison.Ordinal));
        Assert.StartsWith("CREATE TRIGGER [sales].[audit_capture_Invoices] ON [sales].[Invoices]", invoices);
        Assert.Contains("INSERT INTO [dbo].[AuditPending]", invoices); // the store's schema, not the table's: no error 208
        Assert.DoesNotContain("[sales].[AuditPending]", invoices);
        Assert.DoesNotContain("[Version]", invoices); // a rowversion changes on every update: never compared
        Assert.Contains("DATEPART(TZOFFSET, d.[Offset])", invoices); // an offset-only change is a change
        Assert.Contains("i.[Number] COLLATE Latin1_General_BIN2, DATALENGTH(i.[Number])", invoices); // 'pep' -> 'pep ' is a change

        var prices = creates.Single(c => c.Contains("[audit_capture_Prices]", StringComparison.Ordinal));
        Assert.DoesNotContain("[PeriodStart]", prices); // temporal period columns change on every update
        Assert.DoesNotContain("[PeriodEnd]", prices);

        var odd = creates.Single(c => c.Contains("[audit_capture_Odd]", StringComparison.Ordinal));
        Assert.Contains("CONVERT(nvarchar(max), i.[Doc]) COLLATE Latin1_General_BIN2", odd); // xml cannot be compared: its text is

        var composite = creates.Single(c => c.Contains("[audit_capture_Composite]", StringComparison.Ordinal));
        Assert.Contains($"DATALENGTH(k.v) / 2 <= {AuditFieldLimits.RecordKey}", composite); // a long key is cut, never failing the write
        Assert.Contains("HASHBYTES('SHA2_256', k.v)", composite);

        // Entity splitting: each table is captured as itself.
        Assert.Contains(creates, c => c.Contains("ON [dbo].[PeopleDetails]", StringComparison.Ordinal) && c.Contains("[Biography]", StringComparison.Ordinal));
    }

    [Fact]
    public async Task The_runtime_check_reads_only_and_says_what_is_missing_disabled_or_not_granted()
    {
        // The deploy step installed everything; since then a trigger was dropped and another disabled, the text of each
        // is hidden (no VIEW DEFINITION), and the login lacks a grant and the role, while holding ALTER.
        var first = FreshServer();
        await using (var db = first.OddShapes())
        {
            await db.Database.InstallAuditCaptureAsync(new AuditOptions(), "Odd");
        }

        var policyMetadata = first.Appended.Select(e => e.GetProperty("Metadata").GetString()).Single(m => m is not null && m.Contains("\"owner\":\"Odd\"", StringComparison.Ordinal))!;
        var created = first.Connection.Texts.Where(t => t.StartsWith("CREATE TRIGGER", StringComparison.Ordinal))
            .Select(t => System.Text.RegularExpressions.Regex.Match(t, @"CREATE TRIGGER \[\w+\]\.\[(\w+)\] ON \[\w+\]\.\[(\w+)\]")).Select(m => (Name: m.Groups[1].Value, Table: m.Groups[2].Value)).ToList();
        var proof = new Proof(r =>
        {
            if (Catalog(r, created.Where(c => c.Name != "audit_capture_Prices").Select(c => (c.Name, c.Table, c.Name == "audit_capture_Odd")), policyMetadata) is { } catalog)
            {
                return catalog;
            }

            if (r.Text.Contains("HAS_PERMS_BY_NAME(v.[o]", StringComparison.Ordinal))
            {
                var perms = new DataTable();
                perms.Columns.Add("o", typeof(string));
                perms.Columns.Add("p", typeof(string));
                perms.Columns.Add("has", typeof(int));
                perms.Rows.Add("[dbo].[AuditEntries]", "INSERT", 1);
                perms.Rows.Add("[dbo].[Composite]", "DELETE", 0);
                var role = new DataTable();
                role.Columns.Add("member", typeof(int));
                role.Columns.Add("alter", typeof(int));
                role.Columns.Add("delete", typeof(int));
                role.Rows.Add(0, 1, 0); // a writer: it may not delete entries
                return Answer.Rows(perms, role);
            }

            return null;
        });

        AuditCaptureCheck check;
        await using (var db = proof.OddShapes())
        {
            check = await AuditCaptureChecker.CheckAsync(db.Database, new AuditOptions(), "Odd", purgesHere: true);
        }

        Assert.DoesNotContain(proof.Connection.Log, r => r.Text.StartsWith('#')); // no transaction: nothing written
        Assert.DoesNotContain(proof.Connection.Texts, t => t.Contains("CREATE ", StringComparison.Ordinal) || t.Contains("INSERT ", StringComparison.Ordinal) || t.Contains("ALTER ", StringComparison.Ordinal));
        Assert.Contains(check.Problems, p => p.StartsWith("trigger audit_capture_Prices is missing", StringComparison.Ordinal) && p.Contains("install-capture"));
        Assert.Contains(check.Problems, p => p.StartsWith("trigger audit_capture_Odd is disabled", StringComparison.Ordinal));
        Assert.Contains(check.Problems, p => p.StartsWith("not captured: Table LogLines has no primary key", StringComparison.Ordinal));
        Assert.Contains(check.Problems, p => p.Contains("lacks DELETE on [dbo].[Composite]") && p.Contains(SqlServerAuditSql.WriterRole));
        Assert.Contains(check.Problems, p => p.Contains("cannot take the audit chain lock"));
        Assert.DoesNotContain(check.Problems, p => p.Contains("not the one the chain recorded")); // the policy is the recorded one
        Assert.Contains(check.Notes, n => n.Contains("holds ALTER on the audit store"));
        Assert.Contains(check.Notes, n => n.Contains("runs the retention purge") && n.Contains(SqlServerAuditSql.PurgerRole) && n.Contains("Retention:RunsHere to false"));

        // A policy changed in configuration since the deploy is seen without reading any trigger text.
        await using (var db = proof.OddShapes())
        {
            var changed = await AuditCaptureChecker.CheckAsync(db.Database, new AuditOptions { Mode = AuditValueMode.FullRecord }, "Odd");
            Assert.Contains(changed.Problems, p => p.Contains("not the one the chain recorded as installed for Odd"));
            Assert.DoesNotContain(changed.Notes, n => n.Contains("runs the retention purge")); // a node that does not purge needs no delete
        }
    }

    [Theory]
    [InlineData("geography")]
    [InlineData("geometry")]
    [InlineData("hierarchyid")]
    [InlineData("sql_variant")]
    public void Types_that_cannot_be_compared_or_serialized_as_they_are_are_captured_through_their_text_or_bytes(string type)
    {
        // EF maps these only through provider plug-ins, so the plan is built by hand, as the resolver would.
        var plan = new Core.Auditing.TableCapturePlan("Places", null, ["Id"],
            [new("Id", ColumnTreatment.Capture, false, "key", StoreType: "int"), new("Shape", ColumnTreatment.Capture, false, "default", StoreType: type)]);
        var (_, sql) = SqlServerAuditSql.CaptureTrigger(plan, AuditValueMode.ChangedOnly, "Odd");
        AssertParses(sql);
        if (type == "sql_variant")
        {
            Assert.Contains("SQL_VARIANT_PROPERTY(i.[Shape], 'BaseType')", sql); // 1 and '1' differ
            Assert.Contains("CONVERT(nvarchar(max), i.[Shape])", sql);
        }
        else
        {
            Assert.Contains("CONVERT(varbinary(max), i.[Shape])", sql); // compared by their bytes
            Assert.Contains("i.[Shape].ToString()", sql); // FOR JSON cannot serialize a CLR type: its text goes in
        }
    }

    [Theory]
    [InlineData("text", "nvarchar(max)")]
    [InlineData("ntext", "nvarchar(max)")]
    [InlineData("image", "varbinary(max)")]
    public void Legacy_large_types_are_refused_with_what_to_convert_them_to(string type, string instead)
    {
        var plan = new Core.Auditing.TableCapturePlan("Old", null, ["Id"],
            [new("Id", ColumnTreatment.Capture, false, "key", StoreType: "int"), new("Body", ColumnTreatment.Capture, false, "default", StoreType: type)]);
        var refused = Assert.Throws<NotSupportedException>(() => SqlServerAuditSql.CaptureTrigger(plan, AuditValueMode.ChangedOnly, "Odd"));
        Assert.Contains($"Old.Body is {type}", refused.Message);
        Assert.Contains(instead, refused.Message);
    }

    [Fact]
    public void A_value_too_long_for_its_column_is_cut_to_fit_with_the_hash_of_the_whole_value()
    {
        var key = "{\"Region\":\"" + new string('r', 300) + "\",\"Code\":\"" + new string('c', 300) + "\"}";
        var cut = AuditFieldLimits.Fit(key, AuditFieldLimits.RecordKey)!;
        Assert.Equal(AuditFieldLimits.RecordKey, cut.Length);
        Assert.StartsWith(key[..378], cut);
        var hash = Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.Unicode.GetBytes(key)))[..12];
        Assert.EndsWith($"…[sha256:{hash}]", cut); // the bytes SQL Server's HASHBYTES reads from an nvarchar
        Assert.NotEqual(cut, AuditFieldLimits.Fit(key.Replace("ccc\"}", "ccd\"}"), AuditFieldLimits.RecordKey)); // two long keys stay two
        Assert.Equal("short", AuditFieldLimits.Fit("short", AuditFieldLimits.RecordKey));
    }
}
