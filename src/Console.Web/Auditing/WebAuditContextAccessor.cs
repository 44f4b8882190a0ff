using System.Security.Claims;
using ComplianceConsole.Core.Auditing;

namespace ComplianceConsole.Web.Auditing;

/// <summary>
/// The audit context of one DI scope: an HTTP request (set by <see cref="AuditContextMiddleware"/>) or a Blazor
/// circuit (set by <see cref="AuditCircuitHandler"/>). Never static or AsyncLocal: in Blazor Server many
/// users' circuits share threads, and only the scope tells them apart.
/// </summary>
public sealed class WebAuditContextAccessor : IAuditContextAccessor
{
    private AuditContext _current = new(AuditActor.Anonymous, "unknown", NewId());

    public AuditContext Current => Volatile.Read(ref _current);

    public void Set(ClaimsPrincipal? user, string origin, string correlationId, string? ip, string? userAgent) =>
        Volatile.Write(ref _current, new AuditContext(ActorOf(user), origin, correlationId, ip, Truncate(userAgent, 512)));

    /// <summary>Takes another scope's context as it is (see <see cref="AuditedOperations"/>).</summary>
    public void Adopt(AuditContext context) => Volatile.Write(ref _current, context);

    public void SetUser(ClaimsPrincipal? user) => Update(c => c with { Actor = ActorOf(user) });

    /// <summary>A new correlation id for one circuit action (a click, a form submit), with the page it came from.</summary>
    public void BeginAction(string origin) => Update(c => c with { Origin = origin, CorrelationId = NewId() });

    public static AuditActor ActorOf(ClaimsPrincipal? user)
    {
        if (user?.Identity?.IsAuthenticated != true)
        {
            return AuditActor.Anonymous;
        }

        var id = user.FindFirstValue(ClaimTypes.NameIdentifier) ?? user.Identity.Name ?? "unknown";
        var name = user.FindFirstValue(ClaimTypes.Email) ?? user.Identity.Name ?? id;
        var roles = user.FindAll(ClaimTypes.Role).Select(c => c.Value).Order(StringComparer.Ordinal).ToList();
        return new AuditActor(id, name, roles);
    }

    public static string NewId() => Guid.NewGuid().ToString("N");

    private void Update(Func<AuditContext, AuditContext> change)
    {
        AuditContext before, after;
        do
        {
            before = Volatile.Read(ref _current);
            after = change(before);
        }
        while (Interlocked.CompareExchange(ref _current, after, before) != before);
    }

    internal static string? Truncate(string? value, int max) => value is null || value.Length <= max ? value : value[..max];
}
