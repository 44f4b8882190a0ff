using System.Reflection;
using ComplianceConsole.Core.Auditing;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata;

namespace ComplianceConsole.Data.Capture;

/// <summary>
/// Turns the EF model plus the audit options and attributes into the policy in force: one plan per table,
/// naming each column's treatment and why. Works on the relational model, so owned and complex types,
/// TPH hierarchies and join tables land on the table and columns they are really stored in.
/// </summary>
public static class AuditPolicyResolver
{
    // Identity's secrets, always: configuration can add to these but not remove them.
    private static readonly string[] BuiltInRedacted = ["AspNetUsers.PasswordHash", "AspNetUsers.SecurityStamp"];
    private static readonly string[] BuiltInIgnored = ["AspNetUsers.ConcurrencyStamp", "AspNetRoles.ConcurrencyStamp"];
    private static readonly string[] BuiltInExcluded = ["AspNetUserTokens"];
    private static readonly string[] SecretLikeNames = ["password", "secret", "token", "apikey"];

    public static AuditPolicySnapshot Resolve(IModel model, AuditOptions options)
    {
        var relational = model.GetRelationalModel();
        var plans = new List<TableCapturePlan>();
        var excluded = new List<string>();
        var redacted = new HashSet<string>(options.RedactedProperties.Concat(BuiltInRedacted), StringComparer.OrdinalIgnoreCase);
        var ignored = new HashSet<string>(options.IgnoredProperties.Concat(BuiltInIgnored), StringComparer.OrdinalIgnoreCase);
        var excludedNames = new HashSet<string>(options.ExcludedEntities.Concat(BuiltInExcluded), StringComparer.OrdinalIgnoreCase);

        foreach (var table in relational.Tables.OrderBy(t => t.Name, StringComparer.Ordinal))
        {
            if (AuditStoreModel.StoreTables.Contains(table.Name))
            {
                continue;
            }

            var entityTypes = table.EntityTypeMappings.Select(m => m.TypeBase).OfType<IEntityType>().ToList();
            var isExcluded = excludedNames.Contains(table.Name)
                || entityTypes.Any(t => excludedNames.Contains(t.ClrType.Name) || excludedNames.Contains(t.ShortName())
                    || t.ClrType.GetCustomAttribute<AuditExcludeAttribute>() is not null);
            if (isExcluded)
            {
                excluded.Add(table.Name);
                continue;
            }

            var keyColumns = table.PrimaryKey?.Columns.Select(c => c.Name).ToList() ?? [];
            var columns = new List<ColumnCapture>();
            foreach (var column in table.Columns)
            {
                var (treatment, reason) = Treat(table, column, keyColumns, redacted, ignored);
                var isBinary = column.ProviderClrType == typeof(byte[]);
                var isJson = column.StoreTypeMapping is Microsoft.EntityFrameworkCore.Storage.JsonTypeMapping;
                columns.Add(new ColumnCapture(column.Name, treatment, isBinary, reason, column.ProviderClrType == typeof(string) && !isJson, isJson, column.StoreType));
            }

            var entityName = entityTypes.Count == 0 ? null : string.Join(", ", entityTypes.Select(t => t.ClrType.Name).Distinct());
            plans.Add(new TableCapturePlan(table.Name, entityName, keyColumns, columns, table.Schema));
        }

        return new AuditPolicySnapshot(options.Mode, plans, excluded);
    }

    private static (ColumnTreatment, string) Treat(ITable table, IColumn column, List<string> keyColumns, HashSet<string> redacted, HashSet<string> ignored)
    {
        if (keyColumns.Contains(column.Name))
        {
            return (ColumnTreatment.Capture, "key");
        }

        var names = new List<string> { $"{table.Name}.{column.Name}" };
        var attributes = new List<Attribute>();
        foreach (var mapping in column.PropertyMappings)
        {
            var property = mapping.Property;
            names.Add($"{property.DeclaringType.ClrType.Name}.{property.Name}");
            if (property.DeclaringType is IEntityType entity)
            {
                names.Add($"{entity.ShortName()}.{property.Name}");
            }

            if (property.PropertyInfo is { } info)
            {
                attributes.AddRange(info.GetCustomAttributes());
            }
        }

        // A rowversion, a temporal table's period columns, a column computed on every write: the database changes them on
        // every update, so comparing them would make a no-op update an entry. Left out, on both providers alike.
        if (column.PropertyMappings.Any(m => m.Property.ValueGenerated == Microsoft.EntityFrameworkCore.Metadata.ValueGenerated.OnAddOrUpdate)
            || column.StoreType is "rowversion" or "timestamp")
        {
            return (ColumnTreatment.Ignore, "changed by the database on every update (rowversion, period or computed column)");
        }

        if (attributes.OfType<AuditRedactAttribute>().Any())
        {
            return (ColumnTreatment.Redact, "[AuditRedact]");
        }

        if (names.Any(BuiltInRedacted.Contains))
        {
            return (ColumnTreatment.Redact, "built-in: an Identity secret");
        }

        if (names.Any(redacted.Contains))
        {
            return (ColumnTreatment.Redact, "Audit:RedactedProperties");
        }

        if (attributes.OfType<AuditIgnoreAttribute>().Any())
        {
            return (ColumnTreatment.Ignore, "[AuditIgnore]");
        }

        if (names.Any(BuiltInIgnored.Contains))
        {
            return (ColumnTreatment.Ignore, "built-in: changes on every save");
        }

        if (names.Any(ignored.Contains))
        {
            return (ColumnTreatment.Ignore, "Audit:IgnoredProperties");
        }

        var lower = column.Name.ToLowerInvariant();
        if (SecretLikeNames.Any(lower.Contains))
        {
            return (ColumnTreatment.Redact, "name looks like a secret");
        }

        return (ColumnTreatment.Capture, "default");
    }
}
