using System.Text.Json;
using ComplianceConsole.Core.Auditing;
using ComplianceConsole.Core.Chain;

namespace ComplianceConsole.Core.Tests;

public sealed class CanonicalJsonTests
{
    private static readonly AuditEntry Sample = new()
    {
        OccurredAtUtc = new DateTime(2026, 3, 4, 5, 6, 7, DateTimeKind.Unspecified).AddTicks(1234567),
        Operation = AuditOperations.Event,
        EventName = "report.exported",
        Metadata = "{\"rows\":\"1\"}",
        ActorName = "Zoë \"Z\" O'Neil\n\u0001",
        Origin = "endpoint:/export",
    };

    [Fact]
    public void Keys_are_in_ordinal_order_with_nulls_written_out()
    {
        using var doc = JsonDocument.Parse(CanonicalJson.Of(Sample));
        var names = doc.RootElement.EnumerateObject().Select(p => p.Name).ToList();
        Assert.Equal(names.Order(StringComparer.Ordinal), names);
        Assert.Equal(JsonValueKind.Null, doc.RootElement.GetProperty("tableName").ValueKind);
        Assert.Equal(20, names.Count);
    }

    [Fact]
    public void Strings_round_trip_and_are_escaped_only_where_json_requires()
    {
        var json = CanonicalJson.Of(Sample);
        Assert.Contains("Zoë \\\"Z\\\" O'Neil\\n\\u0001", json);
        using var doc = JsonDocument.Parse(json);
        Assert.Equal(Sample.ActorName, doc.RootElement.GetProperty("actorName").GetString());
    }

    [Fact]
    public void Timestamps_are_utc_with_seven_fraction_digits_whatever_the_kind()
    {
        Assert.Contains("\"occurredAtUtc\":\"2026-03-04T05:06:07.1234567Z\"", CanonicalJson.Of(Sample));
        Assert.Equal(HashChain.PayloadHash(Sample), HashChain.PayloadHash(Sample with { OccurredAtUtc = DateTime.SpecifyKind(Sample.OccurredAtUtc, DateTimeKind.Utc) }));
    }

    [Fact]
    public void Every_field_but_seq_and_hashes_changes_the_payload_hash()
    {
        var baseHash = HashChain.PayloadHash(Sample);
        Assert.NotEqual(baseHash, HashChain.PayloadHash(Sample with { OutOfBand = true }));
        Assert.NotEqual(baseHash, HashChain.PayloadHash(Sample with { Tenant = "t" }));
        Assert.NotEqual(baseHash, HashChain.PayloadHash(Sample with { UserAgent = "ua" }));
        Assert.Equal(baseHash, HashChain.PayloadHash(Sample with { Seq = 99, RowHash = "x" }));
    }
}
