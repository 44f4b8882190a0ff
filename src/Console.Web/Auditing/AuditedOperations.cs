namespace ComplianceConsole.Web.Auditing;

/// <summary>
/// Runs work in a fresh DI scope (fresh UserManager, fresh contexts) that carries this circuit's audit context,
/// so long-lived circuits never reuse stale tracked entities and are still attributed to their user.
/// </summary>
public sealed class AuditedOperations(IServiceScopeFactory scopes, WebAuditContextAccessor current)
{
    public async Task<T> RunAsync<T>(Func<IServiceProvider, Task<T>> work)
    {
        await using var scope = scopes.CreateAsyncScope();
        scope.ServiceProvider.GetRequiredService<WebAuditContextAccessor>().Adopt(current.Current);
        return await work(scope.ServiceProvider);
    }
}
