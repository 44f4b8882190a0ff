using System.Globalization;

namespace ComplianceConsole.Web.Components.Shared;

/// <summary>Counts as people write them: "1 column", "2 columns", never "1 column(s)".</summary>
public static class Words
{
    public static string Count(double count, string noun, string? plural = null) =>
        string.Create(CultureInfo.CurrentCulture, $"{count:#,0.##} {(count == 1 ? noun : plural ?? noun + "s")}");
}
