using System.Globalization;
using ComplianceConsole.Core.Retention;

namespace ComplianceConsole.Core.Tests;

public sealed class RetentionRulesTests
{
    private static readonly RetentionFloor Pci = new("Payments", 365, "PCI DSS");
    private static readonly RetentionFloor Hipaa = new("Patients", 2190, "HIPAA");

    [Fact]
    public void The_presets_are_30_days_1_3_5_and_7_years_and_forever_in_that_order()
    {
        Assert.Equal([30, 365, 1095, 1826, 2557, null], RetentionRules.Presets.Select(p => p.Days));
        Assert.Equal(["30 days", "1 year", "3 years", "5 years", "7 years", "Forever"], RetentionRules.Presets.Select(p => p.Name));
        Assert.Equal("financial", RetentionRules.Presets.Single(p => p.Days == 2557).UsedFor);
    }

    [Fact]
    public void Every_preset_is_accepted_on_an_ordinary_scope()
    {
        Assert.All(RetentionRules.Presets, p => Assert.Null(RetentionRules.Refusal("Customers", p.Days, null)));
    }

    [Theory]
    [InlineData(null, "forever")]
    [InlineData(1, "1 day")]
    [InlineData(2, "2 days")]
    [InlineData(30, "30 days")]
    [InlineData(90, "90 days")]
    [InlineData(365, "1 year")]
    [InlineData(1095, "3 years")]
    [InlineData(1826, "5 years")]
    [InlineData(2557, "7 years")]
    [InlineData(2190, "2,190 days")]
    [InlineData(36500, "36,500 days")]
    public void A_period_reads_as_a_preset_name_or_a_number_of_days(int? days, string expected)
    {
        Assert.Equal(expected, RetentionRules.Describe(days));
    }

    [Fact]
    public void A_period_reads_the_same_whatever_the_culture_of_the_server()
    {
        var previous = CultureInfo.CurrentCulture;
        try
        {
            CultureInfo.CurrentCulture = new CultureInfo("de-DE");
            Assert.Equal("2,190 days", RetentionRules.Describe(2190));
        }
        finally
        {
            CultureInfo.CurrentCulture = previous;
        }
    }

    [Theory]
    [InlineData(0)]
    [InlineData(-1)]
    [InlineData(int.MinValue)]
    public void Less_than_a_day_is_refused_with_what_to_choose_instead(int days)
    {
        Assert.Equal(
            "A retention period is at least 1 day. Choose a preset, a number of days from 1 to 36,500, or forever.",
            RetentionRules.Refusal("Customers", days, null));
    }

    [Fact]
    public void More_than_100_years_is_refused_with_forever_as_the_alternative()
    {
        Assert.Equal(
            "36,501 days is over 100 years. Choose forever instead, or a number of days up to 36,500.",
            RetentionRules.Refusal("Customers", 36_501, null));
        Assert.NotNull(RetentionRules.Refusal("Customers", int.MaxValue, null));
    }

    [Theory]
    [InlineData(1)]
    [InlineData(36_500)]
    [InlineData(null)]
    public void The_bounds_themselves_and_forever_are_accepted(int? days)
    {
        Assert.Null(RetentionRules.Refusal("Customers", days, null));
        Assert.Null(RetentionRules.Refusal("auth.*", days, null));
    }

    [Fact]
    public void A_period_below_a_floor_is_refused_naming_the_regulation_the_floor_and_what_to_choose()
    {
        Assert.Equal(
            "Payments must keep entries at least 1 year (365 days) under PCI DSS. Choose 365 days or more, or forever.",
            RetentionRules.Refusal("Payments", 30, Pci));

        var hipaa = RetentionRules.Refusal("Patients", 1826, Hipaa);
        Assert.NotNull(hipaa);
        Assert.StartsWith("Patients must keep entries at least ", hipaa);
        Assert.Contains("under HIPAA", hipaa);
        Assert.Contains("2,190 days", hipaa);
        Assert.EndsWith("Choose 2,190 days or more, or forever.", hipaa);
    }

    [Fact]
    public void A_period_at_or_above_the_floor_is_accepted()
    {
        Assert.Null(RetentionRules.Refusal("Payments", 365, Pci));
        Assert.Null(RetentionRules.Refusal("Payments", 366, Pci));
        Assert.Null(RetentionRules.Refusal("Payments", 2557, Pci));
        Assert.NotNull(RetentionRules.Refusal("Payments", 364, Pci));
    }

    [Fact]
    public void Forever_is_always_allowed_above_a_floor()
    {
        Assert.Null(RetentionRules.Refusal("Payments", null, Pci));
        Assert.Null(RetentionRules.Refusal("Patients", null, Hipaa));
        Assert.Null(RetentionRules.Refusal("Ledger", null, new RetentionFloor("Ledger", RetentionRules.MaxDays, "a 100-year rule")));
    }

    [Fact]
    public void The_day_bounds_are_checked_before_the_floor()
    {
        Assert.StartsWith("A retention period is at least 1 day.", RetentionRules.Refusal("Payments", 0, Pci));
        Assert.StartsWith("40,000 days is over 100 years.", RetentionRules.Refusal("Payments", 40_000, Pci));
    }

    [Theory]
    [InlineData(1)]
    [InlineData(30)]
    [InlineData(36_500)]
    [InlineData(0)]
    public void Retention_anchors_must_be_kept_forever(int days)
    {
        var refusal = RetentionRules.Refusal(RetentionScopes.Anchors, days, null);

        Assert.NotNull(refusal);
        Assert.Contains("retention.*", refusal);
        Assert.Contains("kept forever", refusal);
        Assert.Null(RetentionRules.Refusal(RetentionScopes.Anchors, null, null));
        Assert.Equal("retention.*", RetentionScopes.Anchors);
    }

    [Fact]
    public void Refusal_messages_read_the_same_whatever_the_culture_of_the_server()
    {
        var invariant = (RetentionRules.Refusal("Customers", 36_501, null), RetentionRules.Refusal("Patients", 30, Hipaa));
        var previous = CultureInfo.CurrentCulture;
        try
        {
            CultureInfo.CurrentCulture = new CultureInfo("de-DE");
            Assert.Equal(invariant, (RetentionRules.Refusal("Customers", 36_501, null), RetentionRules.Refusal("Patients", 30, Hipaa)));
        }
        finally
        {
            CultureInfo.CurrentCulture = previous;
        }
    }

    [Theory]
    [InlineData(null, 2557, true)] // forever → finite
    [InlineData(null, 36500, true)]
    [InlineData(365, 30, true)]
    [InlineData(366, 365, true)]
    [InlineData(30, 365, false)]
    [InlineData(365, 365, false)]
    [InlineData(30, null, false)] // finite → forever
    [InlineData(null, null, false)]
    public void Shortening_is_keeping_entries_for_less_time(int? from, int? to, bool shortening)
    {
        Assert.Equal(shortening, RetentionRules.IsShortening(from, to));
    }

    [Fact]
    public void The_cutoff_is_that_many_days_before_now_and_there_is_none_when_kept_forever()
    {
        var now = new DateTime(2028, 3, 1, 12, 0, 0, DateTimeKind.Utc);

        Assert.Equal(new DateTime(2028, 1, 31, 12, 0, 0, DateTimeKind.Utc), RetentionRules.Cutoff(now, 30));
        // Days, not calendar years: 2028 is a leap year, so 365 days before 1 March 2028 is 2 March 2027.
        Assert.Equal(new DateTime(2027, 3, 2, 12, 0, 0, DateTimeKind.Utc), RetentionRules.Cutoff(now, 365));
        Assert.Equal(DateTimeKind.Utc, RetentionRules.Cutoff(now, 365)!.Value.Kind);
        Assert.Null(RetentionRules.Cutoff(now, null));
    }

    [Theory]
    [InlineData("auth.login_failed", "auth.*")]
    [InlineData("auth.mfa.enrolled", "auth.*")]
    [InlineData("retention.purged", RetentionScopes.Anchors)]
    [InlineData("heartbeat", "heartbeat.*")]
    public void An_event_belongs_to_the_family_of_its_first_name_part(string eventName, string family)
    {
        Assert.Equal(family, RetentionScopes.FamilyOf(eventName));
        Assert.True(RetentionScopes.IsFamily(family));
    }

    [Fact]
    public void A_family_s_prefix_matches_its_events_and_not_others()
    {
        var prefix = RetentionScopes.PrefixOf(RetentionScopes.FamilyOf("auth.login_failed"));

        Assert.Equal("auth.", prefix);
        Assert.StartsWith(prefix, "auth.logout", StringComparison.Ordinal);
        Assert.False("authz.denied".StartsWith(prefix, StringComparison.Ordinal));
    }

    [Theory]
    [InlineData("Customers", false)]
    [InlineData("auth.*", true)]
    [InlineData("retention.*", true)]
    [InlineData("auth.login_failed", false)]
    public void A_scope_is_a_family_when_it_ends_in_dot_star(string scope, bool family)
    {
        Assert.Equal(family, RetentionScopes.IsFamily(scope));
    }
}
