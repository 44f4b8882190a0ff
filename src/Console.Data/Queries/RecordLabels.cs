using System.Text.Json;
using ComplianceConsole.Core.Auditing;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata;

namespace ComplianceConsole.Data.Queries;

/// <summary>How a table's records are named for people: by their own columns, or (link rows) by the records they join.</summary>
public sealed record LabelPlan(string Table, IReadOnlyList<string> Columns, IReadOnlyList<(string Column, string Table, string KeyColumn)> References);

/// <summary>
/// Human labels for records (a customer's name, an account's IBAN, a user's email), read from the trail itself so
/// that they survive the record's deletion. Which columns name a table is taken from the EF model: the first of
/// <see cref="Preferred"/> that the entity has; a link row is named by the records its foreign keys point to.
/// </summary>
public sealed class RecordLabels
{
    /// <summary>Columns that name a record, best first.</summary>
    public static readonly IReadOnlyList<string> Preferred = ["Iban", "Name", "Email", "Reference", "DocumentNumber", "UserName", "DisplayName", "Title", "Code"];

    private static readonly System.Runtime.CompilerServices.ConditionalWeakTable<IModel, RecordLabels> ByModel = new();

    private readonly Dictionary<string, LabelPlan> _plans;

    /// <summary>The labels of a model, worked out once per model (a model is built once per context type).</summary>
    public static RecordLabels For(IModel model) => ByModel.GetValue(model, m => new RecordLabels(m));

    private RecordLabels(IModel model)
    {
        _plans = new Dictionary<string, LabelPlan>(StringComparer.Ordinal);
        foreach (var entity in model.GetEntityTypes().Where(t => t.GetTableName() is not null && !t.IsOwned()))
        {
            var table = entity.GetTableName()!;
            var columns = entity.GetProperties().Select(p => p.GetColumnName()).ToHashSet(StringComparer.Ordinal);
            var best = Preferred.FirstOrDefault(columns.Contains);
            var own = best is null ? [] : best != "Title" && columns.Contains("Title") ? new[] { "Title", best } : new[] { best };
            var references = best is not null
                ? []
                : entity.GetForeignKeys()
                    .Where(fk => fk.Properties.Count == 1 && fk.PrincipalKey.Properties.Count == 1 && fk.PrincipalEntityType.GetTableName() is not null)
                    .Select(fk => (fk.Properties[0].GetColumnName(), fk.PrincipalEntityType.GetTableName()!, fk.PrincipalKey.Properties[0].GetColumnName()))
                    .ToList();
            _plans.TryAdd(table, new LabelPlan(table, own, references));
        }
    }

    public LabelPlan? PlanFor(string table) => _plans.GetValueOrDefault(table);

    /// <summary>A label per entry seq, for row changes whose table has a plan; entries without one are left out.</summary>
    public async Task<IReadOnlyDictionary<long, string>> ForAsync(ConsoleDbContext db, IReadOnlyList<AuditEntry> entries, CancellationToken cancellationToken = default)
    {
        var histories = new Dictionary<(string, string), List<(long Seq, JsonElement? Old, JsonElement? New)>>();
        var labels = new Dictionary<long, string>();
        foreach (var entry in entries)
        {
            if (entry.TableName is { } table && entry.RecordKey is { } key && PlanFor(table) is { } plan
                && await LabelAsync(db, plan, key, entry.Seq, histories, depth: 0, cancellationToken) is { Length: > 0 } label)
            {
                labels[entry.Seq] = label;
            }
        }

        return labels;
    }

    private async Task<string?> LabelAsync(ConsoleDbContext db, LabelPlan plan, string key, long asOf,
        Dictionary<(string, string), List<(long Seq, JsonElement? Old, JsonElement? New)>> histories, int depth, CancellationToken cancellationToken)
    {
        if (!histories.TryGetValue((plan.Table, key), out var history))
        {
            var rows = await db.AuditEntries.AsNoTracking()
                .Where(e => e.TableName == plan.Table && e.RecordKey == key)
                .OrderByDescending(e => e.Seq).Take(200)
                .Select(e => new { e.Seq, e.OldValues, e.NewValues })
                .ToListAsync(cancellationToken);
            history = rows.Select(r => (r.Seq, Parse(r.OldValues), Parse(r.NewValues))).ToList();
            histories[(plan.Table, key)] = history;
        }

        if (plan.Columns.Count > 0)
        {
            var parts = plan.Columns.Select(c => ValueAsOf(history, c, asOf)).Where(v => !string.IsNullOrWhiteSpace(v)).ToList();
            return parts.Count > 0 ? string.Join(" ", parts) : null;
        }

        if (depth > 0 || plan.References.Count == 0)
        {
            return null;
        }

        var names = new List<string>();
        foreach (var (column, table, keyColumn) in plan.References)
        {
            if (RawValueAsOf(history, column, asOf) is { } raw && PlanFor(table) is { } target
                && await LabelAsync(db, target, $"{{\"{keyColumn}\":{raw}}}", long.MaxValue, histories, depth + 1, cancellationToken) is { } name)
            {
                names.Add(name);
            }
        }

        return names.Count > 0 ? string.Join(" ↔ ", names) : null;
    }

    private static string? ValueAsOf(List<(long Seq, JsonElement? Old, JsonElement? New)> history, string column, long asOf) =>
        RawValueAsOf(history, column, asOf) is { } raw ? Text(raw) : null;

    /// <summary>The column's JSON value in the newest entry at or before <paramref name="asOf"/> that has it; else in the oldest one after.</summary>
    private static string? RawValueAsOf(List<(long Seq, JsonElement? Old, JsonElement? New)> history, string column, long asOf)
    {
        foreach (var (seq, old, @new) in history)
        {
            if (seq <= asOf && (Get(@new, column) ?? Get(old, column)) is { } value)
            {
                return value;
            }
        }

        for (var i = history.Count - 1; i >= 0; i--)
        {
            if ((Get(history[i].Old, column) ?? Get(history[i].New, column)) is { } value)
            {
                return value;
            }
        }

        return null;
    }

    private static string? Get(JsonElement? values, string column) =>
        values is { ValueKind: JsonValueKind.Object } v && v.TryGetProperty(column, out var p) && p.ValueKind != JsonValueKind.Null ? p.GetRawText() : null;

    private static string Text(string raw) => raw.StartsWith('"') ? JsonSerializer.Deserialize<string>(raw) ?? "" : raw;

    /// <summary>A JSON value as a detached element; null when empty or not JSON.</summary>
    internal static JsonElement? Parse(string? json)
    {
        if (string.IsNullOrEmpty(json))
        {
            return null;
        }

        try
        {
            using var doc = JsonDocument.Parse(json);
            return doc.RootElement.Clone();
        }
        catch (JsonException)
        {
            return null;
        }
    }
}
