using System.Diagnostics;
using ComplianceConsole.Core.Auditing;
using ComplianceConsole.Data.Capture;
using ComplianceConsole.Data.Domain;
using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Infrastructure;
using Microsoft.EntityFrameworkCore.Migrations;

namespace ComplianceConsole.Data.Tests;

/// <summary>The store's guarantees, run on each provider; SQLite's own in <see cref="SqliteStoreIntegrityTests"/>.</summary>
public abstract class StoreIntegrityTests
{
    protected abstract Task<TestDatabase> CreateStoreAsync();

    [ProviderFact]
    public async Task The_database_refuses_to_update_or_delete_audit_entries()
    {
        await using var store = await CreateStoreAsync();
        await using (var db = store.Audited())
        {
            db.Tags.Add(new Tag { Name = "t" });
            await db.SaveChangesAsync();
        }

        var update = await Assert.ThrowsAnyAsync<System.Data.Common.DbException>(() => store.ExecuteRawAsync("UPDATE AuditEntries SET ActorName = 'someone else'"));
        Assert.Contains("append-only", update.Message);
        var delete = await Assert.ThrowsAnyAsync<System.Data.Common.DbException>(() => store.ExecuteRawAsync("DELETE FROM AuditEntries"));
        Assert.Contains("append-only", delete.Message);
        Assert.Equal(3, (await store.AllEntriesAsync()).Count); // two install events and the insert
    }

    [ProviderFact]
    public async Task The_app_refuses_to_modify_or_delete_audit_entries()
    {
        await using var store = await CreateStoreAsync();
        await using var db = store.Audited();
        var entry = await db.AuditEntries.FirstAsync();
        db.AuditEntries.Remove(entry);
        var error = await Assert.ThrowsAsync<InvalidOperationException>(() => db.SaveChangesAsync());
        Assert.Contains("append-only", error.Message);
        await Assert.ThrowsAnyAsync<System.Data.Common.DbException>(() => db.AuditEntries.ExecuteDeleteAsync());
        Assert.Equal(2, (await store.AllEntriesAsync()).Count); // the two install events
    }

    [ProviderFact]
    public async Task The_chain_verifies_after_every_kind_of_write_and_names_an_edited_entry()
    {
        await using var store = await CreateStoreAsync();
        await using (var db = store.Audited())
        {
            for (var i = 0; i < 20; i++)
            {
                db.Tags.Add(new Tag { Name = $"t{i}" });
            }

            await db.SaveChangesAsync();
            await db.Tags.Where(t => t.Id % 2 == 0).ExecuteUpdateAsync(s => s.SetProperty(t => t.Name, t => t.Name + "!"));
            await db.Tags.Where(t => t.Id > 15).ExecuteDeleteAsync();
            await db.Database.RecordAuditEventAsync(new AuditEventRequest("test.checked"));
        }

        await store.ExecuteRawAsync("INSERT INTO Tags (Name) VALUES ('oob')");
        await using (var db = store.Unaudited())
        {
            await db.Database.SealOutOfBandAsync();
            var report = await db.VerifyAuditChainAsync();
            Assert.True(report.IsValid, report.Describe());
            Assert.Equal(2 + 20 + 10 + 5 + 1 + 1, report.Chain.EntriesChecked); // install events, inserts, even ids renamed, ids 16-20 deleted, event, out-of-band
        }

        // An attacker with file access drops the guard and edits one value.
        await store.DropUpdateGuardAsync();
        await store.ExecuteRawAsync("UPDATE AuditEntries SET NewValues = replace(NewValues, 't7', 'tX') WHERE Seq = 10");
        await using (var db = store.Unaudited())
        {
            var report = await db.VerifyAuditChainAsync();
            Assert.False(report.IsValid);
            Assert.Equal(10, report.Chain.FirstBrokenSeq);
            Assert.Contains("edited", report.Describe());
        }
    }

    [ProviderFact]
    public async Task Concurrent_circuits_are_each_attributed_to_their_own_user()
    {
        await using var store = await CreateStoreAsync();
        var users = Enumerable.Range(0, 6).Select(i => new AuditContext(new AuditActor($"user-{i}", $"user{i}@example.test", ["Operator"]), $"page:/u{i}", $"c{i}")).ToList();
        await Task.WhenAll(users.Select(user => Task.Run(async () =>
        {
            // One accessor per circuit, as the web host registers it: scoped.
            var accessor = new AuditContextAccessor(user);
            for (var i = 0; i < 15; i++)
            {
                await using var db = store.Audited(accessor);
                db.Tags.Add(new Tag { Name = $"{user.Actor.Id}/{i}" });
                await db.SaveChangesAsync();
            }
        })));

        var entries = await store.ChangesAsync("Tags");
        Assert.Equal(90, entries.Count);
        Assert.All(entries, e => Assert.StartsWith(e.ActorId + "/", System.Text.Json.JsonDocument.Parse(e.NewValues!).RootElement.GetProperty("Name").GetString()));
        await using var check = store.Unaudited();
        Assert.True((await check.VerifyAuditChainAsync()).IsValid);
    }
}

[RequiresSqlServer]
public sealed class SqlServerStoreIntegrityTests : StoreIntegrityTests
{
    protected override async Task<TestDatabase> CreateStoreAsync() => await SqlServerTestDatabase.CreateAsync();
}

public sealed class SqliteStoreIntegrityTests : StoreIntegrityTests
{
    protected override async Task<TestDatabase> CreateStoreAsync() => await SqliteTestDatabase.CreateAsync();

    [Fact]
    public async Task Concurrent_writers_from_two_processes_produce_exact_counts_and_a_valid_chain()
    {
        await using var store = await SqliteTestDatabase.CreateAsync();
        var writer = Path.Combine(AppContext.BaseDirectory.Replace("Console.Data.Tests", "Console.ConcurrentWriter"), "ComplianceConsole.ConcurrentWriter.dll");
        Assert.True(File.Exists(writer), $"The writer process was not built at {writer}.");
        const int writes = 60;
        var processes = new[] { "proc-a", "proc-b" }.Select(actor => Process.Start(new ProcessStartInfo("dotnet", ["exec", writer, store.FilePath, writes.ToString(), actor])
        {
            RedirectStandardError = true,
            RedirectStandardOutput = true,
        })!).ToList();
        foreach (var process in processes)
        {
            var stderr = await process.StandardError.ReadToEndAsync();
            await process.WaitForExitAsync();
            Assert.True(process.ExitCode == 0, stderr);
        }

        var entries = await store.ChangesAsync("Customers");
        Assert.Equal(writes, entries.Count(e => e.ActorId == "proc-a"));
        Assert.Equal(writes, entries.Count(e => e.ActorId == "proc-b"));
        Assert.Equal(2 * writes, entries.Select(e => e.RecordKey).Distinct().Count());
        var all = await store.AllEntriesAsync();
        Assert.Equal(Enumerable.Range(1, all.Count).Select(i => (long)i), all.Select(e => e.Seq));
        await using var check = store.Unaudited();
        var report = await check.VerifyAuditChainAsync();
        Assert.True(report.IsValid, report.Describe());
        Assert.Equal(2 * writes, await check.Customers.CountAsync());
    }

    [Fact]
    public async Task The_database_runs_in_wal_mode_with_full_synchronous_commits()
    {
        await using var store = await SqliteTestDatabase.CreateAsync();
        await using var connection = new SqliteConnection(store.Settings.ConnectionString);
        await connection.OpenAsync();
        await using var command = connection.CreateCommand();
        command.CommandText = "PRAGMA journal_mode; PRAGMA synchronous;";
        await using var reader = await command.ExecuteReaderAsync();
        await reader.ReadAsync();
        Assert.Equal("wal", reader.GetString(0));
        await reader.NextResultAsync();
        await reader.ReadAsync();
        Assert.Equal(2, reader.GetInt32(0)); // 2 = FULL
    }
}
