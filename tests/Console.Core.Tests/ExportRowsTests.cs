using ComplianceConsole.Core.Auditing;
using ComplianceConsole.Core.Export;

namespace ComplianceConsole.Core.Tests;

/// <summary>The export row shape and the formula rule, as every writer uses them.</summary>
public sealed class ExportRowsTests
{
    [Theory]
    [InlineData("=1+1")]
    [InlineData("+41 44")]
    [InlineData("-12.50")]
    [InlineData("@SUM(A1)")]
    [InlineData("\tcmd")]
    [InlineData("\rcmd")]
    [InlineData("'already")]
    public void A_value_a_spreadsheet_would_run_gets_an_apostrophe_and_gets_back_exactly(string value)
    {
        var safe = SpreadsheetSafety.Neutralise(value);
        Assert.Equal("'" + value, safe);
        Assert.Equal(value, SpreadsheetSafety.Restore(safe));
    }

    [Theory]
    [InlineData("plain")]
    [InlineData("")]
    [InlineData("a=b")]
    [InlineData(" =leading space")]
    public void Any_other_value_is_left_as_it_is(string value)
    {
        Assert.Equal(value, SpreadsheetSafety.Neutralise(value));
        Assert.Equal(value, SpreadsheetSafety.Restore(SpreadsheetSafety.Neutralise(value)));
    }

    [Fact]
    public void An_update_in_changed_only_mode_keeps_its_changed_fields_and_an_event_puts_its_target_and_details_in_place()
    {
        var update = new AuditEntry
        {
            Seq = 7, OccurredAtUtc = new DateTime(2026, 12, 1, 23, 30, 0, DateTimeKind.Utc), Operation = AuditOperations.Update, TableName = "Customers",
            RecordKey = "{\"Id\":1}", OldValues = "{\"Name\":\"A\",\"City\":\"Bern\"}", NewValues = "{\"Name\":\"B\",\"City\":\"Bern\"}", ChangedColumns = "[\"Name\"]", Origin = "page:/customers/1",
        };
        var zurich = TimeZoneInfo.FindSystemTimeZoneById("Europe/Zurich");
        var full = ExportRows.Values(update, "Ann", zurich, ExportValues.Full, ExportRows.Columns);
        var changed = ExportRows.Values(update, "Ann", zurich, ExportValues.ChangedOnly, ExportRows.Columns);
        int Column(string key) => ExportRows.Columns.ToList().FindIndex(c => c.Key == key);
        Assert.Equal(7L, full[Column("seq")]);
        Assert.Equal(new DateTime(2026, 12, 2, 0, 30, 0), full[Column(ExportRows.LocalTime)]);
        Assert.Equal("{\"Name\":\"A\",\"City\":\"Bern\"}", full[Column("before")]);
        Assert.Equal("{\"Name\":\"A\"}", changed[Column("before")]);
        Assert.Equal("{\"Name\":\"B\"}", changed[Column("after")]);
        Assert.Equal("Name", changed[Column("changed")]);
        Assert.Equal("time (Europe/Zurich)", ExportRows.Header(ExportRows.Columns[Column(ExportRows.LocalTime)], zurich));

        var login = new AuditEntry { Seq = 8, Operation = AuditOperations.Event, EventName = AuditEventNames.LoginFailed, Target = "mallory@example.test", Metadata = "{\"knownUser\":\"false\"}", Origin = "endpoint:/account/login" };
        var row = ExportRows.Values(login, null, TimeZoneInfo.Utc, ExportValues.ChangedOnly, ExportRows.Columns);
        Assert.Equal((AuditEventNames.LoginFailed, "mallory@example.test", "{\"knownUser\":\"false\"}"), (row[Column("subject")], row[Column("record")], row[Column("after")]));
    }
}
