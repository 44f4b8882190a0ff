using ComplianceConsole.Core.Auditing;
using ComplianceConsole.Data;
using Microsoft.AspNetCore.Components;
using Microsoft.AspNetCore.Components.Rendering;
using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using MudBlazor;
using MudBlazor.Services;

namespace ComplianceConsole.Web.Tests;

/// <summary>
/// bUnit with MudBlazor (loose JS interop, popover provider), a signed-in user with a role, and a real migrated
/// SQLite file behind the same context factory the console uses. Disposed asynchronously, as MudBlazor needs.
/// </summary>
public abstract class ConsoleComponentTest : BunitContext, IAsyncLifetime
{
    private readonly string _file = Path.Combine(Path.GetTempPath(), $"cc-bunit-{Guid.NewGuid():N}.db");

    /// <param name="services">More services a page needs, added before the first is resolved.</param>
    protected ConsoleComponentTest(string userName = "olivia@example.test", string role = "ComplianceOfficer", Action<IServiceCollection>? services = null)
    {
        Settings = new DatabaseSettings(DatabaseProvider.Sqlite, $"Data Source={_file}");
        Actor = new AuditContextAccessor(new AuditContext(new AuditActor("u-" + userName, userName, [role]), "page:/test", "corr-test"));
        JSInterop.Mode = JSRuntimeMode.Loose;
        Services.AddMudServices();
        Services.AddSingleton(Settings);
        Services.AddSingleton<IAuditContextAccessor>(Actor);
        Services.AddSingleton(Options.Create(new AuditOptions()));
        Services.AddSingleton(TimeProvider.System);
        Services.AddSingleton(new ComplianceConsole.Data.Interceptors.AuditSpool(_file + ".spool"));
        Services.AddScoped<IDbContextFactory<ConsoleDbContext>, ConsoleDbContextFactory>();
        Services.AddLogging();
        Services.AddScoped<ComplianceConsole.Web.Auditing.ReadAudit>();
        Services.AddSingleton<ComplianceConsole.Data.Queries.AuditVocabulary>();
        Services.AddSingleton<ComplianceConsole.Data.Queries.AuditSearchService>();
        Services.AddScoped<ComplianceConsole.Web.Preferences.UserSettings>();
        Services.AddScoped<ComplianceConsole.Web.Preferences.SavedSearches>();
        Services.AddSingleton<ComplianceConsole.Web.Auditing.AuditTail>();
        services?.Invoke(Services);
        var auth = AddAuthorization();
        auth.SetAuthorized(userName);
        auth.SetRoles(role);
        auth.SetClaims(new System.Security.Claims.Claim(System.Security.Claims.ClaimTypes.NameIdentifier, "u-" + userName));
        SetRendererInfo(new RendererInfo("Server", isInteractive: true));
    }

    protected DatabaseSettings Settings { get; }
    protected AuditContextAccessor Actor { get; }

    protected ConsoleDbContext Db() => ConsoleDbContextFactory.Create(Settings);

    /// <summary>Renders the page beside the MudBlazor popover provider its selects and menus need.</summary>
    protected IRenderedComponent<TPage> RenderPage<TPage>(Action<ComponentParameterCollectionBuilder<TPage>>? parameters = null) where TPage : IComponent
    {
        Render<MudPopoverProvider>();
        return parameters is null ? Render<TPage>() : Render<TPage>(parameters);
    }

    /// <summary>
    /// Clicks <paramref name="selector"/>, whose handler awaits a confirmation dialog; checks that the dialog says
    /// <paramref name="question"/>, answers <paramref name="answer"/>, and waits for the handler to finish. The click is
    /// started, not awaited, before the dialog is answered: awaiting it first would wait forever.
    /// </summary>
    protected static async Task ClickAndConfirmAsync<TPage>(IRenderedComponent<TPage> page, IRenderedComponent<MudDialogProvider> provider, string selector, string question, string answer)
        where TPage : IComponent
    {
        var clicking = page.Find(selector).ClickAsync(new());
        provider.WaitForAssertion(() => Assert.Contains(question, provider.Markup));
        await provider.FindAll("button").First(b => b.TextContent.Trim().Equals(answer, StringComparison.OrdinalIgnoreCase)).ClickAsync(new());
        await clicking;
    }

    public virtual Task InitializeAsync() => DatabaseInitializer.InitializeAsync(Settings, new AuditOptions());

    async Task IAsyncLifetime.DisposeAsync()
    {
        await DisposeAsync();
        SqliteConnection.ClearAllPools();
        foreach (var suffix in new[] { "", "-wal", "-shm" })
        {
            File.Delete(_file + suffix);
        }
    }
}
