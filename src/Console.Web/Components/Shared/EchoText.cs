namespace ComplianceConsole.Web.Components.Shared;

/// <summary>Text taken from the URL and shown back to the user: capped, so a crafted 5,000-character link cannot fill or widen a page.</summary>
public static class EchoText
{
    public static string Cap(string? text, int max = 80) =>
        string.IsNullOrEmpty(text) ? "" : text.Length <= max ? text : string.Concat(text.AsSpan(0, max), "…");
}
