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

    private AuditExporter Exporter() => new(new AuditSearchService(new AuditVocabulary(), TimeProvider.System));

    [Theory]
    [InlineData("csv", "", "Full")]
    [InlineData("csv", "table:Tags op:delete", "ChangedOnly")]
    [InlineData("xlsx", "", "ChangedOnly")]
    [InlineData("xlsx", "op:insert", "Full")]
    public async Task Each_row_of_an_export_verifies_against_its_canonical_form_in_both_formats(string format, string query, string values)
    {
        await using (var db = _store.Audited())
        {
            var tag = await db.Tags.OrderBy(t => t.Id).FirstAsync();
            tag.Name = "=renamed, \"quoted\"\nline"; // an update, a formula-like value, quotes and a newline
            await db.SaveChangesAsync();
        }

        var path = Path.Combine(_folder.FullName, $"rows.{format}");
        var options = AuditFileOptions.Default(format == "csv" ? ExportFormat.Csv : ExportFormat.Xlsx) with
        {
            Zone = TimeZoneInfo.FindSystemTimeZoneById("Asia/Kolkata"), Values = Enum.Parse<ExportValues>(values),
        };
        ExportResult result;
        await using (var db = _store.Audited())
        {
            result = await Exporter().RunAsync(db, Search(query), options, path, _key, "olivia@example.test");
        }

        var verification = await ExportVerifier.VerifyAsync(path, result.Manifest, _key.PublicKey);
        Assert.True(verification.IsValid, string.Join("\n", verification.Problems));
        Assert.True(result.Manifest.Rows > 2);
        Assert.Equal((result.Manifest.Rows, 0L), (verification.RowsChecked, verification.RowsUnchecked));
    }

    [Fact]
    public async Task A_row_altered_and_re_signed_by_someone_with_the_key_is_caught_by_its_canonical_form()
    {
        var path = Path.Combine(_folder.FullName, "tags.csv");
        ExportResult result;
        await using (var db = _store.Audited(new AuditContext(new AuditActor("u-olivia", "olivia@example.test", ["ComplianceOfficer"]), "page:/audit", "corr-export")))
        {
            result = await Exporter().RunAsync(db, Search("table:Tags"), AuditFileOptions.Default(ExportFormat.Csv), path, _key, "olivia@example.test");
        }

        var original = await File.ReadAllTextAsync(path);
        async Task<ExportVerification> AlteredAsync(Func<string, string> edit)
        {
            await File.WriteAllTextAsync(path, edit(original), new System.Text.UTF8Encoding(true));
            var bytes = await File.ReadAllBytesAsync(path);
            var resigned = (result.Manifest with { Sha256 = Convert.ToHexStringLower(SHA256.HashData(bytes)), Bytes = bytes.Length }).SignWith(_key);
            return await ExportVerifier.VerifyAsync(path, resigned, _key.PublicKey);
        }

        // A shown value changed, the canonical form left alone: the cell no longer says what the hashed form says.
        var shown = await AlteredAsync(text => ReplaceFirst(text, "{\"\"Id\"\":12,\"\"Name\"\":\"\"tag 11\"\"}", "{\"\"Id\"\":12,\"\"Name\"\":\"\"tag 99\"\"}"));
        Assert.True(shown.Problems.Any(p => p.Contains("does not say what its canonical form says", StringComparison.Ordinal)), string.Join("\n", shown.Problems));

        // The canonical form changed with it: it no longer hashes to the row's payload hash.
        var hashed = await AlteredAsync(text => text.Replace("tag 11", "tag 99", StringComparison.Ordinal));
        Assert.True(hashed.Problems.Any(p => p.Contains("not to its payload hash", StringComparison.Ordinal)), string.Join("\n", hashed.Problems));

        // Untouched, re-signed: valid (the check is of the rows, not of who signed).
        Assert.True((await AlteredAsync(text => text)).IsValid);
    }

    private static string ReplaceFirst(string text, string from, string to)
    {
        var at = text.IndexOf(from, StringComparison.Ordinal);
        Assert.True(at >= 0, $"{from} is in the file");
        return text[..at] + to + text[(at + from.Length)..];
    }

    [Fact]
    public async Task A_records_history_exports_its_own_entries_and_its_link_rows_and_verifies()
    {
        await using (var db = _store.Audited())
        {
            var customer = Queries.QueryTestData.NewCustomer("Ada Lovelace");
            customer.Tags.Add(await db.Tags.OrderBy(t => t.Id).FirstAsync());
            db.Customers.Add(customer);
            db.Customers.Add(Queries.QueryTestData.NewCustomer("Someone else"));
            await db.SaveChangesAsync();
            customer.Name = "Ada King";
            await db.SaveChangesAsync();
        }

        await using var check = _store.Unaudited();
        var key = (await check.AuditEntries.FirstAsync(e => e.TableName == "Customers" && e.NewValues!.Contains("Ada Lovelace"))).RecordKey!;
        var path = Path.Combine(_folder.FullName, "history.xlsx");
        ExportResult result;
        await using (var db = _store.Audited())
        {
            result = await Exporter().RunAsync(db, new HistoryExport(new Data.History.RecordRef("Customers", key)), AuditFileOptions.Default(ExportFormat.Xlsx), path, _key, "olivia@example.test");
        }

        var own = await check.AuditEntries.Where(e => e.TableName == "Customers" && e.RecordKey == key).CountAsync();
        var links = await check.AuditEntries.CountAsync(e => e.TableName == "CustomerTags");
        Assert.Equal((2, 1), (own, links)); // the insert and the rename; the tag link
        Assert.Equal(own + links, result.Manifest.Rows);
        Assert.StartsWith("history of Customers", result.Manifest.Scope);
        // The manifest's query is the audit browser's, for the record's own entries.
        var clauses = QueryParser.Parse(result.Manifest.Query).Query.Clauses;
        Assert.Equal([("table", "Customers"), ("record", key)], clauses.Select(c => (c.Field, c.Values.Single())));
        var verification = await ExportVerifier.VerifyAsync(path, result.Manifest, _key.PublicKey);
        Assert.True(verification.IsValid, string.Join("\n", verification.Problems));
        Assert.Equal(result.Manifest.Rows, verification.RowsChecked);
    }

    [Fact]
    public async Task A_charts_data_exports_through_the_same_writer_with_a_signed_manifest_and_is_recorded()
    {
        var chart = new Core.Analytics.ChartData("top-users", "Top users", "actor", ["insert", "delete"],
        [
            new("=olivia@example.test", [new("insert", 5, null), new("delete", 2, null)]),
            new("bob@example.test", [new("insert", 1, null)]),
        ]);
        var path = Path.Combine(_folder.FullName, "chart.csv");
        ExportResult result;
        await using (var db = _store.Audited())
        {
            result = await Exporter().RunAsync(db, new ChartExport(chart, Search(""), r => r.Label), AuditFileOptions.Default(ExportFormat.Csv), path, _key, "olivia@example.test");
        }

        var lines = (await File.ReadAllTextAsync(path)).Split("\r\n", StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(["\uFEFFactor,insert,delete,total", "'=olivia@example.test,5,2,7", "bob@example.test,1,0,1"], lines);
        Assert.Equal((2L, (long?)null, "chart: Top users", 1L), (result.Manifest.Rows, result.Manifest.FirstSeq, result.Manifest.Scope, result.Manifest.NeutralisedCells));
        Assert.True((await ExportVerifier.VerifyAsync(path, result.Manifest, _key.PublicKey)).IsValid);
        await using var check = _store.Unaudited();
        var exported = Assert.Single(await EventsAsync(check, AuditEventNames.AuditExported));
        Assert.Equal("chart: Top users", EventSummary.Metadata(exported.Metadata)["scope"]);
    }
}
