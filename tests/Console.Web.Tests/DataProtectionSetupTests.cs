using ComplianceConsole.Web.Setup;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;

namespace ComplianceConsole.Web.Tests;

/// <summary>Several nodes behind a load balancer share one key ring, so a cookie one node issues, another reads.</summary>
public sealed class DataProtectionSetupTests
{
    [Fact]
    public void Nodes_given_the_same_keys_folder_read_each_others_protected_data()
    {
        var folder = Directory.CreateTempSubdirectory("cc-keys-");
        try
        {
            IDataProtector Node()
            {
                var configuration = new ConfigurationBuilder().AddInMemoryCollection(new Dictionary<string, string?> { ["DataProtection:KeysFolder"] = folder.FullName }).Build();
                var services = new ServiceCollection().AddLogging();
                services.AddConsoleWeb(configuration);
                return services.BuildServiceProvider().GetRequiredService<IDataProtectionProvider>().CreateProtector("cookie");
            }

            var issued = Node().Protect("signed in as olivia");
            Assert.Equal("signed in as olivia", Node().Unprotect(issued)); // another node, another process's provider
            Assert.NotEmpty(folder.GetFiles("key-*.xml"));
        }
        finally
        {
            folder.Delete(recursive: true);
        }
    }
}
