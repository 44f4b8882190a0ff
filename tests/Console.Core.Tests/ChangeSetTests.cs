using ComplianceConsole.Core.Auditing;

namespace ComplianceConsole.Core.Tests;

public sealed class ChangeSetTests
{
    private const string Old = """{"Id":1,"Name":"Ada","Balance":"10.00","Note":null}""";
    private const string New = """{"Id":1,"Name":"Ada","Balance":"12.50","Note":"vip"}""";

    [Fact]
    public void Changed_only_keeps_the_changed_columns_in_both_images()
    {
        var set = ChangeSet.From(AuditOperations.Update, Old, New, AuditValueMode.ChangedOnly)!;
        Assert.Equal("""{"Balance":"10.00","Note":null}""", set.OldValues);
        Assert.Equal("""{"Balance":"12.50","Note":"vip"}""", set.NewValues);
        Assert.Equal("""["Balance","Note"]""", set.ChangedColumns);
    }

    [Fact]
    public void Full_record_keeps_both_rows_as_captured()
    {
        var set = ChangeSet.From(AuditOperations.Update, Old, New, AuditValueMode.FullRecord)!;
        Assert.Equal(Old, set.OldValues);
        Assert.Equal(New, set.NewValues);
    }

    [Fact]
    public void An_update_that_changes_nothing_is_no_change()
    {
        Assert.Null(ChangeSet.From(AuditOperations.Update, Old, Old, AuditValueMode.ChangedOnly));
    }

    [Fact]
    public void Numbers_that_differ_only_in_type_count_as_a_change()
    {
        var set = ChangeSet.From(AuditOperations.Update, """{"A":1}""", """{"A":"1"}""", AuditValueMode.ChangedOnly);
        Assert.NotNull(set);
    }

    [Fact]
    public void Inserts_and_deletes_keep_their_one_image()
    {
        Assert.Equal(new ChangeSet(null, New, null), ChangeSet.From(AuditOperations.Insert, null, New, AuditValueMode.ChangedOnly));
        Assert.Equal(new ChangeSet(Old, null, null), ChangeSet.From(AuditOperations.Delete, Old, null, AuditValueMode.ChangedOnly));
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
