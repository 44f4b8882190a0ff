using System.Globalization;
using System.Runtime.CompilerServices;
using System.Threading.Channels;
using System.IO.Compression;
using System.Security.Cryptography;
using System.Text;
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

    /// <summary>
    /// Writes <paramref name="rows"/> (cells in the order of <see cref="AuditFileOptions.Columns"/>) to <paramref name="path"/>.
    /// The rows are read ahead on another thread while this one writes (a pipeline over the machine's cores), a few
    /// thousand at most, so memory stays flat; the source is finished with before this returns or throws.
    /// </summary>
    public static async Task<AuditFileSummary> WriteAsync(string path, IAsyncEnumerable<ExportRow> rows, AuditFileOptions options,
        IProgress<long>? progress = null, int rowsPerSheet = RowsPerSheet, CancellationToken cancellationToken = default)
    {
        var entries = ReadAhead(rows, cancellationToken);
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
                else if (options.Format == ExportFormat.JsonLines)
                {
                    await WriteJsonLinesAsync(hashing, entries, options, tally, progress, cancellationToken);
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

        public void Add(ExportRow row, IProgress<long>? progress)
        {
            Rows++;
            if (row.Seq is not null)
            {
                FirstSeq ??= row.Seq;
                FirstRowHash ??= row.RowHash;
                LastSeq = row.Seq;
                LastRowHash = row.RowHash;
            }

            if (Rows % 10_000 == 0)
            {
                progress?.Report(Rows);
            }
        }
    }

    /// <summary>
    /// The rows, read on a thread-pool thread into batches that a bounded channel hands over: reading (the database, the
    /// values) and writing (quoting, XML, deflate, hashing) then run on two cores at once.
    /// </summary>
    private static async IAsyncEnumerable<ExportRow> ReadAhead(IAsyncEnumerable<ExportRow> rows, [EnumeratorCancellation] CancellationToken cancellationToken)
    {
        const int batchSize = 256;
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        var channel = Channel.CreateBounded<ExportRow[]>(new BoundedChannelOptions(4) { SingleReader = true, SingleWriter = true });
        var reader = Task.Run(async () =>
        {
            try
            {
                var batch = new List<ExportRow>(batchSize);
                await foreach (var row in rows.WithCancellation(stop.Token))
                {
                    batch.Add(row);
                    if (batch.Count == batchSize)
                    {
                        await channel.Writer.WriteAsync([.. batch], stop.Token);
                        batch.Clear();
                    }
                }

                if (batch.Count > 0)
                {
                    await channel.Writer.WriteAsync([.. batch], stop.Token);
                }
            }
            finally
            {
                channel.Writer.TryComplete();
            }
        }, CancellationToken.None);

        try
        {
            await foreach (var batch in channel.Reader.ReadAllAsync(cancellationToken))
            {
                foreach (var row in batch)
                {
                    yield return row;
                }
            }

            await reader; // a failed read ends the channel early: its exception is the writer's
        }
        finally
        {
            // The source (a database reader on the caller's context) must be done with before the caller goes on.
            await stop.CancelAsync();
            await Task.WhenAny(reader);
        }
    }

    private static async Task WriteCsvAsync(Stream stream, IAsyncEnumerable<ExportRow> entries, AuditFileOptions options, Tally tally, IProgress<long>? progress,
        CancellationToken cancellationToken)
    {
        await using var text = new StreamWriter(stream, new UTF8Encoding(encoderShouldEmitUTF8Identifier: true), 1 << 16, leaveOpen: true);
        await using var csv = new CsvWriter(text, new CsvConfiguration(CultureInfo.InvariantCulture) { NewLine = "\r\n", ShouldQuote = args => NeedsQuotes(args.Field) });
        foreach (var column in options.Columns)
        {
            csv.WriteField(ExportRows.Header(column, options.Zone));
        }

        await csv.NextRecordAsync();
        await foreach (var row in entries.WithCancellation(cancellationToken))
        {
            cancellationToken.ThrowIfCancellationRequested();
            foreach (var value in row.Values)
            {
                var cell = CsvText(value);
                csv.WriteField(value is string && SpreadsheetSafety.NeedsPrefix(cell) ? Count(tally, SpreadsheetSafety.Neutralise(cell)) : cell);
            }

            await csv.NextRecordAsync();
            tally.Add(row, progress);
        }

        tally.Sheets = 1;
    }

    /// <summary>
    /// One JSON object per line, keyed by column: numbers as numbers, times as in the CSV (UTC unless the zone says
    /// otherwise), text as text, unchanged (no formula rule: this file is for machines). <see cref="ExportVerifier"/>
    /// reads each value back to the CSV's text.
    /// </summary>
    private static async Task WriteJsonLinesAsync(Stream stream, IAsyncEnumerable<ExportRow> entries, AuditFileOptions options, Tally tally, IProgress<long>? progress,
        CancellationToken cancellationToken)
    {
        var keys = options.Columns.Select(c => System.Text.Json.JsonEncodedText.Encode(c.Key)).ToArray();
        var buffer = new System.Buffers.ArrayBufferWriter<byte>(1 << 16);
        await using var json = new System.Text.Json.Utf8JsonWriter(buffer, new System.Text.Json.JsonWriterOptions { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping, SkipValidation = true });
        await foreach (var row in entries.WithCancellation(cancellationToken))
        {
            json.WriteStartObject();
            for (var i = 0; i < keys.Length; i++)
            {
                switch (row.Values[i])
                {
                    case null: json.WriteNull(keys[i]); break;
                    case long n: json.WriteNumber(keys[i], n); break;
                    case int n: json.WriteNumber(keys[i], n); break;
                    case bool b: json.WriteBoolean(keys[i], b); break;
                    case var value: json.WriteString(keys[i], CsvText(value)); break;
                }
            }

            json.WriteEndObject();
            await json.FlushAsync(cancellationToken);
            json.Reset();
            System.Buffers.BuffersExtensions.Write(buffer, "\n"u8);
            if (buffer.WrittenCount > 1 << 15)
            {
                await stream.WriteAsync(buffer.WrittenMemory, cancellationToken);
                buffer.ResetWrittenCount();
            }

            tally.Add(row, progress);
        }

        await stream.WriteAsync(buffer.WrittenMemory, cancellationToken);
        tally.Sheets = 1;
    }

    /// <summary>A value as a CSV cell holds it (before formula neutralisation): times to 100 ns, numbers invariant, null empty.</summary>
    internal static string CsvText(object? value) => value switch
    {
        null => "",
        long n => n.ToString(CultureInfo.InvariantCulture),
        DateTime t => t.ToString("yyyy-MM-dd HH:mm:ss.fffffff", CultureInfo.InvariantCulture),
        string s => s,
        _ => Convert.ToString(value, CultureInfo.InvariantCulture) ?? "",
    };

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
    private static async Task WriteXlsxAsync(Stream stream, IAsyncEnumerable<ExportRow> entries, AuditFileOptions options, Tally tally, IProgress<long>? progress,
        int rowsPerSheet, CancellationToken cancellationToken)
    {
        using var zip = new ZipArchive(stream, ZipArchiveMode.Create, leaveOpen: true);
        var columns = options.Columns;
        var lastColumn = ColumnName(columns.Count - 1);
        var sheets = new List<(string Name, int Rows)>();
        var cells = new CellElements();
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
                    TextCell(writer, cells, ExportRows.Header(column, options.Zone), header: true, tally);
                }

                writer.WriteEndElement();
                while (more && written < rowsPerSheet)
                {
                    cancellationToken.ThrowIfCancellationRequested();
                    var row = rows.Current;
                    writer.WriteStartElement(cells.Row, [new OpenXmlAttribute("r", "", (written + 2).ToString(CultureInfo.InvariantCulture))]);
                    foreach (var value in row.Values)
                    {
                        switch (value)
                        {
                            case null:
                                writer.WriteElement(cells.Empty);
                                break;
                            case long n:
                                writer.WriteStartElement(cells.Cell);
                                cells.Value.Text = n.ToString(CultureInfo.InvariantCulture);
                                writer.WriteElement(cells.Value);
                                writer.WriteEndElement();
                                break;
                            case DateTime t:
                                writer.WriteStartElement(cells.Cell, cells.Time);
                                cells.Value.Text = t.ToOADate().ToString("R", CultureInfo.InvariantCulture);
                                writer.WriteElement(cells.Value);
                                writer.WriteEndElement();
                                break;
                            default:
                                TextCell(writer, cells, Convert.ToString(value, CultureInfo.InvariantCulture) ?? "", header: false, tally);
                                break;
                        }
                    }

                    writer.WriteEndElement();
                    tally.Add(row, progress);
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
    private static void TextCell(OpenXmlWriter writer, CellElements cells, string text, bool header, Tally tally)
    {
        if (Shorten(text) is { } cut)
        {
            text = cut;
            tally.Shortened++;
        }

        writer.WriteStartElement(cells.Cell, header ? cells.HeaderText : cells.InlineText);
        writer.WriteStartElement(cells.Inline);
        cells.Text.Text = Clean(text);
        writer.WriteElement(cells.Text);
        writer.WriteEndElement();
        writer.WriteEndElement();
    }

    /// <summary>A text too long for an Excel cell, cut and ending with a note that says so; null for a text that fits.</summary>
    internal static string? Shorten(string text)
    {
        if (text.Length <= CellLimit)
        {
            return null;
        }

        var note = $"… [cut: {text.Length:N0} characters in all; the CSV export holds the whole value]";
        return text[..(CellLimit - note.Length - 200)] + note; // room for the escapes of control characters
    }

    /// <summary>
    /// The elements and attributes a sheet's cells are written with, made once per file: the SAX writer writes an element's
    /// name, attributes and (for a leaf) text, so one instance serves every cell, instead of four objects per cell.
    /// </summary>
    private sealed class CellElements
    {
        public readonly Row Row = new();
        public readonly Cell Cell = new();
        public readonly Cell Empty = new();
        public readonly CellValue Value = new();
        public readonly InlineString Inline = new();
        public readonly Text Text = new() { Space = SpaceProcessingModeValues.Preserve };
        public readonly OpenXmlAttribute[] InlineText = [new("t", "", "inlineStr")];
        public readonly OpenXmlAttribute[] HeaderText = [new("t", "", "inlineStr"), new("s", "", HeaderStyle.ToString(CultureInfo.InvariantCulture))];
        public readonly OpenXmlAttribute[] Time = [new("s", "", TimeStyle.ToString(CultureInfo.InvariantCulture))];
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
