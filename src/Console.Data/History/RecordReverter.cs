using System.Data.Common;
using System.Globalization;
using System.Text.Json;
using ComplianceConsole.Core.Auditing;
using ComplianceConsole.Core.Diff;
using ComplianceConsole.Core.History;
using ComplianceConsole.Data.Capture;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Storage;

namespace ComplianceConsole.Data.History;

/// <summary>What restoring one record to an earlier version would do: the change, what is left as it is, and why it cannot be done if it cannot.</summary>
public sealed record RevertStep(
    RecordRef Record,
    string? Label,
    long TargetSeq,
    RecordState Target,
    RecordState Current,
    long? CurrentSeq,
    IReadOnlyList<DiffRow> Diff,
    IReadOnlyList<string> Columns,
    IReadOnlyList<string> LeftAsTheyAre,
    IReadOnlyList<string> Refusals)
{
    public bool Undelete => Target.Exists && !Current.Exists;

    public bool Delete => !Target.Exists && Current.Exists;

    public bool NothingToDo => Refusals.Count == 0 && Columns.Count == 0 && !Undelete && !Delete;
}

/// <summary>A revert of one record or of a whole transaction: every step, applied together or not at all.</summary>
public sealed record RevertPlan(IReadOnlyList<RevertStep> Steps, string? TransactionId)
{
    public IReadOnlyList<string> Refusals => Steps.SelectMany(s => s.Refusals.Select(r => Steps.Count > 1 ? $"{s.Label ?? s.Record.Key} ({s.Record.Table}): {r}" : r)).ToList();

    public bool CanApply => Refusals.Count == 0 && Steps.Any(s => !s.NothingToDo);
}

public sealed record RevertResult(bool Done, string Message, long? EventSeq);

/// <summary>
/// Restores a record, some of its columns, or every record a transaction touched, to an earlier version rebuilt from the
/// trail (<see cref="RecordHistory"/>). The revert is an ordinary change made through the capture triggers, with origin
/// <see cref="AuditContext.RevertOrigin"/>, plus a <see cref="AuditEventNames.RecordReverted"/> event in the same
/// transaction that holds the reason and the version restored. It refuses, saying why, when the record changed since the
/// plan was made, when the table's shape changed since that version, when a chosen column is redacted (its old value is
/// not in the trail), or when a constraint would break; then nothing changes.
/// </summary>
public sealed class RecordReverter(RecordHistoryQuery history, AuditOptions options)
{
    /// <summary>Plans restoring <paramref name="record"/> to the version after entry <paramref name="targetSeq"/>; <paramref name="columns"/> null means every column that differs.</summary>
    public async Task<RevertPlan> PlanAsync(ConsoleDbContext db, RecordRef record, long targetSeq, IReadOnlyCollection<string>? columns = null, CancellationToken cancellationToken = default)
    {
        var entry = await db.AuditEntries.AsNoTracking().SingleOrDefaultAsync(e => e.Seq == targetSeq && e.TableName == record.Table && e.RecordKey == record.Key, cancellationToken);
        if (entry is null)
        {
            return new RevertPlan([Refused(record, targetSeq, $"#{targetSeq} is not a change of this record.")], null);
        }

        return new RevertPlan([await StepAsync(db, record, targetSeq, await history.StateAtAsync(db, record, targetSeq, cancellationToken), columns, cancellationToken)], null);
    }

    /// <summary>Plans undoing a whole transaction: every record it touched back to its state just before it, newest change first.</summary>
    public async Task<RevertPlan> PlanTransactionAsync(ConsoleDbContext db, string transactionId, CancellationToken cancellationToken = default)
    {
        var entries = await db.AuditEntries.AsNoTracking()
            .Where(e => e.TransactionId == transactionId && e.TableName != null && e.RecordKey != null && e.Operation != AuditOperations.Event)
            .OrderBy(e => e.Seq).ToListAsync(cancellationToken);
        var steps = new List<RevertStep>();
        foreach (var group in entries.GroupBy(e => new RecordRef(e.TableName!, e.RecordKey!)).OrderByDescending(g => g.Max(e => e.Seq)))
        {
            var first = group.Min(e => e.Seq);
            // The record just before the transaction: its newest entry below it (none: the transaction created it).
            var before = await db.AuditEntries.AsNoTracking()
                .Where(e => e.TableName == group.Key.Table && e.RecordKey == group.Key.Key && e.Seq < first)
                .OrderByDescending(e => e.Seq).Select(e => (long?)e.Seq).FirstOrDefaultAsync(cancellationToken);
            var target = before is { } seq ? await history.StateAtAsync(db, group.Key, seq, cancellationToken) : RecordState.None;
            var step = await StepAsync(db, group.Key, before ?? 0, target, null, cancellationToken);
            if (step.CurrentSeq > group.Max(e => e.Seq))
            {
                step = step with { Refusals = [.. step.Refusals, $"it changed after this transaction (#{step.CurrentSeq}): revert that change first, or restore the record from its history."] };
            }

            steps.Add(step);
        }

        return steps.Count == 0
            ? new RevertPlan([Refused(new RecordRef("", ""), 0, "This transaction changed no record: there is nothing to revert.")], transactionId)
            : new RevertPlan(steps, transactionId);
    }

    /// <summary>
    /// Applies a plan through <paramref name="db"/>, which must record with origin <see cref="AuditContext.RevertOrigin"/>,
    /// in one transaction: checks again that no record changed since the plan, writes each step, reads each row back, and
    /// records the event. Any refusal or failure rolls everything back.
    /// </summary>
    public async Task<RevertResult> ApplyAsync(ConsoleDbContext db, RevertPlan plan, string reason, CancellationToken cancellationToken = default)
    {
        if (string.IsNullOrWhiteSpace(reason))
        {
            return new RevertResult(false, "Give a reason: it is recorded with the revert, for whoever reads the trail next.", null);
        }

        if (plan.Refusals.Count > 0)
        {
            return new RevertResult(false, string.Join(" ", plan.Refusals), null);
        }

        var policy = Policy(db);
        var first = plan.Steps[0];
        // Serializable: the check that nothing changed since the plan and the write happen under one lock.
        await using var transaction = await db.Database.BeginTransactionAsync(System.Data.IsolationLevel.Serializable, cancellationToken);
        try
        {
            foreach (var step in plan.Steps.Where(s => !s.NothingToDo))
            {
                var latest = await db.AuditEntries.Where(e => e.TableName == step.Record.Table && e.RecordKey == step.Record.Key)
                    .MaxAsync(e => (long?)e.Seq, cancellationToken);
                if (latest != step.CurrentSeq)
                {
                    return await FailAsync(transaction, $"{Name(step)} changed since this page was opened (#{latest}). Nothing was reverted: open its history again to see the change.");
                }

                var table = policy.Find(step.Record.Table)!;
                var live = await LiveRow.ReadAsync(db, table, step.Record.Key, cancellationToken);
                if (!SameState(step.Current, live))
                {
                    return await FailAsync(transaction, $"{Name(step)} does not match its trail: it was changed without capture. Nothing was reverted; run 'reconcile' to see what differs.");
                }

                await LiveRow.WriteAsync(db, table, step.Record.Key, step.Delete ? null : step.Target, step.Undelete ? null : step.Columns, cancellationToken);
                var after = await LiveRow.ReadAsync(db, table, step.Record.Key, cancellationToken);
                var wrong = step.Delete ? (after.Exists ? ["the row"] : []) : step.Columns.Where(c => !SameValue(step.Target[c], after[c])).ToList();
                if (wrong.Count > 0)
                {
                    return await FailAsync(transaction, $"{Name(step)}: {string.Join(", ", wrong)} would not read back as they were at that version. Nothing was reverted.");
                }
            }

            await db.Database.RecordAuditEventAsync(new AuditEventRequest(AuditEventNames.RecordReverted,
                plan.TransactionId is { } tx ? $"transaction:{tx}" : $"{first.Record.Table}/{first.Record.Key}",
                new Dictionary<string, string?>
                {
                    ["reason"] = reason.Trim(),
                    ["restoredSeq"] = plan.TransactionId is null ? first.TargetSeq.ToString(CultureInfo.InvariantCulture) : null,
                    ["transaction"] = plan.TransactionId,
                    ["records"] = string.Join("\n", plan.Steps.Where(s => !s.NothingToDo).Select(s => $"{s.Record.Table}/{s.Record.Key}")),
                    ["columns"] = plan.TransactionId is null ? string.Join(", ", first.Columns) : null,
                }), cancellationToken);
            await transaction.CommitAsync(cancellationToken);
        }
        catch (Exception ex) when (ex is DbException or DbUpdateException)
        {
            await transaction.RollbackAsync(CancellationToken.None);
            return new RevertResult(false, $"A constraint of the database would break: {(ex.InnerException ?? ex).Message} Nothing was reverted.", null);
        }
        catch (LiveRow.GoneException ex)
        {
            await transaction.RollbackAsync(CancellationToken.None);
            return new RevertResult(false, $"{ex.Message} Nothing was reverted; open the record's history again.", null);
        }

        var seq = await db.AuditEntries.Where(e => e.EventName == AuditEventNames.RecordReverted).MaxAsync(e => (long?)e.Seq, cancellationToken);
        var count = plan.Steps.Count(s => !s.NothingToDo);
        return new RevertResult(true, plan.TransactionId is null
            ? $"{Name(first)} was {(first.Undelete ? "recreated as it was" : first.Delete ? "deleted, as it was" : "restored")} at version #{first.TargetSeq}."
            : $"The transaction was reverted: {count} record{(count == 1 ? "" : "s")} restored to their state before it.", seq);
    }

    private static async Task<RevertResult> FailAsync(IDbContextTransaction transaction, string message)
    {
        await transaction.RollbackAsync(CancellationToken.None);
        return new RevertResult(false, message, null);
    }

    private async Task<RevertStep> StepAsync(ConsoleDbContext db, RecordRef record, long targetSeq, RecordState target, IReadOnlyCollection<string>? chosen, CancellationToken cancellationToken)
    {
        var refusals = new List<string>();
        var label = (await history.OverviewAsync(db, record, withLinks: false, cancellationToken)).Label;
        var currentSeq = await db.AuditEntries.Where(e => e.TableName == record.Table && e.RecordKey == record.Key).MaxAsync(e => (long?)e.Seq, cancellationToken);
        var current = currentSeq is { } c ? await history.StateAtAsync(db, record, c, cancellationToken) : RecordState.None;
        var policy = Policy(db);
        if (policy.Find(record.Table) is not { } table)
        {
            return Refused(record, targetSeq, $"{record.Table} is not an audited table of this console: it cannot be reverted here.") with { Label = label };
        }

        var diff = EntryDiff.Compare(current, target);
        var captured = table.Columns.Where(col => col.Treatment != ColumnTreatment.Ignore).Select(col => col.Name).ToHashSet(StringComparer.Ordinal);
        var keys = table.KeyColumns.ToHashSet(StringComparer.Ordinal);
        var leftAlone = new List<string>();
        List<string> columns;
        if (target.Exists)
        {
            // The table's shape now against the version's: a column added or dropped since cannot be restored faithfully.
            var added = captured.Where(col => !target.Columns.ContainsKey(col)).ToList();
            var dropped = target.Columns.Keys.Where(col => !captured.Contains(col) && !table.Columns.Any(x => x.Name == col)).ToList();
            if (added.Count > 0 || dropped.Count > 0)
            {
                refusals.Add("The table's shape changed since that version" +
                    (added.Count > 0 ? $": {string.Join(", ", added)} did not exist then (or its value is not in the trail)" : "") +
                    (dropped.Count > 0 ? $"{(added.Count > 0 ? ";" : ":")} {string.Join(", ", dropped)} no longer exist{(dropped.Count == 1 ? "s" : "")}" : "") + ".");
            }

            var differing = diff.Where(r => r.Kind != DiffKind.Unchanged || !current.Exists).Select(r => r.Column).Where(col => !keys.Contains(col) && captured.Contains(col)).ToList();
            var redacted = differing.Where(col => EntryDiff.IsRedacted(target[col]) || EntryDiff.IsRedacted(current[col])).ToList();
            if (chosen is not null)
            {
                var unknown = chosen.Where(col => !captured.Contains(col) || keys.Contains(col)).ToList();
                if (unknown.Count > 0)
                {
                    refusals.Add($"{string.Join(", ", unknown)} cannot be restored: {(unknown.Any(keys.Contains) ? "a key is never changed by a revert" : "not a captured column of the table")}.");
                }

                var chosenRedacted = chosen.Where(col => EntryDiff.IsRedacted(target[col])).ToList();
                if (chosenRedacted.Count > 0)
                {
                    refusals.Add($"{string.Join(", ", chosenRedacted)} {(chosenRedacted.Count == 1 ? "is" : "are")} redacted: the old value is not in the trail, so it cannot be restored.");
                }

                columns = chosen.Where(col => captured.Contains(col) && !keys.Contains(col) && !chosenRedacted.Contains(col)).ToList();
            }
            else
            {
                columns = differing.Where(col => !redacted.Contains(col)).ToList();
                leftAlone.AddRange(redacted.Where(col => !EntryDiff.IsRedacted(target[col]) || current.Exists));
            }

            if (!current.Exists)
            {
                // Recreating the row: every captured column is written; a redacted one that had a value cannot be.
                var lost = target.Columns.Where(kv => EntryDiff.IsRedacted(kv.Value)).Select(kv => kv.Key).ToList();
                if (lost.Count > 0)
                {
                    refusals.Add($"{string.Join(", ", lost)} {(lost.Count == 1 ? "is" : "are")} redacted: the value is not in the trail, so the record cannot be recreated whole.");
                }

                columns = target.Columns.Keys.Where(captured.Contains).ToList();
                leftAlone.Clear();
                leftAlone.AddRange(table.Columns.Where(col => col.Treatment == ColumnTreatment.Ignore).Select(col => col.Name + " (not captured: left to its default)"));
            }
        }
        else
        {
            columns = [];
            if (!current.Exists)
            {
                refusals.Add("The record does not exist now, and did not at that version: there is nothing to restore.");
            }
        }

        return new RevertStep(record, label, targetSeq, target, current, currentSeq, diff, columns, leftAlone, refusals);
    }

    private readonly System.Runtime.CompilerServices.ConditionalWeakTable<Microsoft.EntityFrameworkCore.Metadata.IModel, AuditPolicySnapshot> _policies = new();

    /// <summary>The policy in force for the context's model, worked out once per model (the options are this reverter's).</summary>
    private AuditPolicySnapshot Policy(ConsoleDbContext db) => _policies.GetValue(db.Model, model => AuditPolicyResolver.Resolve(model, options));

    private static RevertStep Refused(RecordRef record, long targetSeq, string reason) =>
        new(record, null, targetSeq, RecordState.None, RecordState.None, null, [], [], [], [reason]);

    private static string Name(RevertStep step) => $"{step.Record.Table} {step.Label ?? step.Record.Key}";

    private static bool SameState(RecordState trail, RecordState live)
    {
        if (trail.Exists != live.Exists)
        {
            return false;
        }

        return !trail.Exists || live.Columns.All(kv => trail[kv.Key] is not { } t || SameValue(t, kv.Value));
    }

    private static bool SameValue(JsonElement? a, JsonElement? b) =>
        (a, b) switch
        {
            (null, null) => true,
            ({ } x, { } y) when EntryDiff.IsRedacted(x) || EntryDiff.IsRedacted(y) => EntryDiff.IsRedacted(x) == EntryDiff.IsRedacted(y),
            ({ } x, { } y) => JsonElement.DeepEquals(x, y),
            _ => false,
        };
}
