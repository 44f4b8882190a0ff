using ComplianceConsole.Web.Components.Audit;

namespace ComplianceConsole.Web.Components.History;

/// <summary>Where a record's history lives: <c>/history/{table}/{key}</c>, the key's value for a one-column key, else its JSON.</summary>
public static class HistoryLinks
{
    public static string For(string table, string? keyJson) =>
        $"/history/{Uri.EscapeDataString(table)}/{Uri.EscapeDataString(EntryColumns.RecordValue(keyJson))}";

    /// <summary>The history of a managed record by its id (an int, long or GUID key named Id).</summary>
    public static string For(string table, object id) =>
        $"/history/{Uri.EscapeDataString(table)}/{Uri.EscapeDataString(id is Guid g ? g.ToString().ToUpperInvariant() : Convert.ToString(id, System.Globalization.CultureInfo.InvariantCulture)!)}";

    /// <summary>The console's page for a managed record, where there is one.</summary>
    public static string? RecordPage(string table, string? keyJson)
    {
        var id = EntryColumns.RecordValue(keyJson);
        return id.StartsWith('{') ? null : table switch
        {
            "Customers" => $"/customers/{id}",
            "Accounts" => $"/accounts/{id.ToLowerInvariant()}",
            "Payments" => $"/payments/{id}",
            "Documents" => $"/documents/{id.ToLowerInvariant()}",
            _ => null,
        };
    }
}
