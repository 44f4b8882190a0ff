namespace ComplianceConsole.Core.Auditing;

/// <summary>
/// Who acted. <see cref="System"/> is for jobs and commands; <see cref="Unknown"/> for out-of-band writes;
/// <see cref="Unattributed"/> for an app write whose scope named no actor (a registration that lost it).
/// </summary>
public sealed record AuditActor(string Id, string Name, IReadOnlyList<string> Roles)
{
    public static AuditActor System(string jobName) => new($"system:{jobName}", $"system:{jobName}", []);

    public static readonly AuditActor Unknown = new("unknown", "unknown", []);

    public static readonly AuditActor Anonymous = new("anonymous", "anonymous", []);

    public static readonly AuditActor Unattributed = new("unattributed", "unattributed", []);

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
    /// <summary>The origin of an app write made where no scope named its actor: visible in the trail, never passed off as anonymous.</summary>
    public const string UnattributedOrigin = "unattributed";

    /// <summary>The origin of a change made by reverting a record or a transaction to an earlier version (record history).</summary>
    public const string RevertOrigin = "revert";

    public static AuditContext ForJob(string jobName) =>
        new(AuditActor.System(jobName), $"job:{jobName}", Guid.NewGuid().ToString("N"));

    /// <summary>What an app write records when neither its context's accessor nor <see cref="AuditScope"/> knows who made it.</summary>
    public static AuditContext Unattributed() => new(AuditActor.Unattributed, UnattributedOrigin, Guid.NewGuid().ToString("N"));
}

/// <summary>Gives the capture engine the context of the operation in progress (per circuit, request or job); null when it does not know.</summary>
public interface IAuditContextAccessor
{
    AuditContext? Current { get; }
}

/// <summary>An accessor whose context is set by its owner: a job, a command, a test, or a web host's middleware and circuit handler.</summary>
public sealed class AuditContextAccessor : IAuditContextAccessor
{
    private AuditContext? _current;

    /// <summary>An accessor that knows no actor until <see cref="Current"/> is set; until then writes fall back to <see cref="AuditScope"/>.</summary>
    public AuditContextAccessor()
    {
    }

    public AuditContextAccessor(AuditContext initial) => _current = initial;

    public AuditContext? Current
    {
        get => Volatile.Read(ref _current);
        set => Volatile.Write(ref _current, value ?? throw new ArgumentNullException(nameof(value)));
    }
}

/// <summary>
/// The ambient audit context of the current asynchronous flow: an HTTP request, one Blazor circuit action, a job.
/// It reaches contexts that a registration built without the caller's scope: <c>AddDbContextFactory</c>,
/// <c>AddDbContextPool</c>, <c>AddPooledDbContextFactory</c> or <c>new MyContext(options)</c>. It flows with
/// <c>await</c> (an <see cref="AsyncLocal{T}"/>), so concurrent requests and circuits never see each other's.
/// <code>using (AuditScope.Begin(context)) { await work(); }</code>
/// </summary>
public static class AuditScope
{
    private static readonly AsyncLocal<AuditContext?> Ambient = new();

    public static AuditContext? Current => Ambient.Value;

    /// <summary>Makes <paramref name="context"/> the ambient context until the returned scope is disposed.</summary>
    public static IDisposable Begin(AuditContext context)
    {
        var previous = Ambient.Value;
        Ambient.Value = context ?? throw new ArgumentNullException(nameof(context));
        return new Restore(previous);
    }

    /// <summary>
    /// The context a write is recorded with: the context's own accessor when it knows, else the ambient scope,
    /// else <see cref="AuditContext.Unattributed"/> (never silently anonymous).
    /// </summary>
    public static AuditContext Resolve(IAuditContextAccessor? accessor) =>
        accessor?.Current ?? Ambient.Value ?? AuditContext.Unattributed();

    private sealed class Restore(AuditContext? previous) : IDisposable
    {
        public void Dispose() => Ambient.Value = previous;
    }
}
