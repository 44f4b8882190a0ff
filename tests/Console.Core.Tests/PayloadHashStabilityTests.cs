using ComplianceConsole.Core.Auditing;
using ComplianceConsole.Core.Chain;

namespace ComplianceConsole.Core.Tests;

/// <summary>
/// The canonical JSON is written straight to UTF-8 for speed. These hashes were computed by the first implementation
/// (a string, then Encoding.UTF8.GetBytes), which sealed every existing chain; they must never change.
/// </summary>
public sealed class PayloadHashStabilityTests
{
    [Fact]
    public void Awkward_values_hash_as_they_did_when_existing_chains_were_sealed()
    {
        var awkward = new AuditEntry
        {
            OccurredAtUtc = new DateTime(2026, 3, 4, 5, 6, 7, DateTimeKind.Local).AddTicks(1234567),
            Operation = AuditOperations.Update,
            EventName = "e\u2028v",
            TableName = "Tä\"b\\le",
            RecordKey = "{\"Id\":\"k\\u0000\"}",
            OldValues = "{\"a\":\"\t\r\n\u0001\u001f\u007f\u0080\"}",
            NewValues = "{\"a\":\"😀 \uD83D\uDE00 lone-high-end \uD800\"}",
            ChangedColumns = "[\"a\"]",
            ActorId = "x\uDC00y",
            ActorName = "Zoë \uD800\"O'Neil",
            ActorRoles = "Admin,Auditor",
            Origin = "page:/x?y=1&z=<2>",
            OutOfBand = true,
            CorrelationId = "c",
            TransactionId = "t",
            IpAddress = "::1",
            UserAgent = "ua\u00ff\uFFFF",
            Tenant = "ten",
            Target = "tgt",
            Metadata = "{}",
        };

        Assert.Equal("fed3357adb7fe11408e53939eb64020418ad1a7f1633d55df4a2758bc89d1682", HashChain.PayloadHash(awkward));
        Assert.Equal("5e00199ac8f0df4bebf93653312a3fdd6e4da7f3211af3f798d7015bb7aa5021", HashChain.PayloadHash(new AuditEntry { Operation = AuditOperations.Event, Origin = "o" }));
    }

    [Fact]
    public void A_lone_surrogate_is_hashed_as_the_replacement_character_as_utf8_encoding_does()
    {
        var lone = new AuditEntry { Operation = AuditOperations.Event, Origin = "o", ActorName = "a\uD800b" };

        Assert.Equal(HashChain.PayloadHash(lone with { ActorName = "a\uFFFDb" }), HashChain.PayloadHash(lone));
        Assert.Contains("\"actorName\":\"a\uFFFDb\"", CanonicalJson.Of(lone));
    }
}
