using ComplianceConsole.Core.Auditing;
using ComplianceConsole.Core.Diff;
using ComplianceConsole.Core.History;

namespace ComplianceConsole.Core.Tests.Diff;

public sealed class EntryDiffTests
{
    private static AuditEntry E(long seq, string op, string? old, string? @new, string? changed = null) => new()
    {
        Seq = seq, Operation = op, TableName = "Customers", RecordKey = "{\"Id\":7}", OldValues = old, NewValues = @new, ChangedColumns = changed, Origin = "test",
    };

    private static readonly List<AuditEntry> History =
    [
        E(1, "insert", null, """{"Id":7,"Name":"Ada Lovelace","Note":"first customer of the Berlin branch, met at the fair","TaxId":"[redacted]","Profile":"{\"tier\":\"gold\",\"tags\":[\"a\"]}","Balance":"1234567.5","CreatedAt":"2026-03-03 09:15:00.1234567+00:00"}"""),
        E(5, "update", """{"Name":"Ada Lovelace"}""", """{"Name":"Ada King"}""", """["Name"]"""),
        E(9, "update", """{"Note":"first customer of the Berlin branch, met at the fair","TaxId":"[redacted: changed]","Profile":"{\"tier\":\"gold\",\"tags\":[\"a\"]}"}""",
            """{"Note":"first customer of the Dublin branch, met at the fair","TaxId":"[redacted: changed]","Profile":"{\"tier\":\"platinum\",\"tags\":[\"a\"]}"}""", """["Note","TaxId","Profile"]"""),
        E(12, "delete", """{"Id":7,"Name":"Ada King","Note":"first customer of the Dublin branch, met at the fair","TaxId":"[redacted]","Profile":"{\"tier\":\"platinum\",\"tags\":[\"a\"]}","Balance":"1234567.5","CreatedAt":"2026-03-03 09:15:00.1234567+00:00"}""", null),
    ];

    [Fact]
    public void Replay_gives_the_record_as_it_stood_at_any_seq()
    {
        Assert.Equal("Ada Lovelace", RecordHistory.Replay(History, 4)["Name"]!.Value.GetString());
        Assert.Equal("Ada King", RecordHistory.Replay(History, 5)["Name"]!.Value.GetString());
        var deleted = RecordHistory.Replay(History);
        Assert.False(deleted.Exists);
        Assert.Equal("Ada King", deleted["Name"]!.Value.GetString()); // as it was before the delete
        Assert.False(RecordHistory.Replay(History, 0).Exists);
    }

    [Fact]
    public void A_snapshot_starts_a_replay_like_an_insert_and_other_events_change_nothing()
    {
        var snapshot = E(20, "event", null, """{"Id":7,"Name":"From the baseline","Note":null}""") with { EventName = AuditEventNames.CaptureBaseline };
        var viewed = E(21, "event", null, null) with { EventName = AuditEventNames.RecordViewed };
        var update = E(22, "update", """{"Name":"From the baseline"}""", """{"Name":"After it"}""", """["Name"]""");
        var state = RecordHistory.Replay([snapshot, viewed, update]);
        Assert.True(state.Exists);
        Assert.Equal((22L, "After it"), (state.AsOfSeq!.Value, state["Name"]!.Value.GetString()));
        Assert.Equal(System.Text.Json.JsonValueKind.Null, state["Note"]!.Value.ValueKind);
        Assert.Equal([20L, 22L], RecordHistory.Versions([snapshot, viewed, update]).Select(v => v.Entry.Seq));
        var baseline = RecordHistory.Replay([snapshot]);
        Assert.Same(baseline, RecordHistory.Apply(baseline, viewed));
    }

    [Fact]
    public void As_of_a_time_takes_every_entry_up_to_it()
    {
        var at = new DateTime(2026, 3, 3, 12, 0, 0, DateTimeKind.Utc);
        var timed = History.Select((e, i) => e with { OccurredAtUtc = at.AddHours(i) }).ToList();
        Assert.False(RecordHistory.AsOf(timed, at.AddSeconds(-1)).Exists);
        Assert.Equal("Ada Lovelace", RecordHistory.AsOf(timed, at)["Name"]!.Value.GetString());
        Assert.Equal("Ada King", RecordHistory.AsOf(timed, at.AddHours(1))["Name"]!.Value.GetString());
        Assert.False(RecordHistory.AsOf(timed, at.AddDays(1)).Exists);
    }

    [Fact]
    public void Two_versions_compare_column_by_column_and_an_undelete_adds_every_column()
    {
        var diff = EntryDiff.Compare(RecordHistory.Replay(History, 1), RecordHistory.Replay(History, 9));
        Assert.Equal(["Name", "Note", "Profile", "TaxId"], diff.Where(r => r.Kind == DiffKind.Changed).Select(r => r.Column).Order(StringComparer.Ordinal));
        Assert.True(diff.Single(r => r.Column == "TaxId").Redacted);
        var back = EntryDiff.Compare(RecordHistory.Replay(History), RecordHistory.Replay(History, 9));
        Assert.All(back, r => Assert.Equal(DiffKind.Added, r.Kind));
    }

    [Fact]
    public void An_entry_whose_earlier_entries_are_gone_still_shows_its_old_values()
    {
        var (before, after) = RecordHistory.Around([History[1]], 5);
        Assert.Equal("Ada Lovelace", before["Name"]!.Value.GetString());
        Assert.Equal("Ada King", after["Name"]!.Value.GetString());
    }

    [Fact]
    public void An_update_shows_every_column_with_the_changed_ones_first()
    {
        var (before, after) = RecordHistory.Around(History, 5);
        var rows = EntryDiff.Build(History[1], before, after);
        Assert.Equal(7, rows.Count);
        Assert.Equal("Name", rows[0].Column);
        Assert.Equal(DiffKind.Changed, rows[0].Kind);
        Assert.All(rows.Skip(1), r => Assert.Equal(DiffKind.Unchanged, r.Kind));
        Assert.Equal("1234567.5", rows.Single(r => r.Column == "Balance").After!.Value.GetString());
    }

    [Fact]
    public void Redacted_values_are_marked_and_never_diffed_as_text()
    {
        var (before, after) = RecordHistory.Around(History, 9);
        var tax = EntryDiff.Build(History[2], before, after).Single(r => r.Column == "TaxId");
        Assert.True(tax.Redacted);
        Assert.Equal(DiffKind.Changed, tax.Kind);
        Assert.Empty(tax.Children);
    }

    [Fact]
    public void Json_is_diffed_per_path()
    {
        var (before, after) = RecordHistory.Around(History, 9);
        var profile = EntryDiff.Build(History[2], before, after).Single(r => r.Column == "Profile");
        Assert.True(profile.IsJson);
        var tier = profile.Children.Single(c => c.Column == "tier");
        Assert.Equal(DiffKind.Changed, tier.Kind);
        Assert.Equal(DiffKind.Unchanged, profile.Children.Single(c => c.Column == "tags › 0").Kind);
    }

    [Fact]
    public void Inserts_and_deletes_show_the_whole_record_on_one_side()
    {
        var (b0, a0) = RecordHistory.Around(History, 1);
        Assert.All(EntryDiff.Build(History[0], b0, a0), r => Assert.Equal(DiffKind.Added, r.Kind));
        var (b1, a1) = RecordHistory.Around(History, 12);
        var removed = EntryDiff.Build(History[3], b1, a1);
        Assert.All(removed, r => Assert.Equal(DiffKind.Removed, r.Kind));
        Assert.Equal("Ada King", removed.Single(r => r.Column == "Name").Before!.Value.GetString());
    }

    [Fact]
    public void An_update_whose_earlier_history_is_missing_says_the_value_is_unknown()
    {
        var orphan = E(20, "update", """{"Name":"X"}""", """{"Name":"Y"}""", """["Name"]""");
        var (before, after) = RecordHistory.Around([orphan], 20);
        var row = Assert.Single(EntryDiff.Build(orphan, before, after));
        Assert.True(row.Known); // the update itself carries the old value
        Assert.Equal("X", row.Before!.Value.GetString());
    }

    [Fact]
    public void Long_text_is_highlighted_word_by_word()
    {
        var (left, right) = WordDiff.Of("first customer of the Berlin branch", "first customer of the Dublin branch");
        Assert.Equal("Berlin", Assert.Single(left, s => s.Kind == SegmentKind.Removed).Text);
        Assert.Equal("Dublin", Assert.Single(right, s => s.Kind == SegmentKind.Added).Text);
        Assert.Equal("first customer of the Berlin branch", string.Concat(left.Select(s => s.Text)));
    }

    [Theory]
    [InlineData("CreatedAt", "\"2026-03-03 09:15:00.1234567+00:00\"", "2026-03-03 09:15:00")]
    [InlineData("Balance", "\"1234567.5\"", "1,234,567.50 EUR")]
    [InlineData("Amount", "-12.3", "-12.30 EUR")]
    [InlineData("Name", "null", "—")]
    [InlineData("Name", "\"\"", "(empty)")]
    [InlineData("CustomerId", "12345", "12345")]
    [InlineData("Active", "true", "yes")]
    public void Values_read_as_people_expect(string column, string json, string expected)
    {
        using var doc = System.Text.Json.JsonDocument.Parse(json);
        Assert.Equal(expected, ValueDisplay.Text(doc.RootElement.Clone(), column, TimeZoneInfo.Utc, "EUR"));
    }

    [Fact]
    public void Times_follow_the_zone_shown()
    {
        using var doc = System.Text.Json.JsonDocument.Parse("\"2026-03-03 09:15:00+00:00\"");
        Assert.Equal("2026-03-03 10:15:00", ValueDisplay.Text(doc.RootElement.Clone(), "CreatedAt", TimeZoneInfo.FindSystemTimeZoneById("Europe/Berlin")));
    }
}
