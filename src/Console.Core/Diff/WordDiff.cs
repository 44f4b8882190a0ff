using DiffPlex;
using DiffPlex.Chunkers;

namespace ComplianceConsole.Core.Diff;

public enum SegmentKind
{
    Same,
    Removed,
    Added,
}

public sealed record TextSegment(string Text, SegmentKind Kind);

/// <summary>Word-level highlighting inside a changed value, as GitHub does inside a changed line (DiffPlex).</summary>
public static class WordDiff
{
    /// <summary>The before text as segments (same or removed) and the after text (same or added).</summary>
    public static (IReadOnlyList<TextSegment> Before, IReadOnlyList<TextSegment> After) Of(string before, string after)
    {
        var result = Differ.Instance.CreateDiffs(before, after, ignoreWhiteSpace: false, ignoreCase: false, new WordChunker());
        var left = new List<TextSegment>();
        var right = new List<TextSegment>();
        int a = 0, b = 0;
        foreach (var block in result.DiffBlocks)
        {
            Add(left, result.PiecesOld, a, block.DeleteStartA - a, SegmentKind.Same);
            Add(right, result.PiecesNew, b, block.InsertStartB - b, SegmentKind.Same);
            Add(left, result.PiecesOld, block.DeleteStartA, block.DeleteCountA, SegmentKind.Removed);
            Add(right, result.PiecesNew, block.InsertStartB, block.InsertCountB, SegmentKind.Added);
            a = block.DeleteStartA + block.DeleteCountA;
            b = block.InsertStartB + block.InsertCountB;
        }

        Add(left, result.PiecesOld, a, result.PiecesOld.Count - a, SegmentKind.Same);
        Add(right, result.PiecesNew, b, result.PiecesNew.Count - b, SegmentKind.Same);
        return (left, right);
    }

    /// <summary>Whether a value is long enough for word highlighting to help (short values are simply shown red and green).</summary>
    public static bool Worth(string? before, string? after) =>
        before is not null && after is not null && (before.Length > 24 || after.Length > 24) && (before.Contains(' ') || after.Contains(' '));

    private static void Add(List<TextSegment> segments, IReadOnlyList<string> pieces, int start, int count, SegmentKind kind)
    {
        if (count <= 0)
        {
            return;
        }

        var text = string.Concat(pieces.Skip(start).Take(count));
        if (segments.Count > 0 && segments[^1].Kind == kind)
        {
            segments[^1] = segments[^1] with { Text = segments[^1].Text + text };
        }
        else
        {
            segments.Add(new TextSegment(text, kind));
        }
    }
}
