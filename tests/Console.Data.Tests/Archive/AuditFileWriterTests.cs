using System.Globalization;
using System.Text;
using ComplianceConsole.Core.Auditing;
using ComplianceConsole.Core.Export;
using ComplianceConsole.Data.Archive;
using ComplianceConsole.Data.Capture;
using ComplianceConsole.Data.Domain;
using ComplianceConsole.Data.Tests.Queries;
using CsvHelper;
using DocumentFormat.OpenXml.Packaging;
using DocumentFormat.OpenXml.Spreadsheet;
using Microsoft.EntityFrameworkCore;

namespace ComplianceConsole.Data.Tests.Archive;

/// <summary>
/// The file writer over a real trail with awkward values (unicode, emoji, newlines, quotes, a very long value, a redacted
/// one, nulls, every operation, formula-like text): each file is read back and compared with the trail.
/// </summary>
public sealed class AuditFileWriterTests : IAsyncLifetime
{
    private static readonly string[] Dangerous = ["=1+1", "+41 44 000 00 00", "-12.50", "@SUM(A1:A9)", "\tcmd", "\rcmd", "'quoted"];
    private readonly DirectoryInfo _folder = Directory.CreateTempSubdirectory("cc-export-");
    private SqliteTestDatabase _store = null!;
    private List<AuditEntry> _trail = [];

    public async Task InitializeAsync()
    {
        _store = await SqliteTestDatabase.CreateAsync();
        await using (var db = _store.Audited())
        {
            var names = new[] { "Zoë Ångström-Łukasz", "名前 🚀 emoji", "line one\r\nline two", "say \"hi\", then, go", new string('x', 40_000) }.Concat(Dangerous);
            foreach (var name in names)
            {
                var customer = QueryTestData.NewCustomer("c");
                customer.Name = name;
                customer.TaxId = "secret-tax-id"; // redacted in the trail
                db.Customers.Add(customer);
            }

            await db.SaveChangesAsync();
            var first = await db.Customers.OrderBy(c => c.Id).FirstAsync();
            first.Name = "=HYPERLINK(\"http://x\")";
            await db.SaveChangesAsync();
            db.Customers.Remove(await db.Customers.OrderBy(c => c.Id).Skip(1).FirstAsync());
            await db.SaveChangesAsync();
            await db.Database.RecordAuditEventAsync(new AuditEventRequest("report.exported", "=cmd|' /C calc'!A0", new Dictionary<string, string?> { ["note"] = "ünïcödé\nnewline", ["empty"] = null }));
        }

        await using var read = _store.Unaudited();
        _trail = await read.AuditEntries.AsNoTracking().OrderBy(e => e.Seq).ToListAsync();
    }

    public async Task DisposeAsync()
    {
        await _store.DisposeAsync();
        _folder.Delete(recursive: true);
    }

    private async IAsyncEnumerable<ExportRow> Rows(AuditFileOptions options, [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        foreach (var e in _trail)
        {
            cancellationToken.ThrowIfCancellationRequested();
            await Task.Yield();
            yield return new ExportRow(ExportRows.Values(e, Label(e), options.Zone, options.Values, options.Columns, Previous(e)), e.Seq, e.RowHash);
        }
    }

    /// <summary>The row hash before an entry's, as the exporter reads it.</summary>
    private string Previous(AuditEntry e) => _trail.FirstOrDefault(p => p.Seq == e.Seq - 1)?.RowHash ?? Core.Chain.HashChain.GenesisHash;

    /// <summary>Labels that start cells with every dangerous character in turn (names in JSON never start a cell).</summary>
    private static string? Label(AuditEntry e) => e.TableName is null ? null : Dangerous[(int)(e.Seq % Dangerous.Length)] + $" #{e.Seq}";

    /// <summary>What a cell must say: the values as the CSV writes them.</summary>
    private string[] Expected(AuditEntry e, AuditFileOptions options) =>
        ExportRows.Values(e, Label(e), options.Zone, options.Values, options.Columns, Previous(e)).Select(v => v switch
        {
            null => "",
            long n => n.ToString(CultureInfo.InvariantCulture),
            DateTime t => t.ToString("yyyy-MM-dd HH:mm:ss.fffffff", CultureInfo.InvariantCulture),
            _ => (string)v,
        }).ToArray();

    [Fact]
    public async Task A_csv_reads_back_as_the_trail_with_a_bom_crlf_and_every_formula_neutralised_reversibly()
    {
        var path = Path.Combine(_folder.FullName, "trail.csv");
        var options = AuditFileOptions.Default(ExportFormat.Csv) with { Zone = TimeZoneInfo.FindSystemTimeZoneById("Europe/Zurich") };
        var summary = await AuditFileWriter.WriteAsync(path, Rows(options), options);

        var bytes = await File.ReadAllBytesAsync(path);
        Assert.Equal([0xEF, 0xBB, 0xBF], bytes[..3]);
        Assert.Equal(Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(bytes)), summary.Sha256);
        Assert.Equal((_trail.Count, _trail[0].Seq, _trail[^1].Seq, _trail[^1].RowHash), (summary.Rows, summary.FirstSeq, summary.LastSeq, summary.LastRowHash));
        Assert.False(File.Exists(path + ".partial"));

        using var reader = new CsvReader(new StreamReader(path, Encoding.UTF8), CultureInfo.InvariantCulture);
        Assert.True(await reader.ReadAsync());
        reader.ReadHeader();
        Assert.Equal(ExportRows.Columns.Select(c => ExportRows.Header(c, options.Zone)), reader.HeaderRecord!);
        Assert.Equal("time (Europe/Zurich)", reader.HeaderRecord![2]);
        var neutralised = 0;
        foreach (var entry in _trail)
        {
            Assert.True(await reader.ReadAsync());
            var cells = Enumerable.Range(0, ExportRows.Columns.Count).Select(i => reader.GetField(i)!).ToArray();
            foreach (var cell in cells)
            {
                Assert.False(cell.Length > 0 && "=+-@\t\r".Contains(cell[0]), $"seq {entry.Seq}: a cell starts with {cell.FirstOrDefault()}");
            }

            neutralised += cells.Count(c => c.StartsWith('\''));
            Assert.Equal(Expected(entry, options), cells.Select(SpreadsheetSafety.Restore).ToArray());
        }

        Assert.False(await reader.ReadAsync());
        Assert.Equal(summary.NeutralisedCells, neutralised);
        Assert.True(neutralised >= Dangerous.Length, "every dangerous name, once at least");
        Assert.Contains("\r\n", await File.ReadAllTextAsync(path));
        Assert.Contains("[redacted]", await File.ReadAllTextAsync(path));
        Assert.DoesNotContain("secret-tax-id", await File.ReadAllTextAsync(path));
    }

    [Fact]
    public async Task An_xlsx_holds_no_formula_string_cells_real_dates_and_numbers_and_reads_back_as_the_trail()
    {
        var path = Path.Combine(_folder.FullName, "trail.xlsx");
        var options = AuditFileOptions.Default(ExportFormat.Xlsx) with { Values = ExportValues.ChangedOnly };
        var summary = await AuditFileWriter.WriteAsync(path, Rows(options), options, rowsPerSheet: 5);
        Assert.Equal(_trail.Count, summary.Rows);
        Assert.Equal((_trail.Count + 4) / 5, summary.Sheets);

        using var document = SpreadsheetDocument.Open(path, false);
        var workbook = document.WorkbookPart!;
        var sheets = workbook.Workbook.Sheets!.Elements<Sheet>().ToList();
        Assert.Equal(["Entries", "Entries 2", "Entries 3"], sheets.Select(s => s.Name!.Value).Take(3));
        var expected = new Queue<AuditEntry>(_trail);
        var shortened = 0;
        foreach (var sheet in sheets)
        {
            var part = (WorksheetPart)workbook.GetPartById(sheet.Id!);
            Assert.Empty(part.Worksheet.Descendants<CellFormula>());
            Assert.DoesNotContain("<x:f>", part.Worksheet.OuterXml);
            Assert.Equal(PaneStateValues.Frozen, part.Worksheet.Descendants<Pane>().Single().State!.Value);
            Assert.NotNull(part.Worksheet.Descendants<AutoFilter>().SingleOrDefault());
            var rows = part.Worksheet.Descendants<Row>().ToList();
            Assert.Equal(ExportRows.Columns.Select(c => c.Header).First(), Text(rows[0].Elements<Cell>().First()));
            foreach (var row in rows.Skip(1))
            {
                var entry = expected.Dequeue();
                var cells = row.Elements<Cell>().ToList();
                var want = Expected(entry, options);
                Assert.Null(cells[0].DataType); // the seq: a number
                Assert.Equal(want[0], cells[0].CellValue!.Text);
                Assert.Equal(2u, cells[1].StyleIndex!.Value); // a real date cell
                Assert.Equal(entry.OccurredAtUtc, DateTime.FromOADate(double.Parse(cells[1].CellValue!.Text, CultureInfo.InvariantCulture)), TimeSpan.FromMilliseconds(1));
                for (var i = 3; i < cells.Count; i++)
                {
                    if (want[i] == "")
                    {
                        Assert.Null(cells[i].DataType);
                        continue;
                    }

                    if (options.Columns[i].Kind == ExportCellKind.Number)
                    {
                        Assert.Null(cells[i].DataType); // the entry's version: a number
                        Assert.Equal(want[i], cells[i].CellValue!.Text);
                        continue;
                    }

                    Assert.Equal(CellValues.InlineString, cells[i].DataType!.Value);
                    if (want[i].Length > AuditFileWriter.CellLimit)
                    {
                        // Over Excel's limit: cut, saying so and how long it was.
                        var cut = Text(cells[i]);
                        Assert.True(cut.Length <= AuditFileWriter.CellLimit);
                        Assert.StartsWith(want[i][..30_000], cut);
                        Assert.EndsWith($"[cut: {want[i].Length:N0} characters in all; the CSV export holds the whole value]", cut);
                        shortened++;
                        continue;
                    }

                    Assert.Equal(want[i], Text(cells[i]));
                }
            }
        }

        Assert.Empty(expected);
        Assert.True(shortened > 0, "the 40,000-character name is over the limit");
        Assert.Equal(shortened, summary.ShortenedCells);
        var update = _trail.Single(e => e.Operation == AuditOperations.Update);
        Assert.Equal(["Name"], System.Text.Json.Nodes.JsonNode.Parse(Expected(update, options)[16])!.AsObject().Select(p => p.Key));
    }

    private static string Text(Cell cell) =>
        System.Text.RegularExpressions.Regex.Replace(cell.InlineString!.Text!.Text, "_x([0-9A-F]{4})_", m => ((char)Convert.ToInt32(m.Groups[1].Value, 16)).ToString());

    [Fact]
    public async Task A_cancelled_export_leaves_no_file_and_no_partial_file()
    {
        foreach (var format in new[] { ExportFormat.Xlsx, ExportFormat.Csv })
        {
            var path = Path.Combine(_folder.FullName, $"cancelled.{format}");
            using var cancel = new CancellationTokenSource();
            async IAsyncEnumerable<ExportRow> HalfThenCancel()
            {
                foreach (var (i, e) in _trail.Index())
                {
                    if (i == _trail.Count / 2)
                    {
                        await cancel.CancelAsync();
                    }

                    await Task.Yield();
                    yield return new ExportRow(ExportRows.Values(e, null, TimeZoneInfo.Utc, ExportValues.Full, ExportRows.Columns), e.Seq, e.RowHash);
                }
            }

            await Assert.ThrowsAnyAsync<OperationCanceledException>(() => AuditFileWriter.WriteAsync(path, HalfThenCancel(), AuditFileOptions.Default(format), cancellationToken: cancel.Token));
            Assert.False(File.Exists(path));
            Assert.False(File.Exists(path + ".partial"));
        }
    }
}
