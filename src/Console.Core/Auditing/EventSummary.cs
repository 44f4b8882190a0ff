using System.Text.Json;

namespace ComplianceConsole.Core.Auditing;

/// <summary>One sentence per event, as a person would say it. A failure reads as one.</summary>
public static class EventSummary
{
    public static string Describe(AuditEntry e)
    {
        var meta = Metadata(e.Metadata);
        var actor = e.ActorName ?? "someone";
        var from = e.IpAddress is { } ip ? $" from {ip}" : "";
        string M(string key) => meta.GetValueOrDefault(key) ?? "?";
        return e.EventName switch
        {
            AuditEventNames.LoginSucceeded => $"{actor} signed in{from}.",
            AuditEventNames.LoginFailed => $"Failed sign-in as {e.Target ?? actor}{from}" + (meta.GetValueOrDefault("knownUser") == "false" ? ": no account has this name." : ": wrong password."),
            AuditEventNames.LockedOut => $"{e.Target ?? actor} was locked out after repeated failed sign-ins{from}.",
            AuditEventNames.Logout => $"{actor} signed out.",
            AuditEventNames.PasswordChanged => $"{actor} changed the password of {e.Target ?? "their account"}.",
            AuditEventNames.RoleChanged => $"{actor} changed the roles of {e.Target}" + (meta.Count > 0 ? ": " + string.Join(", ", meta.Select(p => $"{p.Key} {p.Value}")) : "") + ".",
            AuditEventNames.AccessDenied => $"{actor} was refused {M("page")} ({M("route")}): it needs {M("needs")}.",
            AuditEventNames.AuditSearched => $"{actor} searched the trail: {(meta.GetValueOrDefault("query") is { Length: > 0 } q ? q : "everything")}, over {M("range")}.",
            AuditEventNames.AuditViewed => meta.TryGetValue("seq", out var seq) ? $"{actor} opened entry {seq}." : $"{actor} opened the history of {M("table")} {M("key")}.",
            AuditEventNames.AuditExported => $"{actor} exported {M("rows")} entries as {M("format")}" + (meta.GetValueOrDefault("query") is { Length: > 0 } eq ? $": {eq}." : "."),
            AuditEventNames.RecordViewed => $"{actor} opened the {M("table")} record {M("key")}.",
            AuditEventNames.CheckpointSigned => $"A signed checkpoint of the chain was written outside the database (seq {M("seq")}).",
            AuditEventNames.CaptureChanged => "Capture triggers were installed or changed to match the capture policy.",
            AuditEventNames.CaptureRestored => "Capture was found missing or altered, and restored: changes made meanwhile are not in the trail.",
            AuditEventNames.TamperAcknowledged => $"{actor} acknowledged a tamper signal as investigated.",
            AuditEventNames.CaptureRemoved => $"{actor} removed capture from {e.Target}" + (meta.GetValueOrDefault("reason") is { } r ? $": {r}" : "") + ".",
            AuditEventNames.RetentionPurged => $"Retention removed {M("table")} entries from seq {M("fromSeq")} to {M("throughSeq")} older than {M("before")}.",
            _ => $"{actor} recorded {e.EventName}" + (e.Target is { } t ? $" on {t}" : "") + ".",
        };
    }

    public static IReadOnlyDictionary<string, string?> Metadata(string? json)
    {
        var values = new Dictionary<string, string?>(StringComparer.Ordinal);
        if (string.IsNullOrEmpty(json))
        {
            return values;
        }

        try
        {
            using var doc = JsonDocument.Parse(json);
            if (doc.RootElement.ValueKind == JsonValueKind.Object)
            {
                foreach (var p in doc.RootElement.EnumerateObject())
                {
                    values[p.Name] = p.Value.ValueKind switch
                    {
                        JsonValueKind.String => p.Value.GetString(),
                        JsonValueKind.Null => null,
                        _ => p.Value.GetRawText(),
                    };
                }
            }
        }
        catch (JsonException)
        {
            values["(details)"] = json;
        }

        return values;
    }
}
