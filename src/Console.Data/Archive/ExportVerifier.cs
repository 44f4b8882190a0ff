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
public sealed record ExportVerification(long RowsRead, IReadOnlyList<string> Problems)
{
    public bool IsValid => Problems.Count == 0;
}

/// <summary>
/// Checks an export file against its manifest, offline, with the public key only: the manifest's signature, the file's
/// size and SHA-256, and the rows read back (how many, their seqs in order, the first and last row hashes). Reads only.
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
        long rows = 0, previous = 0;
        string? firstHash = null, lastHash = null;
        long? firstSeq = null, lastSeq = null;
        try
        {
            foreach (var row in manifest.FileFormat == "xlsx" ? XlsxRows(file) : CsvRows(file))
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
            }
        }
        catch (Exception ex) when (ex is InvalidDataException or OpenXmlPackageException or CsvHelperException or IOException)
        {
            problems.Add($"The file cannot be read as {manifest.FileFormat}: {ex.Message}");
        }

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

        return new ExportVerification(rows, problems);
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
