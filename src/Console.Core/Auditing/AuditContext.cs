namespace ComplianceConsole.Core.Auditing;

/// <summary>Who acted. <see cref="System"/> is for jobs and commands; <see cref="Unknown"/> for out-of-band writes.</summary>
public sealed record AuditActor(string Id, string Name, IReadOnlyList<string> Roles)
{
    public static AuditActor System(string jobName) => new($"system:{jobName}", $"system:{jobName}", []);

    public static readonly AuditActor Unknown = new("unknown", "unknown", []);

    public static readonly AuditActor Anonymous = new("anonymous", "anonymous", []);

    public string RolesText => string.Join(',', Roles);
}

/// <summary>Everything an entry records about where a change came from, apart from the change itself.</summary>
public sealed record AuditContext(
    AuditActor Actor,
    string Origin,
    string CorrelationId,
    string? IpAddress = null,
    string? UserAgent = null,
    string? Tenant = null)
{
    public static AuditContext ForJob(string jobName) =>
        new(AuditActor.System(jobName), $"job:{jobName}", Guid.NewGuid().ToString("N"));
}

/// <summary>Gives the capture engine the context of the operation in progress (per circuit, request or job).</summary>
public interface IAuditContextAccessor
{
    AuditContext Current { get; }
}

/// <summary>An accessor whose context is set by its owner: a job, a command, a test, or the web host's middleware and circuit handler.</summary>
public sealed class AuditContextAccessor : IAuditContextAccessor
{
    private AuditContext _current;

    public AuditContextAccessor() : this(new AuditContext(AuditActor.Anonymous, "unknown", Guid.NewGuid().ToString("N")))
    {
    }

    public AuditContextAccessor(AuditContext initial) => _current = initial;

    public AuditContext Current
    {
        get => Volatile.Read(ref _current);
        set => Volatile.Write(ref _current, value ?? throw new ArgumentNullException(nameof(value)));
    }
}
