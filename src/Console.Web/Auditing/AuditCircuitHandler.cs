using ComplianceConsole.Core.Auditing;
using Microsoft.AspNetCore.Components;
using Microsoft.AspNetCore.Components.Authorization;
using Microsoft.AspNetCore.Components.Server.Circuits;

namespace ComplianceConsole.Web.Auditing;

/// <summary>
/// Gives a circuit's audit context its user (from the circuit's authentication state, not HttpContext), its
/// client address and browser (from the connection that opened it), and a fresh correlation id and origin
/// page for every inbound action.
/// </summary>
public sealed class AuditCircuitHandler(
    WebAuditContextAccessor accessor,
    AuthenticationStateProvider authentication,
    NavigationManager navigation,
    IHttpContextAccessor httpContextAccessor) : CircuitHandler, IDisposable
{
    public override async Task OnCircuitOpenedAsync(Circuit circuit, CancellationToken cancellationToken)
    {
        var http = httpContextAccessor.HttpContext;
        var state = await authentication.GetAuthenticationStateAsync();
        accessor.Set(state.User, Origin(), WebAuditContextAccessor.NewId(),
            http?.Connection.RemoteIpAddress?.ToString(), http?.Request.Headers.UserAgent.ToString());
        authentication.AuthenticationStateChanged += OnAuthenticationStateChanged;
    }

    public override Func<CircuitInboundActivityContext, Task> CreateInboundActivityHandler(Func<CircuitInboundActivityContext, Task> next) =>
        async context =>
        {
            // The circuit's context is also the ambient scope of the action, so that a context built outside this
            // circuit's DI scope (a pooled or singleton factory) is attributed to this circuit's user too.
            accessor.BeginAction(Origin());
            using (AuditScope.Begin(accessor.Current))
            {
                await next(context);
            }
        };

    public void Dispose() => authentication.AuthenticationStateChanged -= OnAuthenticationStateChanged;

    private async void OnAuthenticationStateChanged(Task<AuthenticationState> task)
    {
        try
        {
            accessor.SetUser((await task).User);
        }
        catch (Exception)
        {
            accessor.SetUser(null); // an unknown user is recorded as anonymous, never as the previous one
        }
    }

    private string Origin()
    {
        try
        {
            return "page:/" + navigation.ToBaseRelativePath(navigation.Uri).Split('?')[0];
        }
        catch (InvalidOperationException)
        {
            return "page:unknown"; // NavigationManager not initialised yet
        }
    }
}

/// <summary>Sets the audit context of a plain HTTP request (endpoints, the first page load).</summary>
public sealed class AuditContextMiddleware(RequestDelegate next)
{
    public async Task InvokeAsync(HttpContext http, WebAuditContextAccessor accessor)
    {
        accessor.Set(http.User, $"endpoint:{http.Request.Method} {http.Request.Path}", http.TraceIdentifier,
            http.Connection.RemoteIpAddress?.ToString(), http.Request.Headers.UserAgent.ToString());
        using (AuditScope.Begin(accessor.Current))
        {
            await next(http);
        }
    }
}
