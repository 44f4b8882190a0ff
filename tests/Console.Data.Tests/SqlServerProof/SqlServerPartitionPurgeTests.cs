using System.Data;
using System.Data.Common;
using ComplianceConsole.Core.Chain;
using ComplianceConsole.Data.Archive;
using ComplianceConsole.Data.Queries;
using ComplianceConsole.Data.Retention;

namespace ComplianceConsole.Data.Tests.SqlServerProof;

/// <summary>
/// The purge's switch path on a partitioned SQL Server store, through the recording connection: which partitions it
/// switches, and that each switch commits with its rollups and text index in one transaction or not at all.
/// </summary>
public sealed class SqlServerPartitionPurgeTests : IDisposable
{
    private readonly DirectoryInfo _folder = Directory.CreateTempSubdirectory("cc-switch-");

    public void Dispose() => _folder.Delete(recursive: true);

    /// <summary>What SQL Server refuses with: the procedure's THROW 51004, as a provider exception.</summary>
    private sealed class Refused(string message) : DbException(message);

    /// <summary>Partition 1 (seq 1–1000) wholly removed; 2 (1001–2000) only half; 3 (2001–2100) holds the anchor.</summary>
    private static Proof Server(Func<Recorded, Answer?>? procedure = null) => new(r =>
    {
        if (r.Text == SqlServerPartitions.PartitionsSql("dbo"))
        {
            var t = new DataTable();
            t.Columns.Add("partition_number", typeof(int));
            t.Columns.Add("lo", typeof(long));
            t.Columns.Add("hi", typeof(long));
            t.Columns.Add("rows", typeof(long));
            t.Rows.Add(1, 1L, 1000L, 1000L);
            t.Rows.Add(2, 1001L, 2000L, 1000L);
            t.Rows.Add(3, 2001L, 2100L, 100L);
            return Answer.Rows(t);
        }

        if (r.Text.Contains("SELECT DISTINCT ActorName", StringComparison.Ordinal))
        {
            return Answer.Rows(Answer.Column("ActorName", "olivia.officer@console.local"));
        }

        if (r.Text.Contains("FROM [AuditRemovedRanges]", StringComparison.Ordinal))
        {
            // The columns in the order EF's query selects them.
            var row = new Dictionary<string, object> { ["FirstSeq"] = 1L, ["ThroughSeq"] = 1500L, ["LastRowHash"] = new string('a', 64), ["RunId"] = "run" };
            var selected = System.Text.RegularExpressions.Regex.Matches(r.Text[..r.Text.IndexOf("FROM [AuditRemovedRanges]", StringComparison.Ordinal)], @"\[(\w+)\](?=,|\s|$)")
                .Select(m => m.Groups[1].Value).Where(row.ContainsKey).ToList();
            var t = new DataTable();
            foreach (var column in selected)
            {
                t.Columns.Add(column, row[column].GetType());
            }

            t.Rows.Add(selected.Select(c => row[c]).ToArray());
            return Answer.Rows(t);
        }

        if (r.Text.Contains("FROM [LegalHolds]", StringComparison.Ordinal))
        {
            return Answer.Rows(); // no hold stands
        }

        if (r.Text.StartsWith("EXEC [dbo].[cc_audit_switch_out]", StringComparison.Ordinal))
        {
            return procedure?.Invoke(r) ?? Answer.Rows(Answer.Column("rows", 1000L));
        }

        return null;
    });

    private RetentionPurger Purger(out CheckpointKey key)
    {
        key = CheckpointKey.LoadOrCreate(Path.Combine(_folder.FullName, "key.pem"));
        return new RetentionPurger(new RetentionPlanner(new AuditSearchService(new AuditVocabulary(), TimeProvider.System)), new RetentionOptions(),
            new FolderArchiveSink(_folder.FullName), key, null, TimeProvider.System);
    }

    [Fact]
    public async Task Only_the_wholly_removed_partition_is_switched_out_with_its_rollups_and_text_index_in_one_transaction()
    {
        var proof = Server();
        var purger = Purger(out var key);
        using (key)
        {
            await using var db = proof.Context();
            var actors = new HashSet<string>();
            var deleted = await purger.SwitchOutAsync(db, new PurgeRun { Id = "run", AnchorSeq = 2050 }, 0, actors, default);

            Assert.Equal(1000, deleted);
            Assert.Contains("olivia.officer@console.local", actors); // her firsts are worked out again at the end
        }

        var outline = proof.Outline();
        var exec = proof.Connection.Log.Single(r => r.Text.StartsWith("EXEC [dbo].[cc_audit_switch_out]", StringComparison.Ordinal));
        Assert.Equal(1, exec.Parameter("@p").Value); // partition 1 only: 2 is half removed, 3 holds the anchor
        var begin = outline.ToList().IndexOf("#BEGIN ReadCommitted");
        var commit = outline.ToList().IndexOf("#COMMIT");
        var inside = outline.Skip(begin).Take(commit - begin).ToList();
        Assert.Contains(inside, s => s.Contains(Rollups.AuditRollups.HourTable, StringComparison.Ordinal)); // rollups subtracted
        var texts = proof.Connection.Texts.Skip(proof.Connection.Texts.ToList().IndexOf("#BEGIN")).ToList();
        Assert.Contains(texts.TakeWhile(t => t != "#COMMIT"), t => t.Contains(AuditTextIndex.Table, StringComparison.Ordinal)); // text index forgotten
        Assert.Contains(inside, s => s.StartsWith("EXEC [dbo].[cc_audit_switch_out]", StringComparison.Ordinal));
        Assert.Contains(inside, s => s.Contains("[PurgeRuns]", StringComparison.Ordinal) || s.StartsWith("UPDATE [p]", StringComparison.Ordinal)); // the run's count, with it
        Assert.Single(outline, s => s == "#BEGIN ReadCommitted");
    }

    [Fact]
    public async Task A_partition_the_procedure_refuses_is_rolled_back_whole_and_left_to_the_batched_delete()
    {
        var proof = Server(_ => Answer.Fail(new Refused("This partition cannot be switched out")));
        var purger = Purger(out var key);
        using (key)
        {
            await using var db = proof.Context();
            var deleted = await purger.SwitchOutAsync(db, new PurgeRun { Id = "run", AnchorSeq = 2050 }, 7, new HashSet<string>(), default);
            Assert.Equal(7, deleted); // nothing counted
        }

        var outline = proof.Outline();
        Assert.Equal("#ROLLBACK", outline[^1]); // the rollups it subtracted come back with it
        Assert.DoesNotContain("#COMMIT", outline);
    }

    [Fact]
    public async Task A_store_that_is_not_partitioned_switches_nothing()
    {
        var proof = new Proof(r => r.Text == SqlServerPartitions.PartitionsSql("dbo") ? Answer.Rows() : null);
        var purger = Purger(out var key);
        using (key)
        {
            await using var db = proof.Context();
            Assert.Equal(0, await purger.SwitchOutAsync(db, new PurgeRun { Id = "run", AnchorSeq = 2050 }, 0, new HashSet<string>(), default));
        }

        Assert.Equal([SqlServerPartitions.PartitionsSql("dbo")], proof.Connection.Log.Select(r => r.Text));
    }
}
