using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.RegularExpressions;
using ComplianceConsole.Core.Chain;
using ComplianceConsole.Core.Export;
using CsvHelper;
using DocumentFormat.OpenXml;
using DocumentFormat.OpenXml.Packaging;
using DocumentFormat.OpenXml.Spreadsheet;

namespace ComplianceConsole.Data.Archive;

/// <summary>What `verify-export` found: nothing wrong, or each problem in one sentence.</summary>
/// <param name="RowsChecked">Rows checked on their own against their canonical form.</param>
/// <param name="RowsUnchecked">XLSX rows whose canonical form Excel's cell limit cut, so not checkable (the CSV export can be).</param>
public sealed record ExportVerification(long RowsRead, IReadOnlyList<string> Problems, long RowsChecked = 0, long RowsUnchecked = 0)
{
    public bool IsValid => Problems.Count == 0;
}

/// <summary>
/// Checks an export file against its manifest, offline, with the public key only: the manifest's signature, the file's
/// size and SHA-256, the rows read back (how many, their seqs in order, the first and last row hashes), and each row
/// against its canonical form (<see cref="RowCheck"/>). Reads only.
/// </summary>
public static class ExportVerifier
{
    public static async Task<ExportVerification> VerifyAsync(string file, ExportManifest manifest, CheckpointPublicKey key, CancellationToken cancellationToken = default)
    {
        var problems = new List<string>();
        if (manifest.KeyId != key.KeyId)
        {
            problems.Add($"The manifest was signed by key {manifest.KeyId}, not by the key given ({key.KeyId}): give the console's public key.");
        }
        else if (!manifest.VerifiesWith(key))
        {
            problems.Add("The manifest's signature does not verify: the manifest was edited after it was signed.");
        }

        return await VerifyFileAsync(file, manifest, problems, cancellationToken);
    }

    /// <summary>
    /// The file against what <paramref name="manifest"/> says of it (size, SHA-256, rows, seqs, boundary hashes, each row
    /// against its canonical form), when the manifest's signature was checked elsewhere (an archive's manifest signs every file of it).
    /// </summary>
    public static async Task<ExportVerification> VerifyFileAsync(string file, ExportManifest manifest, List<string> problems, CancellationToken cancellationToken = default)
    {
        await using (var stream = File.OpenRead(file))
        {
            var sha = Convert.ToHexStringLower(await SHA256.HashDataAsync(stream, cancellationToken));
            if (stream.Length != manifest.Bytes || sha != manifest.Sha256)
            {
                problems.Add($"The file is not the one the manifest describes: {stream.Length:N0} bytes with SHA-256 {sha}, the manifest says {manifest.Bytes:N0} bytes with {manifest.Sha256}. It was changed after it left the console.");
            }
        }

        var seqAt = manifest.Columns.ToList().IndexOf("seq");
        var hashAt = manifest.Columns.ToList().IndexOf("row_hash");
        var rowCheck = RowCheck.For(manifest, problems);
        long rows = 0, previous = 0;
        string? firstHash = null, lastHash = null;
        long? firstSeq = null, lastSeq = null;
        try
        {
            foreach (var row in manifest.FileFormat switch { "xlsx" => XlsxRows(file), "jsonlines" => JsonLinesRows(file, manifest.Columns), _ => CsvRows(file) })
            {
                cancellationToken.ThrowIfCancellationRequested();
                rows++;
                if (seqAt >= 0 && long.TryParse(Cell(row, seqAt), NumberStyles.Integer, CultureInfo.InvariantCulture, out var seq))
                {
                    if (seq <= previous)
                    {
                        problems.Add($"Row {rows:N0} has seq {seq}, not above the row before it ({previous}): rows were moved or repeated.");
                    }

                    previous = seq;
                    firstSeq ??= seq;
                    lastSeq = seq;
                }

                if (hashAt >= 0)
                {
                    firstHash ??= Cell(row, hashAt);
                    lastHash = Cell(row, hashAt);
                }

                rowCheck?.Check(rows, row);
            }
        }
        catch (Exception ex) when (ex is InvalidDataException or OpenXmlPackageException or CsvHelperException or IOException or System.Text.Json.JsonException)
        {
            problems.Add($"The file cannot be read as {manifest.FileFormat}: {ex.Message}");
        }

        rowCheck?.Finish();
        if (rows != manifest.Rows)
        {
            problems.Add($"The file holds {rows:N0} rows; the manifest says {manifest.Rows:N0}.");
        }

        if (seqAt >= 0 && (firstSeq != manifest.FirstSeq || lastSeq != manifest.LastSeq))
        {
            problems.Add($"The rows run from seq {firstSeq} to {lastSeq}; the manifest says {manifest.FirstSeq} to {manifest.LastSeq}.");
        }

        if (hashAt >= 0 && (firstHash != (manifest.FirstRowHash ?? null) || lastHash != manifest.LastRowHash))
        {
            problems.Add("The first or last row hash differs from the manifest's.");
        }

        return new ExportVerification(rows, problems, rowCheck?.Checked ?? 0, rowCheck?.Unchecked ?? 0);
    }

    /// <summary>
    /// Each row on its own, against its canonical form: the canonical JSON hashes to the row's payload hash; version, seq,
    /// payload hash and previous row hash give its row hash; consecutive seqs link; and every other cell says what the
    /// canonical form says (the label aside, which the trail does not hash). A row whose canonical form Excel's cell limit
    /// cut cannot be checked: it is counted, and the CSV export of the same search can be.
    /// </summary>
    private sealed class RowCheck(ExportManifest manifest, List<string> problems, IReadOnlyList<ExportColumn> columns, TimeZoneInfo zone, ExportValues values)
    {
        private const int MaxReported = 20;
        private readonly int _seq = Index(columns, "seq");
        private readonly int _payload = Index(columns, "payload_hash");
        private readonly int _rowHash = Index(columns, "row_hash");
        private readonly int _version = Index(columns, "version");
        private readonly int _previousHash = Index(columns, "previous_row_hash");
        private readonly int _canonical = Index(columns, ExportRows.Canonical);
        private readonly int _label = Index(columns, "label");
        private readonly bool _xlsx = manifest.FileFormat == "xlsx";
        private readonly bool _raw = manifest.FileFormat != "csv";
        private long _lastSeq = -1;
        private string? _lastRowHash;
        private long _failed;

        public long Checked { get; private set; }

        public long Unchecked { get; private set; }

        public static RowCheck? For(ExportManifest manifest, List<string> problems)
        {
            if (!ExportRows.Verifiable.All(manifest.Columns.Contains))
            {
                return null; // a chart's data: no entries to check
            }

            var byKey = ExportRows.Columns.ToDictionary(c => c.Key);
            if (!manifest.Columns.All(byKey.ContainsKey) || !Enum.TryParse<ExportValues>(manifest.Values, out var values))
            {
                problems.Add("The manifest names columns or a values mode this verifier does not know: use the verify-export of the console that wrote it.");
                return null;
            }

            TimeZoneInfo zone;
            try
            {
                zone = TimeZoneInfo.FindSystemTimeZoneById(manifest.Zone);
            }
            catch (Exception ex) when (ex is TimeZoneNotFoundException or InvalidTimeZoneException)
            {
                problems.Add($"The time zone {manifest.Zone} is not known on this machine, so the local times cannot be checked: install the time zone data (tzdata).");
                return null;
            }

            return new RowCheck(manifest, problems, [.. manifest.Columns.Select(k => byKey[k])], zone, values);
        }

        public void Check(long number, string[] row)
        {
            var canonical = Text(row, _canonical);
            if (_xlsx && canonical.Length >= AuditFileWriter.CellLimit - 300 && canonical.EndsWith("the CSV export holds the whole value]", StringComparison.Ordinal))
            {
                Unchecked++;
                _lastSeq = -1;
                return;
            }

            Checked++;
            var where = $"Row {number:N0} (seq {Text(row, _seq)})";
            var entry = CanonicalJson.TryParse(canonical, out var problem);
            if (entry is null)
            {
                Fail($"{where}: its canonical form is not an entry's ({problem}).");
                return;
            }

            var payload = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(canonical)));
            if (payload != Text(row, _payload))
            {
                Fail($"{where}: its canonical form hashes to {payload}, not to its payload hash {Text(row, _payload)}: the row was altered.");
            }

            _ = long.TryParse(Text(row, _seq), NumberStyles.Integer, CultureInfo.InvariantCulture, out var seq);
            _ = int.TryParse(Text(row, _version), NumberStyles.Integer, CultureInfo.InvariantCulture, out var version);
            var previous = Text(row, _previousHash);
            var rowHash = Text(row, _rowHash);
            if (previous.Length > 0 && HashChain.RowHash(version, seq, Text(row, _payload), previous) != rowHash)
            {
                Fail($"{where}: its row hash is not the hash of its version, seq, payload hash and previous row hash: the row was altered.");
            }

            if (seq == _lastSeq + 1 && _lastRowHash is not null && previous != _lastRowHash)
            {
                Fail($"{where}: its previous row hash is not the row hash of the row before it (seq {_lastSeq}).");
            }

            (_lastSeq, _lastRowHash) = (seq, rowHash);
            entry = entry with { Seq = seq, Version = version, PayloadHash = Text(row, _payload), RowHash = rowHash };
            var expected = ExportRows.Values(entry, _label >= 0 ? Text(row, _label) : null, zone, values, columns, previous.Length > 0 ? previous : null);
            for (var i = 0; i < columns.Count; i++)
            {
                if (i != _label && !Same(expected[i], Text(row, i)))
                {
                    Fail($"{where}: its {columns[i].Header} does not say what its canonical form says: the row was altered.");
                    break;
                }
            }
        }

        public void Finish()
        {
            if (_failed > MaxReported)
            {
                problems.Add($"… and {_failed - MaxReported:N0} more rows that do not match their canonical form.");
            }
        }

        private bool Same(object? expected, string cell)
        {
            if (!_xlsx)
            {
                return AuditFileWriter.CsvText(expected) == cell;
            }

            return expected switch
            {
                null => cell.Length == 0,
                DateTime t => double.TryParse(cell, NumberStyles.Float, CultureInfo.InvariantCulture, out var oa) && Math.Abs((DateTime.FromOADate(oa) - t).TotalMilliseconds) <= 1,
                string text => (AuditFileWriter.Shorten(text) ?? text) == cell,
                _ => AuditFileWriter.CsvText(expected) == cell,
            };
        }

        private void Fail(string problem)
        {
            if (++_failed <= MaxReported)
            {
                problems.Add(problem);
            }
        }

        /// <summary>A cell as the row held it before the CSV's formula rule (which is undone exactly: one leading apostrophe).</summary>
        private string Text(string[] row, int index) => index < 0 ? "" : _raw ? Cell(row, index) : SpreadsheetSafety.Restore(Cell(row, index));

        private static int Index(IReadOnlyList<ExportColumn> columns, string key)
        {
            for (var i = 0; i < columns.Count; i++)
            {
                if (columns[i].Key == key)
                {
                    return i;
                }
            }

            return -1;
        }
    }

    private static string Cell(string[] row, int index) => index < row.Length ? row[index] : "";

    private static IEnumerable<string[]> CsvRows(string file)
    {
        using var reader = new CsvReader(new StreamReader(file, Encoding.UTF8), CultureInfo.InvariantCulture);
        if (!reader.Read())
        {
            yield break;
        }

        while (reader.Read())
        {
            yield return reader.Parser.Record ?? [];
        }
    }

    /// <summary>Each line's values in the manifest's column order, as the CSV would hold them (numbers as written, null empty).</summary>
    private static IEnumerable<string[]> JsonLinesRows(string file, IReadOnlyList<string> columns)
    {
        foreach (var line in File.ReadLines(file, Encoding.UTF8))
        {
            using var doc = System.Text.Json.JsonDocument.Parse(line);
            var row = new string[columns.Count];
            for (var i = 0; i < columns.Count; i++)
            {
                row[i] = doc.RootElement.TryGetProperty(columns[i], out var value) ? value.ValueKind switch
                {
                    System.Text.Json.JsonValueKind.String => value.GetString()!,
                    System.Text.Json.JsonValueKind.Number => value.GetRawText(),
                    System.Text.Json.JsonValueKind.True => "True",
                    System.Text.Json.JsonValueKind.False => "False",
                    _ => "",
                } : "";
            }

            yield return row;
        }
    }

    private static IEnumerable<string[]> XlsxRows(string file)
    {
        using var document = SpreadsheetDocument.Open(file, false);
        var workbook = document.WorkbookPart ?? throw new InvalidDataException("it has no workbook");
        foreach (var sheet in workbook.Workbook.Sheets?.Elements<Sheet>() ?? [])
        {
            var part = (WorksheetPart)workbook.GetPartById(sheet.Id!);
            using var reader = OpenXmlReader.Create(part);
            var header = true;
            while (reader.Read())
            {
                if (reader.ElementType != typeof(Row) || !reader.IsStartElement)
                {
                    continue;
                }

                var row = (Row)reader.LoadCurrentElement()!;
                if (header)
                {
                    header = false;
                    continue;
                }

                yield return row.Elements<Cell>().Select(c => c.DataType?.Value == CellValues.InlineString
                    ? Unescape(c.InlineString?.Text?.Text ?? "")
                    : c.CellValue?.Text ?? "").ToArray();
            }
        }
    }

    private static string Unescape(string text) =>
        text.Contains("_x", StringComparison.Ordinal) ? Regex.Replace(text, "_x([0-9A-F]{4})_", m => ((char)Convert.ToInt32(m.Groups[1].Value, 16)).ToString()) : text;
}
