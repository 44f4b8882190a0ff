using ComplianceConsole.Core.Query;

namespace ComplianceConsole.Core.Tests.Query;

public sealed class AuditSearchUrlTests
{
    [Fact]
    public void A_search_round_trips_through_its_url()
    {
        var search = new AuditSearch(QueryParser.Parse("table:Customers -actor:\"olivia officer\" \"Harbour Road\"").Query,
            TimeRange.Between(new DateTime(2026, 11, 1, 8, 30, 0, DateTimeKind.Utc), new DateTime(2026, 11, 30, 0, 0, 0, DateTimeKind.Utc)), Before: 1234);
        var url = search.ToQueryString();
        var back = AuditSearch.FromQueryString(url);
        Assert.Empty(back.Problems);
        Assert.Empty(back.QueryProblems);
        Assert.Equal(search, back.Search);
        Assert.Contains("from=2026-11-01T08%3A30%3A00Z", url);
    }

    [Fact]
    public void Defaults_are_left_out_of_the_url()
    {
        Assert.Equal("", AuditSearch.Default.ToQueryString());
        Assert.Equal(AuditSearch.Default, AuditSearch.FromQueryString("").Search);
        Assert.Equal("range=all&after=5", (AuditSearch.Default with { Range = TimeRange.All, After = 5 }).ToQueryString());
    }

    [Fact]
    public void Presets_stay_presets()
    {
        var back = AuditSearch.FromQueryString("?range=24H");
        Assert.Equal(new TimeRange("24h"), back.Search.Range);
    }

    [Theory]
    [InlineData("range=fortnight", "is not a time range")]
    [InlineData("from=yesterday", "is not a time")]
    [InlineData("from=2026-11-30&to=2026-11-01", "runs backwards")]
    [InlineData("before=-3", "whole number above 0")]
    [InlineData("before=abc", "whole number above 0")]
    [InlineData("table=Customers", "does not know")]
    [InlineData("q=a&q=b", "more than once")]
    [InlineData("range=7d&from=2026-11-01", "both a range and from/to")]
    [InlineData("before=5&after=9", "both before and after")]
    public void Bad_parameters_get_a_message_and_fall_back(string url, string message)
    {
        var parse = AuditSearch.FromQueryString(url);
        Assert.Contains(parse.Problems, p => p.Contains(message));
    }

    [Fact]
    public void A_long_parameter_is_echoed_short()
    {
        var parse = AuditSearch.FromQueryString("range=" + new string('x', 5000));
        var problem = Assert.Single(parse.Problems);
        Assert.True(problem.Length < 400, problem);
        Assert.Contains("5,000 characters", problem);
    }

    [Fact]
    public void A_bad_query_in_the_url_is_reported_where_it_is()
    {
        var parse = AuditSearch.FromQueryString("q=" + Uri.EscapeDataString("op:upd"));
        Assert.Equal("op:upd", parse.QueryText);
        Assert.Contains("op:update", Assert.Single(parse.QueryProblems).Message);
    }

    [Fact]
    public void Typed_times_are_read_in_the_zone_shown()
    {
        var berlin = TimeZoneInfo.FindSystemTimeZoneById("Europe/Berlin");
        Assert.True(TimeFormat.TryParse("2026-11-30 12:00", berlin, out var utc));
        Assert.Equal(new DateTime(2026, 11, 30, 11, 0, 0, DateTimeKind.Utc), utc);
        Assert.True(TimeFormat.TryParse("2026-11-30T12:00:00Z", berlin, out utc));
        Assert.Equal(12, utc.Hour);
        Assert.True(TimeFormat.TryParse("2026-11-30T12:00:00+02:00", berlin, out utc));
        Assert.Equal(10, utc.Hour);
        Assert.False(TimeFormat.TryParse("30/11/2026", berlin, out _));
        Assert.Equal("2026-11-30 12:39:01", TimeFormat.Format(new DateTime(2026, 11, 30, 12, 39, 1, DateTimeKind.Utc).AddTicks(1234567), TimeZoneInfo.Utc));
    }
}
