using System.Diagnostics;
using System.Security.Cryptography;
using System.Text;
using ComplianceConsole.Core.Auditing;
using ComplianceConsole.Core.Chain;

/// <summary>
/// Chain verification in memory, without a database: the one-entry-at-a-time verifier against batches spread over
/// every core, alternating round by round on the same million sealed entries; each figure is the median over the rounds.
/// </summary>
internal static class VerifyCoreBenchmark
{
    private const int Entries = 1_000_000;
    private const int Rounds = 5;

    public static void Run()
    {
        var watch = Stopwatch.StartNew();
        var chain = Build();
        var jsonBytes = chain.Take(10_000).Average(e => Encoding.UTF8.GetByteCount(CanonicalJson.Of(e)));
        Console.WriteLine($"{Entries:N0} sealed entries built in {watch.Elapsed.TotalSeconds:F1} s; canonical JSON {jsonBytes:F0} bytes on average; {Environment.ProcessorCount} cores.");

        var (oneByOne, batched) = (new List<double>(), new List<double>());
        for (var round = 0; round <= Rounds; round++)
        {
            var a = Measure(() => HashChainVerifier.Verify(chain));
            var b = Measure(() => HashChainVerifier.VerifyParallel(chain));
            if (round > 0) // the first round warms up
            {
                oneByOne.Add(a);
                batched.Add(b);
            }
        }

        var (sequential, parallel) = (Median(oneByOne), Median(batched));
        Console.WriteLine($"HashChainVerifier.Add, one entry at a time:              {sequential,12:N0} entries/s");
        Console.WriteLine($"HashChainVerifier.AddBatch, {HashChainVerifier.DefaultBatchSize} per batch, every core: {parallel,12:N0} entries/s ({parallel / sequential:F2}x)");

        // What bounds both: the two SHA-256 digests per entry (payload, then the 76-byte row input) and nothing else,
        // on every core, each with a context of its own as the verifier has.
        var payloadBytes = (int)jsonBytes;
        watch.Restart();
        Parallel.For(0, Environment.ProcessorCount, _ =>
        {
            using var sha256 = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
            var (payload, row, hash) = (new byte[payloadBytes], new byte[76], new byte[32]);
            for (var i = 0; i < Entries / Environment.ProcessorCount; i++)
            {
                sha256.AppendData(payload);
                sha256.GetHashAndReset(hash);
                sha256.AppendData(row);
                sha256.GetHashAndReset(hash);
            }
        });

        Console.WriteLine($"SHA-256 alone (both digests), every core:               {Entries / watch.Elapsed.TotalSeconds,12:N0} entries/s");
    }

    private static double Measure(Func<ChainVerificationResult> verify)
    {
        GC.Collect();
        var watch = Stopwatch.StartNew();
        var result = verify();
        var seconds = watch.Elapsed.TotalSeconds;
        return result.IsValid && result.EntriesChecked == Entries
            ? Entries / seconds
            : throw new InvalidOperationException($"The benchmark chain does not verify: {result.Describe()}");
    }

    /// <summary>Entries shaped like the console's: a payment, customer or account change with 200-400 byte values, as captured.</summary>
    private static AuditEntry[] Build()
    {
        var tables = new[] { "Payments", "Customers", "Accounts", "KycDocuments" };
        var entries = new AuditEntry[Entries];
        Parallel.For(0, Entries, i =>
        {
            var operation = (i % 10) switch { < 7 => AuditOperations.Update, < 9 => AuditOperations.Insert, _ => AuditOperations.Delete };
            var before = $"{{\"Amount\":\"{i % 9000}.25\",\"Beneficiary\":\"Müller & Söhne GmbH\",\"Currency\":\"EUR\",\"Iban\":\"DE89370400440532013000\","
                + $"\"Reference\":\"Invoice 2026-{i % 1000:D4} / order {i}\",\"Status\":\"pending\",\"Note\":\"Split payment approved by back office{new string('.', i % 120)}\"}}";
            var after = before.Replace("pending", "approved", StringComparison.Ordinal).Replace(".25", ".75", StringComparison.Ordinal);
            entries[i] = new AuditEntry
            {
                OccurredAtUtc = new DateTime(2026, 1, 1, 0, 0, 0, DateTimeKind.Utc).AddTicks(i * 3_000_123L),
                Operation = operation,
                TableName = tables[i % tables.Length],
                RecordKey = $"{{\"Id\":{i * 7 % 100_000}}}",
                OldValues = operation == AuditOperations.Insert ? null : before,
                NewValues = operation == AuditOperations.Delete ? null : after,
                ChangedColumns = operation == AuditOperations.Update ? "[\"Amount\",\"Status\"]" : null,
                ActorId = "3f2c9a1e-5b7d-4e2a-9c1f-0a8b7c6d5e4f",
                ActorName = "oscar.operator@console.local",
                ActorRoles = "Operator",
                Origin = $"page:/payments/{i % 100_000}",
                CorrelationId = Guid.NewGuid().ToString("N"),
                TransactionId = Guid.NewGuid().ToString("N"),
                IpAddress = "10.20.30.40",
                UserAgent = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0 Safari/537.36",
            };
        });

        var previous = HashChain.GenesisHash;
        for (var i = 0; i < Entries; i++)
        {
            entries[i] = HashChain.Seal(entries[i], i + 1, previous);
            previous = entries[i].RowHash;
        }

        return entries;
    }

    private static double Median(List<double> values) => values.Order().ElementAt(values.Count / 2);
}
