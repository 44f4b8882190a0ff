using ComplianceConsole.Core.Auditing;

namespace ComplianceConsole.Core.Tests;

public sealed class ChangeSetTests
{
    private static AuditEntry Entry(string operation, string? old, string? @new, string? changed = null) => new()
    {
        Operation = operation, Origin = "test", OldValues = old, NewValues = @new, ChangedColumns = changed,
    };

    [Fact]
    public void An_update_lists_each_column_with_its_before_and_after()
    {
        var columns = ChangeSet.Of(Entry(AuditOperations.Update, """{"Balance":"10.00","Note":null}""", """{"Balance":"12.50","Note":"vip"}""", """["Balance","Note"]"""));
        Assert.Equal([new ColumnChange("Balance", "10.00", "12.50", true), new ColumnChange("Note", "null", "vip", true)], columns);
    }

    [Fact]
    public void Full_record_updates_mark_the_unchanged_columns()
    {
        var columns = ChangeSet.Of(Entry(AuditOperations.Update, """{"Id":1,"Name":"Ada"}""", """{"Id":1,"Name":"Ada K"}""", """["Name"]"""));
        Assert.False(columns.Single(c => c.Column == "Id").Changed);
        Assert.True(columns.Single(c => c.Column == "Name").Changed);
    }

    [Fact]
    public void Inserts_and_deletes_show_one_side_and_events_none()
    {
        Assert.Equal([new ColumnChange("Name", null, "Ada", true)], ChangeSet.Of(Entry(AuditOperations.Insert, null, """{"Name":"Ada"}""")));
        Assert.Equal([new ColumnChange("Amount", "1.5", null, true)], ChangeSet.Of(Entry(AuditOperations.Delete, """{"Amount":1.5}""", null)));
        Assert.Empty(ChangeSet.Of(Entry(AuditOperations.Event, null, null)));
    }

    [Fact]
    public void Policy_names_must_be_entity_dot_property()
    {
        var problems = new AuditOptions { RedactedProperties = ["TaxId"] }.Validate().ToList();
        Assert.Contains("Entity.Property", Assert.Single(problems));
    }

    [Theory]
    [InlineData("auth.login_succeeded", true)]
    [InlineData("report.exported", true)]
    [InlineData("Report.Exported", false)]
    [InlineData("report", false)]
    [InlineData("a.b.c", false)]
    public void Event_names_are_resource_dot_verb(string name, bool valid) => Assert.Equal(valid, AuditEventNames.IsValid(name));
}
