using System.Security.Cryptography;
using ComplianceConsole.Core.Auditing;
using ComplianceConsole.Core.Chain;
using ComplianceConsole.Core.Export;
using ComplianceConsole.Core.Query;
using ComplianceConsole.Data.Archive;
using ComplianceConsole.Data.Capture;
using ComplianceConsole.Data.Domain;
using ComplianceConsole.Data.Queries;
using Microsoft.EntityFrameworkCore;

namespace ComplianceConsole.Data.Tests.Archive;

/// <summary>An export end to end: the search's entries in the file, the signed manifest beside it, and the chain's record of it (or of its cancel or failure).</summary>
public sealed class AuditExporterTests : IAsyncLifetime
{
    private readonly DirectoryInfo _folder = Directory.CreateTempSubdirectory("cc-exporter-");
    private SqliteTestDatabase _store = null!;
    private CheckpointKey _key = null!;

    public async Task InitializeAsync()
    {
        _store = await SqliteTestDatabase.CreateAsync();
        _key = CheckpointKey.LoadOrCreate(Path.Combine(_folder.FullName, "key.pem"));
        await using var db = _store.Audited();
        db.Tags.AddRange(Enumerable.Range(0, 30).Select(i => new Tag { Name = $"tag {i}" }));
        await db.SaveChangesAsync();
        await db.Tags.Where(t => t.Name.EndsWith('7')).ExecuteDeleteAsync();
    }

    public async Task DisposeAsync()
    {
        _key.Dispose();
        await _store.DisposeAsync();
        _folder.Delete(recursive: true);
    }

    private static AuditSearch Search(string query) => new(QueryParser.Parse(query).Query, TimeRange.All);

    private static async Task<List<AuditEntry>> EventsAsync(ConsoleDbContext db, string name) =>
        await db.AuditEntries.AsNoTracking().Where(e => e.EventName == name).ToListAsync();

    [Fact]
    public async Task An_export_writes_the_searchs_entries_a_signed_manifest_and_records_its_hash_in_the_chain()
    {
        var exporter = new AuditExporter(new AuditSearchService(new AuditVocabulary(), TimeProvider.System));
        var path = Path.Combine(_folder.FullName, "deletes.csv");
        ExportResult result;
        await using (var db = _store.Audited(new AuditContext(new AuditActor("u-olivia", "olivia@example.test", ["ComplianceOfficer"]), "page:/audit", "corr-export")))
        {
            result = await exporter.RunAsync(db, Search("op:delete table:Tags"), AuditFileOptions.Default(ExportFormat.Csv), path, _key, "olivia@example.test");
        }

        var manifest = result.Manifest;
        Assert.Equal(3, manifest.Rows); // tag 7, tag 17, tag 27
        Assert.True(manifest.VerifiesWith(_key.PublicKey));
        Assert.False((manifest with { Rows = 4 }).VerifiesWith(_key.PublicKey));
        Assert.Equal(Convert.ToHexStringLower(SHA256.HashData(await File.ReadAllBytesAsync(path))), manifest.Sha256);
        Assert.True(ExportManifest.TryParse(await File.ReadAllTextAsync(result.ManifestPath), out var read, out _));
        Assert.Equal(manifest.Hash(), read.Hash());
        Assert.Equal("op:delete table:Tags", manifest.Query);
        Assert.Contains("take one leading '", manifest.Neutralisation);

        await using var check = _store.Unaudited();
        var deletes = await check.AuditEntries.Where(e => e.Operation == AuditOperations.Delete).OrderBy(e => e.Seq).ToListAsync();
        Assert.Equal((deletes[0].Seq, deletes[^1].Seq, deletes[0].RowHash, deletes[^1].RowHash), (manifest.FirstSeq, manifest.LastSeq, manifest.FirstRowHash, manifest.LastRowHash));
        var exported = Assert.Single(await EventsAsync(check, AuditEventNames.AuditExported));
        Assert.Equal("olivia@example.test", exported.ActorName);
        var details = EventSummary.Metadata(exported.Metadata);
        Assert.Equal((manifest.Hash(), manifest.Sha256, "3", "csv"), (details["manifest"], details["sha256"], details["rows"], details["format"]));
    }

    [Fact]
    public async Task A_cancelled_or_failed_export_offers_no_file_and_the_chain_says_so()
    {
        var exporter = new AuditExporter(new AuditSearchService(new AuditVocabulary(), TimeProvider.System));
        var path = Path.Combine(_folder.FullName, "all.xlsx");
        using var cancel = new CancellationTokenSource();
        await cancel.CancelAsync();
        await using (var db = _store.Audited())
        {
            await Assert.ThrowsAnyAsync<OperationCanceledException>(() => exporter.RunAsync(db, Search(""), AuditFileOptions.Default(ExportFormat.Xlsx), path, _key, "alice@example.test", cancellationToken: cancel.Token));
            var unwritable = Path.Combine(_folder.FullName, "no-such-folder", "all.csv");
            await Assert.ThrowsAnyAsync<IOException>(() => exporter.RunAsync(db, Search(""), AuditFileOptions.Default(ExportFormat.Csv), unwritable, _key, "alice@example.test"));
        }

        Assert.Empty(_folder.GetFiles("all*"));
        await using var check = _store.Unaudited();
        Assert.Single(await EventsAsync(check, AuditEventNames.ExportCancelled));
        var failed = Assert.Single(await EventsAsync(check, AuditEventNames.ExportFailed));
        Assert.Contains("no-such-folder", EventSummary.Metadata(failed.Metadata)["reason"]);
        Assert.Empty(await EventsAsync(check, AuditEventNames.AuditExported));
    }
}
