using System.Security.Claims;
using ComplianceConsole.Core.Auditing;
using ComplianceConsole.Data;
using ComplianceConsole.Data.Domain;
using ComplianceConsole.Web.Setup;
using Microsoft.AspNetCore.Components.Authorization;
using Microsoft.AspNetCore.Identity;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace ComplianceConsole.Web.Tests;

/// <summary>An open page keeps the user it was opened with only while that user's roles and password stay as they were.</summary>
public sealed class RolesRevalidationTests
{
    [Fact]
    public async Task A_page_open_before_an_admin_took_a_role_away_loses_its_user_at_the_next_check()
    {
        var file = Path.Combine(Path.GetTempPath(), $"cc-revalidate-{Guid.NewGuid():N}.db");
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?> { ["Database:ConnectionString"] = $"Data Source={file}" }).Build();
        var services = new ServiceCollection().AddLogging();
        services.AddConsoleData(configuration, Path.GetTempPath());
        services.AddConsoleWeb(configuration);
        try
        {
            await using var provider = services.BuildServiceProvider();
            await DatabaseInitializer.InitializeAsync(provider.GetRequiredService<DatabaseSettings>(), new AuditOptions());
            var scopes = provider.GetRequiredService<IServiceScopeFactory>();
            var identity = provider.GetRequiredService<IOptions<IdentityOptions>>().Value;
            ClaimsPrincipal opened;
            await using (var scope = scopes.CreateAsyncScope())
            {
                var users = scope.ServiceProvider.GetRequiredService<UserManager<ConsoleUser>>();
                var roles = scope.ServiceProvider.GetRequiredService<RoleManager<IdentityRole>>();
                await roles.CreateAsync(new IdentityRole(ConsoleRoles.ComplianceOfficer));
                var olivia = new ConsoleUser { UserName = "olivia@example.test", Email = "olivia@example.test", DisplayName = "Olivia" };
                Assert.True((await users.CreateAsync(olivia, "A-long-Passw0rd!")).Succeeded);
                await users.AddToRoleAsync(olivia, ConsoleRoles.ComplianceOfficer);
                opened = await scope.ServiceProvider.GetRequiredService<IUserClaimsPrincipalFactory<ConsoleUser>>().CreateAsync(await users.FindByEmailAsync("olivia@example.test") ?? olivia);
            }

            Assert.True(opened.IsInRole(ConsoleRoles.ComplianceOfficer));
            Assert.True(await RolesRevalidation.IsCurrentAsync(scopes, identity, opened)); // nothing changed: the page keeps her

            // An Admin takes the role away, as the users page does.
            await using (var scope = scopes.CreateAsyncScope())
            {
                var users = scope.ServiceProvider.GetRequiredService<UserManager<ConsoleUser>>();
                var olivia = (await users.FindByEmailAsync("olivia@example.test"))!;
                var (added, removed, refusal) = await UserRoles.ChangeAsync(users, olivia, new HashSet<string>());
                Assert.Null(refusal);
                Assert.Equal([ConsoleRoles.ComplianceOfficer], removed);
                Assert.Empty(added);
                Assert.Equal("No change.", (await UserRoles.ChangeAsync(users, olivia, new HashSet<string>())).Refusal);
            }

            Assert.False(await RolesRevalidation.IsCurrentAsync(scopes, identity, opened)); // the open page loses her at its next check

            // And the console's circuits use this check, every minute.
            await using (var scope = scopes.CreateAsyncScope())
            {
                Assert.IsType<RolesRevalidation>(scope.ServiceProvider.GetRequiredService<AuthenticationStateProvider>());
            }

            Assert.Equal(RolesRevalidation.Interval, provider.GetRequiredService<IOptions<SecurityStampValidatorOptions>>().Value.ValidationInterval);

            // The console always keeps an Admin: the only one cannot lose the role; once there is another, they can.
            await using (var scope = scopes.CreateAsyncScope())
            {
                var users = scope.ServiceProvider.GetRequiredService<UserManager<ConsoleUser>>();
                await scope.ServiceProvider.GetRequiredService<RoleManager<IdentityRole>>().CreateAsync(new IdentityRole(ConsoleRoles.Admin));
                var avery = new ConsoleUser { UserName = "avery@example.test", Email = "avery@example.test", DisplayName = "Avery" };
                Assert.True((await users.CreateAsync(avery, "A-long-Passw0rd!")).Succeeded);
                await users.AddToRoleAsync(avery, ConsoleRoles.Admin);
                var refused = await UserRoles.ChangeAsync(users, avery, new HashSet<string> { ConsoleRoles.Auditor });
                Assert.Contains("the only Admin", refused.Refusal);
                Assert.True(await users.IsInRoleAsync(avery, ConsoleRoles.Admin));
                var olivia = (await users.FindByEmailAsync("olivia@example.test"))!;
                Assert.Null((await UserRoles.ChangeAsync(users, olivia, new HashSet<string> { ConsoleRoles.Admin })).Refusal);
                Assert.Null((await UserRoles.ChangeAsync(users, avery, new HashSet<string>())).Refusal);
                Assert.False(await users.IsInRoleAsync(avery, ConsoleRoles.Admin));
            }
        }
        finally
        {
            SqliteConnection.ClearAllPools();
            File.Delete(file);
        }
    }
}
