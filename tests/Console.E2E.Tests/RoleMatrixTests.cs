using System.Text.RegularExpressions;
using ComplianceConsole.Tests.Shared;
using Microsoft.Data.Sqlite;
using Microsoft.Playwright;

namespace ComplianceConsole.E2E.Tests;

/// <summary>Every page and endpoint, requested as every role over real HTTP: who gets in, what the others get, and that each refusal is in the trail.</summary>
[Collection(ConsoleCollection.Name)]
public sealed class RoleMatrixTests(ConsoleServer server)
{
    private static readonly (string Role, string Email)[] Users =
    [
        (RoleMatrix.Admin, "admin@console.local"),
        (RoleMatrix.Officer, "olivia.officer@console.local"),
        (RoleMatrix.Auditor, "aurora.auditor@console.local"),
        (RoleMatrix.Operator, "oscar.operator@console.local"),
    ];

    private string Scalar(string sql)
    {
        using var connection = new SqliteConnection($"Data Source={server.DatabasePath};Mode=ReadOnly");
        connection.Open();
        using var command = connection.CreateCommand();
        command.CommandText = sql;
        return Convert.ToString(command.ExecuteScalar()) ?? "";
    }

    private string Fill(string path) => path
        .Replace("{account}", Scalar("SELECT Id FROM Accounts LIMIT 1"))
        .Replace("{document}", Scalar("SELECT Id FROM Documents LIMIT 1"));

    private int Denials(string email, string route) =>
        int.Parse(Scalar($"SELECT COUNT(*) FROM AuditEntries WHERE EventName = 'access.denied' AND ActorName = '{email}' AND json_extract(Metadata, '$.route') = '{route}'"));

    [Fact]
    public async Task Every_role_gets_exactly_its_pages_and_each_refusal_is_recorded_with_the_role_it_needs()
    {
        var failures = new List<string>();
        foreach (var (role, email) in Users)
        {
            var page = await server.SignInAsync(email, "/account/password");
            var http = page.Context.APIRequest;
            foreach (var (route, template, allowed, endpoint) in RoleMatrix.Rows.Where(r => r.Route != "/account/login"))
            {
                var path = Fill(template);
                var before = Denials(email, path);
                var response = await http.GetAsync(server.BaseUrl + path, new() { MaxRedirects = 0 });
                var location = response.Headers.GetValueOrDefault("location") ?? "";
                if (allowed.Contains(role))
                {
                    if (response.Status != 200)
                    {
                        failures.Add($"{role} {path}: expected 200, got {response.Status} {location}");
                    }

                    continue;
                }

                var expected = endpoint ? response.Status == 403 : response.Status == 302 && location.StartsWith("/access-denied?from=" + Uri.EscapeDataString(path), StringComparison.Ordinal);
                if (!expected)
                {
                    failures.Add($"{role} {path}: expected {(endpoint ? "403" : "a redirect to /access-denied")}, got {response.Status} {location}");
                }

                if (Denials(email, path) != before + 1)
                {
                    failures.Add($"{role} {path}: the refusal was not recorded as access.denied");
                }
                else
                {
                    var needs = Scalar($"SELECT json_extract(Metadata, '$.needs') FROM AuditEntries WHERE EventName = 'access.denied' AND ActorName = '{email}' AND json_extract(Metadata, '$.route') = '{path}' ORDER BY Seq DESC LIMIT 1");
                    if (!needs.Split(',').Order().SequenceEqual(allowed.Order()))
                    {
                        failures.Add($"{role} {path}: recorded needs '{needs}', expected {string.Join(",", allowed)}");
                    }
                }
            }

            await page.Context.CloseAsync();
        }

        Assert.True(failures.Count == 0, string.Join("\n", failures));
    }

    [Fact]
    public async Task Without_signing_in_pages_ask_for_a_sign_in_and_endpoints_answer_401()
    {
        var context = await server.Browser.NewContextAsync();
        foreach (var (route, template, _, endpoint) in RoleMatrix.Rows.Where(r => r.Route is not ("/account/login" or "/access-denied" or "/not-found")))
        {
            var response = await context.APIRequest.GetAsync(server.BaseUrl + Fill(template), new() { MaxRedirects = 0 });
            if (endpoint)
            {
                Assert.Equal(401, response.Status);
            }
            else
            {
                Assert.Equal(302, response.Status);
                Assert.Contains("/account/login", response.Headers["location"]);
            }
        }
    }

    [Fact]
    public async Task A_browser_form_post_without_a_session_is_sent_to_sign_in_not_given_json()
    {
        var context = await server.Browser.NewContextAsync();
        var response = await context.APIRequest.PostAsync(server.BaseUrl + "/account/logout", new()
        {
            MaxRedirects = 0,
            Headers = new Dictionary<string, string> { ["Accept"] = "text/html,application/xhtml+xml" },
        });
        Assert.Equal(302, response.Status);
        Assert.Contains("/account/login", response.Headers["location"]);
    }

    [Fact]
    public async Task The_access_denied_page_names_the_page_and_the_role_and_a_refusal_inside_the_circuit_is_recorded_too()
    {
        var page = await server.SignInAsync("oscar.operator@console.local", "/admin/users");
        await Assertions.Expect(page).ToHaveURLAsync(new Regex("/access-denied"));
        await Assertions.Expect(page.Locator("[data-testid=access-denied]")).ToContainTextAsync("Users and roles");
        await Assertions.Expect(page.Locator("[data-testid=access-needs]")).ToContainTextAsync("Admin");
        await page.ScreenshotAsync(new PageScreenshotOptions { Path = Path.Combine(ConsoleServer.ScreenshotDirectory, "access-denied.png") });

        // Inside a live circuit the router refuses the page itself (no HTTP request): the refusal is recorded all the same.
        await page.GotoAsync(server.BaseUrl + "/customers");
        await ConsoleServer.WaitForCircuitAsync(page);
        var before = Denials("oscar.operator@console.local", "/audit?q=op%3Adelete");
        await page.EvaluateAsync("() => Blazor.navigateTo('/audit?q=op%3Adelete')");
        await Assertions.Expect(page.Locator("[data-testid=access-needs]")).ToContainTextAsync("Admin or ComplianceOfficer or Auditor");
        await ConsoleServer.EventuallyAsync(() => Denials("oscar.operator@console.local", "/audit?q=op%3Adelete") == before + 1, "the in-circuit refusal is recorded");
    }

    [Fact]
    public async Task Officers_and_auditors_read_every_record_but_cannot_change_it_and_their_reads_are_recorded()
    {
        var page = await server.SignInAsync("aurora.auditor@console.local", "/customers");
        await ConsoleServer.WaitForCircuitAsync(page);
        await page.Locator("a[href^='/customers/']:not([href='/customers/new'])").First.ClickAsync();
        await Assertions.Expect(page.Locator("[data-testid=read-only]")).ToBeVisibleAsync();
        await Assertions.Expect(page.Locator("[data-testid=save]")).ToHaveCountAsync(0);
        await Assertions.Expect(page.Locator("[data-testid=delete]")).ToHaveCountAsync(0);
        var id = Regex.Match(page.Url, @"/customers/(\d+)").Groups[1].Value;
        await ConsoleServer.EventuallyAsync(() => Scalar($"SELECT COUNT(*) FROM AuditEntries WHERE EventName = 'record.viewed' AND ActorName = 'aurora.auditor@console.local' AND Target = 'Customers/{{\"Id\":{id}}}'") == "1", "the read is recorded once");
    }
}
