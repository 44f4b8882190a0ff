using ComplianceConsole.Core.Query;

namespace ComplianceConsole.Core.Tests.Query;

/// <summary>The one parse of a typed range (the picker's custom range, the command line's --from/--to).</summary>
public sealed class TimeRangeParseTests
{
    private static readonly TimeZoneInfo Zurich = TimeZoneInfo.FindSystemTimeZoneById("Europe/Zurich");

    [Fact]
    public void Times_are_read_in_the_zone_and_either_end_may_be_open()
    {
        var range = TimeRange.TryParse("2026-11-30 12:00", "", Zurich, out var problem);
        Assert.Null(problem);
        Assert.Equal((new DateTime(2026, 11, 30, 11, 0, 0, DateTimeKind.Utc), (DateTime?)null), (range!.FromUtc, range.ToUtc));
        Assert.Equal(TimeRange.All, TimeRange.TryParse(" ", null, Zurich, out _));
    }

    [Theory]
    [InlineData("yesterday", "", "The start \"yesterday\" is not a time: write 2026-11-30 or 2026-11-30 12:39:01 (in Europe/Zurich)")]
    [InlineData("2026-12-01", "2026-11-01", "The start must come before the end.")]
    public void A_bad_range_says_what_to_write(string from, string to, string message)
    {
        Assert.Null(TimeRange.TryParse(from, to, Zurich, out var problem));
        Assert.StartsWith(message, problem);
    }

    [Fact]
    public void The_command_line_names_its_options()
    {
        Assert.Null(TimeRange.TryParse("2026-12-01", "soon", TimeZoneInfo.Utc, out var problem, ("--from", "--to")));
        Assert.StartsWith("--to \"soon\" is not a time: write 2026-11-30 or 2026-11-30 12:39:01 (in UTC)", problem);
        Assert.Null(TimeRange.TryParse("2026-12-01", "2026-12-01", TimeZoneInfo.Utc, out problem, ("--from", "--to")));
        Assert.Equal("--from must come before --to.", problem);
    }
}
