using System.Text.Json;
using ComplianceConsole.Core.Auditing;
using ComplianceConsole.Data.Capture;
using ComplianceConsole.Data.Domain;
using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore;

namespace ComplianceConsole.Data.Tests;

/// <summary>
/// Someone with database access removes a capture trigger, defuses a guard, or adds a trigger of their own on the
/// store. The next install (the console's start-up) restores them, and says so in the chain: a tamper signal.
/// </summary>
public sealed class TamperTests
{
    private const string Owner = "ComplianceConsole";

    private static async Task<AuditTriggerChanges> InstallAsync(SqliteTestDatabase store)
    {
        await using var db = store.Unaudited();
        return await db.Database.InstallAuditCaptureAsync(new AuditOptions(), Owner);
    }

    private static async Task<List<InstalledTrigger>> InstalledAsync(SqliteTestDatabase store)
    {
        await using var connection = new SqliteConnection(store.Settings.ConnectionString);
        await connection.OpenAsync();
        return await AuditTriggerState.ReadInstalledAsync(connection, null, CancellationToken.None);
    }

    private static async Task<List<TriggerProblem>> CompareAsync(SqliteTestDatabase store)
    {
        await using var connection = new SqliteConnection(store.Settings.ConnectionString);
        await connection.OpenAsync();
        var installed = await AuditTriggerState.ReadInstalledAsync(connection, null, CancellationToken.None);
        var recorded = await AuditTriggerState.ReadRecordedAsync(connection, null, CancellationToken.None);
        return AuditTriggerState.Compare(installed, recorded, SqliteAuditSql.Guards.Keys);
    }

    private static async Task AddTagAsync(SqliteTestDatabase store, string name)
    {
        await using var db = store.Audited();
        db.Tags.Add(new Tag { Name = name });
        await db.SaveChangesAsync();
    }

    private static string Describe(IEnumerable<AuditEntry> entries) =>
        string.Join(Environment.NewLine, entries.Select(e => $"{e.Seq} {e.Operation} {e.EventName} {e.TableName} {e.Metadata}"));

    private static string? Meta(AuditEntry e, string key) =>
        JsonDocument.Parse(e.Metadata!).RootElement.TryGetProperty(key, out var v) ? v.GetString() : null;

    [Fact]
    public async Task A_dropped_capture_trigger_and_a_defused_guard_are_restored_and_recorded_as_tampering()
    {
        await using var store = await SqliteTestDatabase.CreateAsync();
        await AddTagAsync(store, "before");

        await store.ExecuteRawAsync("""
            DROP TRIGGER audit_capture_Tags_insert;
            DROP TRIGGER audit_entries_refuse_update;
            CREATE TRIGGER audit_entries_refuse_update BEFORE UPDATE ON AuditEntries BEGIN SELECT 1; END;
            """);
        var problems = await CompareAsync(store);
        Assert.Contains(problems, p => p is { Name: "audit_capture_Tags_insert", Kind: "missing" });
        Assert.Contains(problems, p => p is { Name: "audit_entries_refuse_update", Kind: "altered" });
        await AddTagAsync(store, "while-missing"); // not captured: that is the harm done

        var changes = await InstallAsync(store);

        Assert.Contains(changes.Restored, r => r.Contains("audit_capture_Tags_insert", StringComparison.Ordinal));
        Assert.Contains(changes.Restored, r => r.Contains("audit_entries_refuse_update", StringComparison.Ordinal));
        Assert.Empty(await CompareAsync(store));

        var all = await store.AllEntriesAsync();
        var restored = Assert.Single(all, e => e.EventName == AuditEventNames.CaptureRestored);
        var shown = Describe(all);
        var restoredText = Meta(restored, "restored") ?? "";
        Assert.True(restoredText.Contains("audit_capture_Tags_insert", StringComparison.Ordinal), shown);
        Assert.True(restoredText.Contains("audit_entries_refuse_update", StringComparison.Ordinal), shown);
        var since = Meta(restored, "since") ?? "";
        Assert.True(since.Contains("last change captured from Tags", StringComparison.Ordinal), shown);
        Assert.True(since.Contains("audit_entries_refuse_update: recorded as installed at seq", StringComparison.Ordinal), shown);
        Assert.Equal(Owner, Meta(restored, "owner"));

        // The guard refuses again, and a Tags insert is captured again.
        var error = await Assert.ThrowsAsync<SqliteException>(() => store.ExecuteRawAsync("UPDATE AuditEntries SET ActorName = 'mallory' WHERE Seq = 1"));
        Assert.Contains("append-only", error.Message, StringComparison.Ordinal);
        await AddTagAsync(store, "after");
        Assert.Equal(["before", "after"], (await store.ChangesAsync("Tags")).Where(e => e.Operation == AuditOperations.Insert)
            .Select(e => JsonDocument.Parse(e.NewValues!).RootElement.GetProperty("Name").GetString()));

        // Restored once: a second install finds nothing to restore and records nothing.
        var count = (await store.AllEntriesAsync()).Count;
        var again = await InstallAsync(store);
        Assert.Empty(again.Restored);
        Assert.False(again.Any);
        Assert.Equal(count, (await store.AllEntriesAsync()).Count);

        await using var check = store.Unaudited();
        var report = await check.VerifyAuditChainAsync();
        Assert.True(report.IsValid, report.Describe());
    }

    [Fact]
    public async Task The_console_start_up_restores_what_was_tampered_with()
    {
        await using var store = await SqliteTestDatabase.CreateAsync();
        await store.ExecuteRawAsync("DROP TRIGGER audit_capture_Tags_insert; DROP TRIGGER audit_entries_refuse_update;");

        await DatabaseInitializer.InitializeAsync(store.Settings, new AuditOptions());

        Assert.Empty(await CompareAsync(store));
        var restored = Assert.Single(await store.AllEntriesAsync(), e => e.EventName == AuditEventNames.CaptureRestored);
        Assert.Contains("audit_capture_Tags_insert", Meta(restored, "restored"), StringComparison.Ordinal);
        Assert.Contains("audit_entries_refuse_update", Meta(restored, "restored"), StringComparison.Ordinal);
        await Assert.ThrowsAsync<SqliteException>(() => store.ExecuteRawAsync("UPDATE AuditEntries SET ActorName = 'mallory' WHERE Seq = 1"));
    }

    [Fact]
    public async Task A_trigger_someone_added_on_the_pending_table_is_reported_unrecorded_and_removed_by_the_install()
    {
        await using var store = await SqliteTestDatabase.CreateAsync();
        await store.ExecuteRawAsync("CREATE TRIGGER evil AFTER INSERT ON AuditPending BEGIN UPDATE AuditPending SET NewValues = '{}' WHERE Id = NEW.Id; END");

        var problem = Assert.Single(await CompareAsync(store));
        Assert.Equal("evil", problem.Name);
        Assert.Equal("unrecorded", problem.Kind);
        Assert.Null(problem.Owner);

        await AddTagAsync(store, "rewritten"); // what the trigger does: the values are gone before they are sealed
        Assert.Equal("{}", Assert.Single(await store.ChangesAsync("Tags")).NewValues);

        var changes = await InstallAsync(store);
        Assert.Contains(changes.Restored, r => r.Contains("evil", StringComparison.Ordinal));
        Assert.DoesNotContain(await InstalledAsync(store), t => t.Name == "evil");
        Assert.Empty(await CompareAsync(store));
        var restored = Assert.Single(await store.AllEntriesAsync(), e => e.EventName == AuditEventNames.CaptureRestored);
        Assert.Contains("evil", Meta(restored, "restored"), StringComparison.Ordinal);

        await AddTagAsync(store, "kept");
        var insert = (await store.ChangesAsync("Tags")).Last();
        Assert.Equal("kept", JsonDocument.Parse(insert.NewValues!).RootElement.GetProperty("Name").GetString());

        var count = (await store.AllEntriesAsync()).Count;
        Assert.Empty((await InstallAsync(store)).Restored);
        Assert.Equal(count, (await store.AllEntriesAsync()).Count);
    }

    [Fact]
    public async Task A_trigger_on_an_audited_table_that_drops_captured_rows_is_reported_and_removed()
    {
        await using var store = await SqliteTestDatabase.CreateAsync();
        // Newer triggers fire first in SQLite: this one would delete every captured row of a Tags insert before it is sealed.
        await store.ExecuteRawAsync("CREATE TRIGGER sneaky AFTER INSERT ON Tags BEGIN DELETE FROM AuditPending; END");
        var problem = Assert.Single(await CompareAsync(store));
        Assert.Equal("sneaky", problem.Name);
        Assert.Equal("unrecorded", problem.Kind);
        await using (var db = store.Unaudited())
        {
            var report = await db.VerifyAuditChainAsync();
            Assert.False(report.IsValid);
            Assert.Contains("sneaky", report.Describe());
        }

        var changes = await InstallAsync(store);
        Assert.Contains(changes.Restored, r => r.Contains("sneaky", StringComparison.Ordinal));
        Assert.DoesNotContain(await InstalledAsync(store), t => t.Name == "sneaky");
        await AddTagAsync(store, "after-repair");
        Assert.Single(await store.ChangesAsync("Tags"));
    }
}
