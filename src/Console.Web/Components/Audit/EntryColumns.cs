using System.Text.Json;
using ComplianceConsole.Core.Auditing;

namespace ComplianceConsole.Web.Components.Audit;

/// <summary>The audit browser's columns: their titles, widths (which fit 1280 px together) and the default set.</summary>
public static class EntryColumns
{
    public const string When = "when";
    public const string Seq = "seq";
    public const string Operation = "op";
    public const string Table = "table";
    public const string Record = "record";
    public const string Actor = "actor";
    public const string Origin = "origin";
    public const string Changed = "changed";
    public const string Ip = "ip";
    public const string Correlation = "correlation";
    public const string Transaction = "tx";

    public static readonly IReadOnlyList<string> All = [When, Seq, Operation, Table, Record, Actor, Origin, Changed, Ip, Correlation, Transaction];

    public static readonly IReadOnlyList<string> Default = [When, Operation, Table, Record, Actor, Origin];

    public static string Title(string column) => column switch
    {
        When => "When",
        Seq => "Seq",
        Operation => "Operation",
        Table => "Table or event",
        Record => "Record",
        Actor => "Actor",
        Origin => "Origin",
        Changed => "Changed",
        Ip => "IP",
        Correlation => "Correlation",
        Transaction => "Transaction",
        _ => column,
    };

    public static string Width(string column) => column switch
    {
        When => "11rem",
        Seq => "5rem",
        Operation => "6.5rem",
        Table => "10rem",
        Record => "auto",
        Actor => "14rem",
        Origin => "11rem",
        Changed => "10rem",
        _ => "7rem",
    };

    /// <summary>The saved column list, cleaned: unknown names dropped, order as in <see cref="All"/>; empty means the default.</summary>
    public static IReadOnlyList<string> Parse(string? saved)
    {
        var chosen = (saved ?? "").Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).ToHashSet();
        var list = All.Where(chosen.Contains).ToList();
        return list.Count == 0 ? Default : list;
    }

    /// <summary>The key as a person reads it: <c>7</c> for <c>{"Id":7}</c>, <c>AccountId=…, CustomerId=2</c> for a composite key.</summary>
    public static string KeyText(string? keyJson)
    {
        if (Values(keyJson) is not { Count: > 0 } values)
        {
            return keyJson ?? "";
        }

        return values.Count == 1 ? values[0].Value : string.Join(", ", values.Select(v => $"{v.Name}={v.Value}"));
    }

    /// <summary>The value for <c>record:</c>: the id for a single-column key, else the whole key JSON.</summary>
    public static string RecordValue(string? keyJson) =>
        Values(keyJson) is { Count: 1 } values ? values[0].Value : keyJson ?? "";

    private static List<(string Name, string Value)>? Values(string? keyJson)
    {
        if (string.IsNullOrEmpty(keyJson))
        {
            return null;
        }

        try
        {
            using var doc = JsonDocument.Parse(keyJson);
            return doc.RootElement.ValueKind != JsonValueKind.Object
                ? null
                : doc.RootElement.EnumerateObject().Select(p => (p.Name, p.Value.ValueKind == JsonValueKind.String ? p.Value.GetString()! : p.Value.GetRawText())).ToList();
        }
        catch (JsonException)
        {
            return null;
        }
    }
}
