using ComplianceConsole.Tests.Shared;
using ComplianceConsole.Web.Setup;

namespace ComplianceConsole.Web.Tests;

public sealed class RoleMatrixCoverageTests
{
    [Fact]
    public void Every_page_is_in_the_role_matrix_with_the_roles_its_code_demands()
    {
        var listed = RoleMatrix.Rows.Where(r => !r.Endpoint).ToDictionary(r => r.Route);
        foreach (var page in ConsolePages.All)
        {
            Assert.True(listed.ContainsKey(page.Route), $"{page.Route} ({page.Component.Name}) is not in tests/Shared/RoleMatrix.cs: add it with the roles that may open it.");
            var expected = listed[page.Route].Allowed;
            var allowed = RoleMatrix.Everyone.Where(role => page.Allows([role])).ToArray();
            Assert.True(expected.Order().SequenceEqual(allowed.Order()), $"{page.Route}: the matrix says {string.Join(",", expected)}, the code lets in {string.Join(",", allowed)}.");
            Assert.NotEqual(page.Route, page.Name); // every page names itself for the access-denied page
        }

        Assert.All(listed.Keys, route => Assert.Contains(ConsolePages.All, p => p.Route == route));
    }

    [Theory]
    [InlineData("/customers/7", "Customer")]
    [InlineData("/customers/new", "New customer")]
    [InlineData("/accounts/2f1e6d1c-0000-4000-8000-000000000001", "Account")]
    [InlineData("/audit/12?x=1", "Audit entry")]
    [InlineData("/audit/policy", "Capture policy")]
    [InlineData("/history/Customers/7", "Record history")]
    [InlineData("/history/AccountSignatories/%7B%22AccountId%22%3A%22A%22%7D", "Record history")]
    [InlineData("/no/such/page", null)]
    public void A_path_finds_its_page(string path, string? name) => Assert.Equal(name, ConsolePages.Find(path)?.Name);
}
