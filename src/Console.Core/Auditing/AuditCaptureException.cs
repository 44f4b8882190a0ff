namespace ComplianceConsole.Core.Auditing;

/// <summary>Thrown when a change cannot be audited; the change itself is not committed.</summary>
public sealed class AuditCaptureException(string message, Exception? inner = null) : Exception(message, inner);
