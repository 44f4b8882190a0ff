using ComplianceConsole.Data;
using ComplianceConsole.Web.Auditing;
using ComplianceConsole.Web.Cli;
using ComplianceConsole.Web.Components;
using ComplianceConsole.Web.Jobs;
using ComplianceConsole.Web.Seeding;
using ComplianceConsole.Web.Setup;
using Microsoft.Extensions.FileProviders;

var builder = WebApplication.CreateBuilder(args);
WebApplication app;
try
{
    builder.Services.AddConsoleData(builder.Configuration, builder.Environment.ContentRootPath);
    builder.Services.AddConsoleWeb(builder.Configuration, builder.Environment.ContentRootPath);
    builder.Services.AddConsoleJobs(builder.Configuration, builder.Environment.ContentRootPath);
    builder.Services.AddSingleton<DemoSeeder>();

    if (ConsoleCommands.VerbOf(args) is { } verb)
    {
        return await ConsoleCommands.RunAsync(verb, args, builder);
    }

    app = builder.Build();
    await app.Services.GetRequiredService<DemoSeeder>().EnsureDatabaseAsync();
}
catch (UsageException ex)
{
    await Console.Error.WriteLineAsync(ex.Message);
    return 2;
}
catch (Exception ex) when (StartupFailure.Describe(ex, builder.Configuration) is { } message)
{
    // A bad setting or an unreachable database: one clear message and a non-zero exit, no stack trace.
    await Console.Error.WriteLineAsync(message);
    return 2;
}

if (!app.Environment.IsDevelopment())
{
    app.UseExceptionHandler("/error", createScopeForErrors: true);
    app.UseHsts();
}

// Unknown addresses get the console's own "not found" page, in its frame, still with status 404.
app.UseStatusCodePagesWithReExecute("/not-found", createScopeForStatusCodePages: true);
app.UseStaticFiles(new StaticFileOptions
{
    FileProvider = new PhysicalFileProvider(Path.Combine(AppContext.BaseDirectory, "wwwroot-assets")),
    RequestPath = "/assets",
});
app.UseAuthentication();
app.UseMiddleware<AuditContextMiddleware>();
app.UseAuthorization();
app.UseAntiforgery();

app.MapStaticAssets().AllowAnonymous();
app.MapAccountEndpoints();
app.MapAuditHealth();
app.MapIntegrityReport();
app.MapExportDownloads();
app.MapJobDownloads();
app.MapRazorComponents<App>().AddInteractiveServerRenderMode();

await app.RunAsync();
return 0;
