using System.Globalization;

namespace ComplianceConsole.Core.Retention;

/// <summary>A named retention period: a number of days, or forever (null).</summary>
public sealed record RetentionPreset(string Name, int? Days, string? UsedFor = null);

/// <summary>
/// A regulatory floor: the shortest period a scope may be given, and the rule that sets it (for example PCI DSS 1 year on
/// payments, HIPAA 6 years, SOX 7 years on accounts). Configured per scope (Retention:Floors).
/// </summary>
public sealed record RetentionFloor(string Scope, int Days, string Regulation);

/// <summary>
/// What a retention policy applies to: an audited table (its row changes, and the baselines and snapshots of its records),
/// or an event family (<c>auth.*</c>: the events whose name starts with <c>auth.</c> and that name no table).
/// </summary>
public static class RetentionScopes
{
    /// <summary>The family of the purge's own anchors: never purged, because they prove what was removed.</summary>
    public const string Anchors = "retention.*";

    public static bool IsFamily(string scope) => scope.EndsWith(".*", StringComparison.Ordinal);

    /// <summary>The family an event belongs to: <c>auth.login_failed</c> → <c>auth.*</c>.</summary>
    public static string FamilyOf(string eventName)
    {
        var dot = eventName.IndexOf('.');
        return (dot > 0 ? eventName[..dot] : eventName) + ".*";
    }

    /// <summary>The prefix an event's name starts with when it is in <paramref name="family"/>: <c>auth.*</c> → <c>auth.</c>.</summary>
    public static string PrefixOf(string family) => family[..^1];
}

/// <summary>The rules of retention policies, in one place: presets, floors, what counts as shortening, and the cut-off.</summary>
public static class RetentionRules
{
    /// <summary>The longest finite period accepted: 100 years. Longer is "forever".</summary>
    public const int MaxDays = 36_500;

    public static IReadOnlyList<RetentionPreset> Presets { get; } =
    [
        new("30 days", 30),
        new("1 year", 365),
        new("3 years", 1095, "general SaaS"),
        new("5 years", 1826, "medical"),
        new("7 years", 2557, "financial"),
        new("Forever", null),
    ];

    /// <summary>How a period reads: "forever", "7 years", "1 year", "90 days".</summary>
    public static string Describe(int? days) => days switch
    {
        null => "forever",
        1 => "1 day",
        _ when Presets.FirstOrDefault(p => p.Days == days) is { } preset => preset.Name,
        _ => string.Create(CultureInfo.InvariantCulture, $"{days:N0} days"),
    };

    /// <summary>
    /// Why <paramref name="days"/> may not be set on <paramref name="scope"/>, in a sentence that says what to do instead;
    /// null when it may.
    /// </summary>
    public static string? Refusal(string scope, int? days, RetentionFloor? floor)
    {
        if (scope == RetentionScopes.Anchors && days is not null)
        {
            return "Retention anchors (retention.*) are kept forever: they prove what every purge removed, so the chain can be verified after it.";
        }

        if (days is < 1)
        {
            return "A retention period is at least 1 day. Choose a preset, a number of days from 1 to 36,500, or forever.";
        }

        if (days > MaxDays)
        {
            return string.Create(CultureInfo.InvariantCulture, $"{days:N0} days is over 100 years. Choose forever instead, or a number of days up to 36,500.");
        }

        if (floor is not null && (days is { } d && d < floor.Days))
        {
            var named = Describe(floor.Days);
            return string.Create(CultureInfo.InvariantCulture, $"{scope} must keep entries at least {named}")
                + (named.EndsWith(" days", StringComparison.Ordinal) ? "" : string.Create(CultureInfo.InvariantCulture, $" ({floor.Days:N0} days)"))
                + string.Create(CultureInfo.InvariantCulture, $" under {floor.Regulation}. Choose {floor.Days:N0} days or more, or forever.");
        }

        return null;
    }

    /// <summary>Whether going from <paramref name="from"/> to <paramref name="to"/> keeps entries for less time (forever → finite included): such a change needs a second officer's approval.</summary>
    public static bool IsShortening(int? from, int? to) => to is { } t && (from is not { } f || t < f);

    /// <summary>Entries that occurred before this time are expired under a period of <paramref name="days"/>; null when kept forever.</summary>
    public static DateTime? Cutoff(DateTime nowUtc, int? days) => days is { } d ? nowUtc.AddDays(-d) : null;
}
