using Microsoft.AspNetCore.DataProtection;
using ComplianceConsole.Core.Auditing;
using ComplianceConsole.Data;
using ComplianceConsole.Data.Domain;
using ComplianceConsole.Web.Auditing;
using ComplianceConsole.Web.Seeding;
using ComplianceConsole.Data.Queries;
using ComplianceConsole.Web.Theming;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Components.Server.Circuits;
using Microsoft.AspNetCore.Identity;
using MudBlazor.Services;

namespace ComplianceConsole.Web.Setup;

public static class WebSetup
{
    /// <summary>The web host's services: Blazor and MudBlazor, Identity with roles, and per-scope audit attribution.</summary>
    public static IServiceCollection AddConsoleWeb(this IServiceCollection services, IConfiguration configuration, string? contentRoot = null)
    {
        services.AddRazorComponents().AddInteractiveServerComponents();
        if (configuration["DataProtection:KeysFolder"] is { Length: > 0 } keys)
        {
            // Several nodes behind a load balancer: each must read the others' sign-in cookies and antiforgery tokens, so they
            // share one key ring (a folder every node can reach). One node needs none: the default per-machine ring does.
            services.AddDataProtection().SetApplicationName("ComplianceConsole")
                .PersistKeysToFileSystem(new DirectoryInfo(ComplianceConsole.Data.ContentPath.Resolve(keys, contentRoot ?? Directory.GetCurrentDirectory())));
        }

        // Messages rise at the bottom right: at the top they covered each page's own header buttons (Run now, Refresh).
        services.AddMudServices(mud => mud.SnackbarConfiguration.PositionClass = MudBlazor.Defaults.Classes.Position.BottomRight);
        services.AddHttpContextAccessor();

        // One audit context per scope: per request, and per circuit in Blazor Server.
        services.AddScoped<WebAuditContextAccessor>();
        services.AddScoped<IAuditContextAccessor>(sp => sp.GetRequiredService<WebAuditContextAccessor>());
        services.AddScoped<CircuitHandler, AuditCircuitHandler>();
        services.AddScoped<AuditedOperations>();
        services.AddScoped<ReadAudit>();
        services.AddScoped<RevertActions>();
        services.AddSingleton<BackgroundChecks>();
        services.Configure<ExportOptions>(configuration.GetSection("Exports"));
        services.AddSingleton<ExportJobs>();
        services.AddHostedService<ExportCleanup>();
        services.AddScoped<ComplianceConsole.Web.Preferences.UserSettings>();
        services.AddScoped<ComplianceConsole.Web.Preferences.SavedSearches>();
        services.AddSingleton<AuditTail>();
        services.AddHostedService(sp => sp.GetRequiredService<AuditTail>());
        services.AddHostedService<AuditReadSideService>();
        services.AddSingleton<AuditVocabulary>();
        services.AddSingleton<AuditSearchService>();
        services.AddSingleton(AnalyticsSettings(configuration));
        services.AddSingleton<AuditDashboardQuery>();
        services.AddSingleton<ComplianceConsole.Data.History.RecordHistoryQuery>();
        services.AddSingleton(sp => new ComplianceConsole.Data.History.RecordReverter(
            sp.GetRequiredService<ComplianceConsole.Data.History.RecordHistoryQuery>(), sp.GetRequiredService<Microsoft.Extensions.Options.IOptions<Core.Auditing.AuditOptions>>().Value));
        services.Configure<HealthOptions>(configuration.GetSection("Health"));
        services.AddScoped<ThemePreferences>();

        services.AddConsoleAuthentication();
        services.Configure<SeedOptions>(configuration.GetSection("Seed"));
        services.AddHostedService<AuditSealingService>();
        services.AddHostedService<CheckpointService>();
        return services;
    }

    private static void AddConsoleAuthentication(this IServiceCollection services)
    {
        services.AddIdentity<ConsoleUser, IdentityRole>(o =>
            {
                o.Password.RequiredLength = 12;
                o.User.RequireUniqueEmail = true;
                o.Lockout.MaxFailedAccessAttempts = 5;
                o.Lockout.DefaultLockoutTimeSpan = TimeSpan.FromMinutes(15);
            })
            .AddEntityFrameworkStores<ConsoleDbContext>()
            .AddDefaultTokenProviders();
        services.ConfigureApplicationCookie(o =>
        {
            o.LoginPath = "/account/login";
            o.AccessDeniedPath = "/access-denied";
            o.Cookie.Name = "ComplianceConsole";
            o.Cookie.HttpOnly = true;
            o.Cookie.SameSite = SameSiteMode.Strict;
            o.SlidingExpiration = true;
            o.ExpireTimeSpan = TimeSpan.FromHours(8);
        });
        // Every page and endpoint needs a signed-in user unless it says otherwise; pages add their roles.
        services.AddAuthorizationBuilder()
            .SetFallbackPolicy(new AuthorizationPolicyBuilder().RequireAuthenticatedUser().Build())
            .AddPolicy(ConsolePolicies.ExportTrail, p => p.RequireRole(ConsoleRoles.TrailExporters.Split(',')))
            .AddPolicy(ConsolePolicies.ManageRetention, p => p.RequireRole(ConsoleRoles.RetentionManagers.Split(',')));
        // Refusals are recorded, pages get the access-denied page, endpoints get 401/403 (never a redirect to HTML).
        services.AddSingleton<IAuthorizationMiddlewareResultHandler, AccessDeniedHandler>();
        services.AddCascadingAuthenticationState();
        // A change of roles (or password) reaches open pages and page loads within a minute (RolesRevalidation).
        services.AddScoped<Microsoft.AspNetCore.Components.Authorization.AuthenticationStateProvider, RolesRevalidation>();
        services.Configure<SecurityStampValidatorOptions>(o => o.ValidationInterval = RolesRevalidation.Interval);
    }

    /// <summary>The "Analytics" section, checked: a bad threshold stops the start with a message that says what to write.</summary>
    public static Core.Analytics.AnalyticsOptions AnalyticsSettings(IConfiguration configuration)
    {
        var section = configuration.GetSection(Core.Analytics.AnalyticsOptions.Section);
        var options = new Core.Analytics.AnalyticsOptions();
        if (section.GetSection(nameof(options.SensitiveTables)).Exists())
        {
            options.SensitiveTables = []; // the binder would add to the defaults
        }

        section.Bind(options);
        var problems = options.Validate().ToList();
        return problems.Count == 0 ? options : throw new InvalidOperationException("the Analytics settings are not valid: " + string.Join(" ", problems));
    }
}

/// <summary>Named policies for what only some trail readers may do (ROADMAP: export, retention, legal holds).</summary>
public static class ConsolePolicies
{
    /// <summary>Export the trail: Admins and ComplianceOfficers. Auditors are read-only.</summary>
    public const string ExportTrail = "trail.export";

    /// <summary>Set retention policies and legal holds: Admins and ComplianceOfficers.</summary>
    public const string ManageRetention = "retention.manage";
}
