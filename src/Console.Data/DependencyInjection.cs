using ComplianceConsole.Core.Auditing;
using ComplianceConsole.Data.Interceptors;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;

namespace ComplianceConsole.Data;

public static class DependencyInjection
{
    public static IServiceCollection AddConsoleData(this IServiceCollection services, IConfiguration configuration, string contentRoot)
    {
        services.AddSingleton(DatabaseSettings.From(configuration, contentRoot));
        services.Configure<AuditOptions>(configuration.GetSection("Audit"));
        services.AddSingleton(sp =>
        {
            var path = sp.GetRequiredService<IOptions<AuditOptions>>().Value.SpoolPath;
            return new AuditSpool(ContentPath.Resolve(path, contentRoot));
        });
        services.TryAddSingleton(TimeProvider.System);
        services.TryAddScoped<IAuditContextAccessor, AuditContextAccessor>();
        services.AddScoped<IDbContextFactory<ConsoleDbContext>, ConsoleDbContextFactory>();
        // Identity's stores take a context from DI; it is attributed like any other in the scope.
        services.AddScoped(sp => sp.GetRequiredService<IDbContextFactory<ConsoleDbContext>>().CreateDbContext());
        return services;
    }
}
