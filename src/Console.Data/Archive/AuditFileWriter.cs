using System.Globalization;
using System.IO.Compression;
using System.Security.Cryptography;
using System.Text;
using ComplianceConsole.Core.Auditing;
using ComplianceConsole.Core.Export;
using CsvHelper;
using CsvHelper.Configuration;
using DocumentFormat.OpenXml;
using DocumentFormat.OpenXml.Spreadsheet;

namespace ComplianceConsole.Data.Archive;

/// <summary>How a file is written: its format, columns, time zone and values.</summary>
public sealed record AuditFileOptions(ExportFormat Format, IReadOnlyList<ExportColumn> Columns, TimeZoneInfo Zone, ExportValues Values)
{
    public static AuditFileOptions Default(ExportFormat format) => new(format, ExportRows.Columns, TimeZoneInfo.Utc, ExportValues.Full);
}

/// <summary>What a written file holds: its rows, their seq range and boundary row hashes, its size and SHA-256, and how many cells were neutralised.</summary>
/// <param name="ShortenedCells">XLSX only: text cells over Excel's limit of 32,767 characters, cut with a note saying so (the CSV holds them whole).</param>
public sealed record AuditFileSummary(long Rows, long? FirstSeq, long? LastSeq, string? FirstRowHash, string? LastRowHash, string Sha256, long Bytes, long NeutralisedCells, int Sheets,
    long ShortenedCells = 0);

/// <summary>
/// The one writer of audit entries to files (exports now, retention archives later): streams entries as CSV or XLSX
/// without holding them, to a <c>.partial</c> file that is renamed only when complete, so nothing half-written is ever
/// where a finished file would be. CSV: UTF-8 with a BOM, RFC 4180 quoting, CRLF, a header row, formula-like text
/// neutralised (<see cref="SpreadsheetSafety"/>). XLSX: written with the Open XML SDK's SAX writer, every text a string
/// cell (never a formula), times as real date cells, numbers as numbers, a frozen header row, an autofilter and fixed
/// widths; past 1,048,575 rows a sheet continues on the next.
/// </summary>
public static class AuditFileWriter
{
    /// <summary>Rows of data per sheet: Excel's limit of 1,048,576 rows, less the header.</summary>
    public const int RowsPerSheet = 1_048_575;

    public static async Task<AuditFileSummary> WriteAsync(string path, IAsyncEnumerable<(AuditEntry Entry, string? Label)> entries, AuditFileOptions options,
        IProgress<long>? progress = null, int rowsPerSheet = RowsPerSheet, CancellationToken cancellationToken = default)
    {
        var partial = path + ".partial";
        var tally = new Tally();
        try
        {
            string sha;
            long bytes;
            await using (var file = new FileStream(partial, FileMode.Create, FileAccess.Write, FileShare.None, 1 << 16))
            await using (var hashing = new HashingStream(file))
            {
                if (options.Format == ExportFormat.Csv)
                {
                    await WriteCsvAsync(hashing, entries, options, tally, progress, cancellationToken);
                }
                else
                {
                    await WriteXlsxAsync(hashing, entries, options, tally, progress, rowsPerSheet, cancellationToken);
                }

                (sha, bytes) = (hashing.Sha256(), hashing.Length);
                await file.FlushAsync(cancellationToken);
                file.Flush(flushToDisk: true);
            }

            File.Move(partial, path, overwrite: true);
            return new AuditFileSummary(tally.Rows, tally.FirstSeq, tally.LastSeq, tally.FirstRowHash, tally.LastRowHash, sha, bytes, tally.Neutralised, tally.Sheets, tally.Shortened);
        }
        catch
        {
            File.Delete(partial);
            throw;
        }
    }

    /// <summary>
    /// Passes writes on and hashes them as they go, so the file is never read back to be hashed. It cannot seek, so the zip
    /// writer streams each entry (with a data descriptor) instead of going back to patch sizes.
    /// </summary>
    private sealed class HashingStream(Stream inner) : Stream
    {
        private readonly IncrementalHash _hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        private long _length;

        public string Sha256() => Convert.ToHexStringLower(_hash.GetCurrentHash());

        public override void Write(byte[] buffer, int offset, int count) => Write(buffer.AsSpan(offset, count));

        public override void Write(ReadOnlySpan<byte> buffer)
        {
            _hash.AppendData(buffer);
            _length += buffer.Length;
            inner.Write(buffer);
        }

        public override async ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
        {
            _hash.AppendData(buffer.Span);
            _length += buffer.Length;
            await inner.WriteAsync(buffer, cancellationToken);
        }

        public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) => WriteAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

        public override void Flush() => inner.Flush();

        public override Task FlushAsync(CancellationToken cancellationToken) => inner.FlushAsync(cancellationToken);

        public override bool CanRead => false;

        public override bool CanSeek => false;

        public override bool CanWrite => true;

        public override long Length => _length;

        public override long Position
        {
            get => _length;
            set => throw new NotSupportedException();
        }

        public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();

        protected override void Dispose(bool disposing)
        {
            if (disposing)
            {
                _hash.Dispose();
            }

            base.Dispose(disposing);
        }
    }

    private sealed class Tally
    {
        public long Rows;
        public long? FirstSeq;
        public long? LastSeq;
        public string? FirstRowHash;
        public string? LastRowHash;
        public long Neutralised;
        public long Shortened;
        public int Sheets;

        public void Add(AuditEntry e, IProgress<long>? progress)
        {
            Rows++;
            FirstSeq ??= e.Seq;
            FirstRowHash ??= e.RowHash;
            LastSeq = e.Seq;
            LastRowHash = e.RowHash;
            if (Rows % 10_000 == 0)
            {
                progress?.Report(Rows);
            }
        }
    }

    private static async Task WriteCsvAsync(Stream stream, IAsyncEnumerable<(AuditEntry Entry, string? Label)> entries, AuditFileOptions options, Tally tally, IProgress<long>? progress,
        CancellationToken cancellationToken)
    {
        await using var text = new StreamWriter(stream, new UTF8Encoding(encoderShouldEmitUTF8Identifier: true), 1 << 16, leaveOpen: true);
        await using var csv = new CsvWriter(text, new CsvConfiguration(CultureInfo.InvariantCulture) { NewLine = "\r\n", ShouldQuote = args => NeedsQuotes(args.Field) });
        foreach (var column in options.Columns)
        {
            csv.WriteField(ExportRows.Header(column, options.Zone));
        }

        await csv.NextRecordAsync();
        await foreach (var (entry, label) in entries.WithCancellation(cancellationToken))
        {
            cancellationToken.ThrowIfCancellationRequested();
            var values = ExportRows.Values(entry, label, options.Zone, options.Values, options.Columns);
            foreach (var value in values)
            {
                csv.WriteField(value switch
                {
                    null => "",
                    long n => n.ToString(CultureInfo.InvariantCulture),
                    DateTime t => t.ToString("yyyy-MM-dd HH:mm:ss.fffffff", CultureInfo.InvariantCulture),
                    string s when SpreadsheetSafety.NeedsPrefix(s) => Count(tally, SpreadsheetSafety.Neutralise(s)),
                    string s => s,
                    _ => Convert.ToString(value, CultureInfo.InvariantCulture) ?? "",
                });
            }

            await csv.NextRecordAsync();
            tally.Add(entry, progress);
        }

        tally.Sheets = 1;
    }

    private static string Count(Tally tally, string value)
    {
        tally.Neutralised++;
        return value;
    }

    private static bool NeedsQuotes(string? field) => field is { Length: > 0 } f && (f.IndexOfAny([',', '"', '\r', '\n']) >= 0 || f[0] == ' ' || f[^1] == ' ');

    /// <summary>
    /// The workbook as a zip written entry by entry (<see cref="ZipArchiveMode.Create"/> streams each one), each sheet through
    /// the Open XML SDK's SAX writer onto its entry: no part is held in memory. (The SDK's own package keeps every part in
    /// memory until it is closed: 3.3 GB for a million rows.) The few fixed parts are written as text.
    /// </summary>
    private static async Task WriteXlsxAsync(Stream stream, IAsyncEnumerable<(AuditEntry Entry, string? Label)> entries, AuditFileOptions options, Tally tally, IProgress<long>? progress,
        int rowsPerSheet, CancellationToken cancellationToken)
    {
        using var zip = new ZipArchive(stream, ZipArchiveMode.Create, leaveOpen: true);
        var columns = options.Columns;
        var lastColumn = ColumnName(columns.Count - 1);
        var sheets = new List<(string Name, int Rows)>();
        await using var rows = entries.WithCancellation(cancellationToken).GetAsyncEnumerator();
        var more = await rows.MoveNextAsync();
        do
        {
            var index = sheets.Count + 1;
            var written = 0;
            await using (var part = zip.CreateEntry($"xl/worksheets/sheet{index}.xml", CompressionLevel.Fastest).Open())
            using (var writer = OpenXmlWriter.Create(part))
            {
                writer.WriteStartDocument();
                writer.WriteStartElement(new Worksheet());
                writer.WriteStartElement(new SheetViews());
                writer.WriteStartElement(new SheetView(), [new OpenXmlAttribute("workbookViewId", "", "0")]);
                writer.WriteElement(new Pane { VerticalSplit = 1, TopLeftCell = "A2", ActivePane = PaneValues.BottomLeft, State = PaneStateValues.Frozen });
                writer.WriteEndElement();
                writer.WriteEndElement();
                writer.WriteStartElement(new Columns());
                for (var c = 0; c < columns.Count; c++)
                {
                    writer.WriteElement(new Column { Min = (uint)c + 1, Max = (uint)c + 1, Width = columns[c].Width, CustomWidth = true });
                }

                writer.WriteEndElement();
                writer.WriteStartElement(new SheetData());
                writer.WriteStartElement(new Row(), [new OpenXmlAttribute("r", "", "1")]);
                foreach (var column in columns)
                {
                    TextCell(writer, ExportRows.Header(column, options.Zone), HeaderStyle, tally);
                }

                writer.WriteEndElement();
                while (more && written < rowsPerSheet)
                {
                    cancellationToken.ThrowIfCancellationRequested();
                    var (entry, label) = rows.Current;
                    var values = ExportRows.Values(entry, label, options.Zone, options.Values, columns);
                    writer.WriteStartElement(new Row(), [new OpenXmlAttribute("r", "", (written + 2).ToString(CultureInfo.InvariantCulture))]);
                    foreach (var value in values)
                    {
                        switch (value)
                        {
                            case null:
                                writer.WriteElement(new Cell());
                                break;
                            case long n:
                                writer.WriteStartElement(new Cell());
                                writer.WriteElement(new CellValue(n.ToString(CultureInfo.InvariantCulture)));
                                writer.WriteEndElement();
                                break;
                            case DateTime t:
                                writer.WriteStartElement(new Cell(), [new OpenXmlAttribute("s", "", TimeStyle.ToString(CultureInfo.InvariantCulture))]);
                                writer.WriteElement(new CellValue(t.ToOADate().ToString("R", CultureInfo.InvariantCulture)));
                                writer.WriteEndElement();
                                break;
                            default:
                                TextCell(writer, Convert.ToString(value, CultureInfo.InvariantCulture) ?? "", null, tally);
                                break;
                        }
                    }

                    writer.WriteEndElement();
                    tally.Add(entry, progress);
                    written++;
                    more = await rows.MoveNextAsync();
                }

                writer.WriteEndElement(); // sheetData
                writer.WriteElement(new AutoFilter { Reference = $"A1:{lastColumn}{written + 1}" });
                writer.WriteEndElement(); // worksheet
            }

            sheets.Add((index == 1 ? "Entries" : $"Entries {index}", written));
        }
        while (more);

        tally.Sheets = sheets.Count;
        var names = sheets.Select((s, i) => (s.Name, Index: i + 1, s.Rows)).ToList();
        await TextEntryAsync(zip, "[Content_Types].xml",
            "<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"yes\"?><Types xmlns=\"http://schemas.openxmlformats.org/package/2006/content-types\">" +
            "<Default Extension=\"rels\" ContentType=\"application/vnd.openxmlformats-package.relationships+xml\"/><Default Extension=\"xml\" ContentType=\"application/xml\"/>" +
            "<Override PartName=\"/xl/workbook.xml\" ContentType=\"application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml\"/>" +
            "<Override PartName=\"/xl/styles.xml\" ContentType=\"application/vnd.openxmlformats-officedocument.spreadsheetml.styles+xml\"/>" +
            string.Concat(names.Select(n => $"<Override PartName=\"/xl/worksheets/sheet{n.Index}.xml\" ContentType=\"application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml\"/>")) +
            "</Types>");
        await TextEntryAsync(zip, "_rels/.rels",
            "<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"yes\"?><Relationships xmlns=\"http://schemas.openxmlformats.org/package/2006/relationships\">" +
            "<Relationship Id=\"rId1\" Type=\"http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument\" Target=\"xl/workbook.xml\"/></Relationships>");
        await TextEntryAsync(zip, "xl/_rels/workbook.xml.rels",
            "<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"yes\"?><Relationships xmlns=\"http://schemas.openxmlformats.org/package/2006/relationships\">" +
            string.Concat(names.Select(n => $"<Relationship Id=\"rId{n.Index}\" Type=\"http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet\" Target=\"worksheets/sheet{n.Index}.xml\"/>")) +
            $"<Relationship Id=\"rId{names.Count + 1}\" Type=\"http://schemas.openxmlformats.org/officeDocument/2006/relationships/styles\" Target=\"styles.xml\"/></Relationships>");
        await TextEntryAsync(zip, "xl/workbook.xml",
            "<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"yes\"?><workbook xmlns=\"http://schemas.openxmlformats.org/spreadsheetml/2006/main\" " +
            "xmlns:r=\"http://schemas.openxmlformats.org/officeDocument/2006/relationships\"><sheets>" +
            string.Concat(names.Select(n => $"<sheet name=\"{n.Name}\" sheetId=\"{n.Index}\" r:id=\"rId{n.Index}\"/>")) + "</sheets><definedNames>" +
            string.Concat(names.Select(n => $"<definedName name=\"_xlnm._FilterDatabase\" localSheetId=\"{n.Index - 1}\" hidden=\"1\">'{n.Name}'!$A$1:${lastColumn}${n.Rows + 1}</definedName>")) +
            "</definedNames></workbook>");
        await using (var styles = zip.CreateEntry("xl/styles.xml", CompressionLevel.Fastest).Open())
        {
            Stylesheet().Save(styles);
        }
    }

    private static async Task TextEntryAsync(ZipArchive zip, string name, string xml)
    {
        await using var entry = zip.CreateEntry(name, CompressionLevel.Fastest).Open();
        await entry.WriteAsync(Encoding.UTF8.GetBytes(xml));
    }

    /// <summary>Excel's limit of characters in a cell: a longer value makes Excel refuse the file.</summary>
    public const int CellLimit = 32_767;

    /// <summary>
    /// A text cell: always an inline string, so whatever the text starts with, it is shown, never run. A value over
    /// <see cref="CellLimit"/> is cut, and says so and how long it was.
    /// </summary>
    private static void TextCell(OpenXmlWriter writer, string text, uint? style, Tally tally)
    {
        if (text.Length > CellLimit)
        {
            var note = $"… [cut: {text.Length:N0} characters in all; the CSV export holds the whole value]";
            text = text[..(CellLimit - note.Length - 200)] + note; // room for the escapes of control characters
            tally.Shortened++;
        }

        var attributes = new List<OpenXmlAttribute> { new("t", "", "inlineStr") };
        if (style is { } s)
        {
            attributes.Add(new OpenXmlAttribute("s", "", s.ToString(CultureInfo.InvariantCulture)));
        }

        writer.WriteStartElement(new Cell(), attributes);
        writer.WriteStartElement(new InlineString());
        writer.WriteElement(new Text(Clean(text)) { Space = SpaceProcessingModeValues.Preserve });
        writer.WriteEndElement();
        writer.WriteEndElement();
    }

    /// <summary>
    /// XML 1.0 cannot hold most control characters, and a reader turns a carriage return into a line feed: they are written
    /// as Excel's own escape, _xHHHH_, so the cell holds exactly the value.
    /// </summary>
    private static string Clean(string text)
    {
        if (!text.Any(c => c < 0x20 && c is not ('\t' or '\n')) && !text.Contains("_x", StringComparison.Ordinal))
        {
            return text;
        }

        var clean = new StringBuilder(text.Length + 8);
        for (var i = 0; i < text.Length; i++)
        {
            var c = text[i];
            if (c < 0x20 && c is not ('\t' or '\n'))
            {
                clean.Append(CultureInfo.InvariantCulture, $"_x{(int)c:X4}_");
            }
            else if (c == '_' && i + 6 < text.Length && text[i + 1] == 'x' && text[i + 6] == '_' && text.AsSpan(i + 2, 4).ToString().All(Uri.IsHexDigit))
            {
                clean.Append("_x005F_"); // a literal _xHHHH_ in the text, escaped so that Excel shows it as written
            }
            else
            {
                clean.Append(c);
            }
        }

        return clean.ToString();
    }

    private const uint HeaderStyle = 1;
    private const uint TimeStyle = 2;

    /// <summary>Styles: 0 default, 1 bold header, 2 a date and time (yyyy-mm-dd hh:mm:ss).</summary>
    private static Stylesheet Stylesheet() => new(
        new NumberingFormats(new NumberingFormat { NumberFormatId = 164, FormatCode = "yyyy-mm-dd hh:mm:ss" }) { Count = 1 },
        new Fonts(new Font(), new Font(new Bold())) { Count = 2 },
        new Fills(new Fill(new PatternFill { PatternType = PatternValues.None }), new Fill(new PatternFill { PatternType = PatternValues.Gray125 })) { Count = 2 },
        new Borders(new Border()) { Count = 1 },
        new CellFormats(
            new CellFormat(),
            new CellFormat { FontId = 1, ApplyFont = true },
            new CellFormat { NumberFormatId = 164, ApplyNumberFormat = true }) { Count = 3 });

    private static string ColumnName(int index)
    {
        var name = "";
        for (index++; index > 0; index = (index - 1) / 26)
        {
            name = (char)('A' + (index - 1) % 26) + name;
        }

        return name;
    }
}
