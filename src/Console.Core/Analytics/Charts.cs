using System.Globalization;
using System.Text;
using ComplianceConsole.Core.Query;

namespace ComplianceConsole.Core.Analytics;

/// <summary>One element of a chart: a count of a series in a row, and the audit search that shows exactly those entries (null: not for this reader).</summary>
public sealed record ChartCell(string Series, long Count, AuditSearch? Link);

/// <summary>A row of a chart: a bar of time (<see cref="StartUtc"/> set) or a category (an actor, a table, an account).</summary>
public sealed record ChartRow(string Label, IReadOnlyList<ChartCell> Cells, DateTime? StartUtc = null, AuditSearch? Link = null)
{
    public long Total => Cells.Sum(c => c.Count);

    public long CountOf(string series) => Cells.Where(c => c.Series == series).Sum(c => c.Count);

    public ChartCell? Cell(string series) => Cells.FirstOrDefault(c => c.Series == series);
}

/// <summary>
/// What one dashboard chart shows, whatever draws it: rows (bars of time or categories) by series (operations, events).
/// The table view, the PNG and the export (<see cref="Export.ChartColumns"/>) read the same rows, so what is drawn, read out and downloaded agree.
/// </summary>
public sealed record ChartData(string Id, string Title, string RowHeader, IReadOnlyList<string> Series, IReadOnlyList<ChartRow> Rows, TimeSpan? BarSize = null)
{
    public long Total => Rows.Sum(r => r.Total);

    public bool IsEmpty => Total == 0;
}
