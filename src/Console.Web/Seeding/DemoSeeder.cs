using System.Diagnostics;
using System.Security.Cryptography;
using ComplianceConsole.Core.Auditing;
using ComplianceConsole.Data;
using ComplianceConsole.Data.Capture;
using ComplianceConsole.Data.Domain;
using Microsoft.AspNetCore.Identity;
using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace ComplianceConsole.Web.Seeding;

public sealed class SeedOptions
{
    /// <summary>Seed demo users and 90 days of history when the database is new.</summary>
    public bool Enabled { get; set; } = true;

    /// <summary>The demo users' password. Empty: a random one is generated and printed once on the console.</summary>
    public string? DemoPassword { get; set; }

    public int Days { get; set; } = 90;
}

/// <summary>
/// Creates and migrates the database, and on first run fills it with demo users in every role and about
/// 90 days of history from many actors. Every change goes through the real capture path (a simulated clock
/// gives it its time), so the demo chain verifies like a real one.
/// </summary>
public sealed class DemoSeeder(DatabaseSettings settings, IOptions<AuditOptions> audit, IOptions<SeedOptions> options, IOptions<Data.Retention.RetentionOptions> retention, ILogger<DemoSeeder> log)
{
    private static readonly string[] FirstNames = ["Ada", "Grace", "Alan", "Edsger", "Barbara", "Donald", "Frances", "Ken", "Margaret", "Niklaus", "Radia", "Tim", "Sophie", "Linus", "Hedy", "Dennis", "Katherine", "John", "Annie", "Claude"];
    private static readonly string[] LastNames = ["Lovelace", "Hopper", "Turing", "Dijkstra", "Liskov", "Knuth", "Allen", "Thompson", "Hamilton", "Wirth", "Perlman", "Lee", "Wilson", "Torvalds", "Lamarr", "Ritchie", "Johnson", "Backus", "Easley", "Shannon"];
    private static readonly (string City, string Country, string Zip)[] Cities = [("Berlin", "DE", "10115"), ("Paris", "FR", "75001"), ("Amsterdam", "NL", "1012"), ("Madrid", "ES", "28001"), ("Vienna", "AT", "1010"), ("Dublin", "IE", "D02")];
    private static readonly string[] Beneficiaries = ["ACME GmbH", "Globex SA", "Initech BV", "Umbrella SL", "Stark Industries", "Wayne Enterprises", "Hooli Ltd"];
    /// <summary>What the demo's officers and auditors look for in the trail.</summary>
    private static readonly (string Query, string Range)[] Reviews =
    [
        ("table:Payments op:delete", "30d"), ("event:auth.login_failed", "7d"), ("table:Customers op:update", "7d"), ("op:delete", "90d"),
        ("event:auth.*", "24h"), ("table:Accounts", "30d"), ("outofband:true", "all"), ("\"Harbour Road\"", "90d"),
    ];

    private static readonly string[] Agents = ["Mozilla/5.0 (X11; Linux x86_64) Firefox/131.0", "Mozilla/5.0 (Windows NT 10.0) Chrome/130.0", "Mozilla/5.0 (Macintosh) Safari/605.1"];

    public static readonly (string Email, string Name, string Role)[] DemoUsers =
    [
        ("admin@console.local", "Avery Admin", ConsoleRoles.Admin),
        ("ines.admin@console.local", "Ines Admin", ConsoleRoles.Admin),
        ("olivia.officer@console.local", "Olivia Officer", ConsoleRoles.ComplianceOfficer),
        ("omar.officer@console.local", "Omar Officer", ConsoleRoles.ComplianceOfficer),
        ("aurora.auditor@console.local", "Aurora Auditor", ConsoleRoles.Auditor),
        ("abel.auditor@console.local", "Abel Auditor", ConsoleRoles.Auditor),
        ("oscar.operator@console.local", "Oscar Operator", ConsoleRoles.Operator),
        ("petra.operator@console.local", "Petra Operator", ConsoleRoles.Operator),
        ("quinn.operator@console.local", "Quinn Operator", ConsoleRoles.Operator),
    ];

    /// <summary>Migrates; on a new database seeds it (or creates a first admin if seeding is off).</summary>
    public async Task EnsureDatabaseAsync(CancellationToken cancellationToken = default)
    {
        if (settings.InstallAtStartup)
        {
            var changes = await DatabaseInitializer.InitializeAsync(settings, audit.Value, cancellationToken);
            foreach (var refused in changes.Refused)
            {
                log.LogError("Not captured: {Reason}", refused);
            }
        }
        else
        {
            // SQL Server under least privilege: no DDL here; the deploy step did it. Say what differs, write nothing.
            var check = await DatabaseInitializer.RequireDeployedAsync(settings, audit.Value, retention.Value.RunsHere, cancellationToken);
            await using (var deployed = ConsoleDbContextFactory.Create(settings))
            {
                await deployed.Database.OpenConnectionAsync(cancellationToken);
                await Jobs.QuartzSchema.RequireAsync(deployed.Database.GetDbConnection(), cancellationToken);
            }

            foreach (var problem in check.Problems)
            {
                log.LogError("Capture is not as deployed: {Problem}", problem);
            }

            foreach (var note in check.Notes)
            {
                log.LogWarning("Capture: {Note}", note);
            }
        }

        await using var db = ConsoleDbContextFactory.Create(settings);
        if (await db.Users.AnyAsync(cancellationToken))
        {
            return;
        }

        if (options.Value.Enabled)
        {
            await SeedAsync(cancellationToken);
        }
        else
        {
            await CreateFirstAdminAsync(cancellationToken);
        }
    }

    /// <summary>Deletes the SQLite database and builds it again with fresh demo data.</summary>
    public async Task RecreateAsync(CancellationToken cancellationToken = default)
    {
        if (settings.SqliteFilePath is not { } path)
        {
            throw new InvalidOperationException("'seed' recreates the embedded SQLite database only; on SQL Server drop and recreate the database yourself, then start the console.");
        }

        SqliteConnection.ClearAllPools();
        foreach (var suffix in new[] { "", "-wal", "-shm" })
        {
            File.Delete(path + suffix);
        }

        await DatabaseInitializer.InitializeAsync(settings, audit.Value, cancellationToken);
        await SeedAsync(cancellationToken);
    }

    private async Task CreateFirstAdminAsync(CancellationToken cancellationToken)
    {
        var password = NewPassword();
        var clock = new SimulatedClock(DateTimeOffset.UtcNow);
        var hash = new PasswordHasher<ConsoleUser>().HashPassword(null!, password);
        await using var db = Context(AuditContext.ForJob("first-run"), clock);
        AddRolesAndUsers(db, [DemoUsers[0]], hash);
        await db.SaveChangesAsync(cancellationToken);
        Announce(password, onlyAdmin: true);
    }

    private async Task SeedAsync(CancellationToken cancellationToken)
    {
        var watch = Stopwatch.StartNew();
        var password = string.IsNullOrWhiteSpace(options.Value.DemoPassword) ? NewPassword() : options.Value.DemoPassword!;
        var hash = new PasswordHasher<ConsoleUser>().HashPassword(null!, password); // once: PBKDF2 is slow by design
        var random = new Random(20261123);
        var start = DateTimeOffset.UtcNow.AddDays(-options.Value.Days).Date;
        var clock = new SimulatedClock(new DateTimeOffset(start, TimeSpan.Zero).AddHours(8));

        List<ConsoleUser> users;
        await using (var db = Context(AuditContext.ForJob("seed"), clock))
        {
            users = AddRolesAndUsers(db, DemoUsers, hash);
            db.Tags.AddRange(new[] { "pep", "high-net-worth", "sanctions-check", "dormant", "vip", "sme" }.Select(n => new Tag { Name = n }));
            await db.SaveChangesAsync(cancellationToken);
        }

        var people = users.Select((u, i) => (User: u, Role: DemoUsers[i].Role, Ip: $"10.20.{i + 1}.{random.Next(2, 250)}", Agent: Agents[i % Agents.Length])).ToList();
        // Operators make the changes (an admin now and then); officers and auditors only read the trail.
        var operators = people.Where(p => p.Role == ConsoleRoles.Operator).Concat(people.Where(p => p.Role == ConsoleRoles.Admin).Take(1)).ToList();
        var readers = people.Where(p => p.Role is ConsoleRoles.ComplianceOfficer or ConsoleRoles.Auditor).ToList();
        var admins = people.Where(p => p.Role == ConsoleRoles.Admin).ToList();
        var nightDay = Math.Max(0, options.Value.Days - 4);
        var customers = new List<int>();
        var accounts = new List<Guid>();
        var pendingPayments = new List<long>();

        for (var day = 0; day < options.Value.Days; day++)
        {
            clock.Now = new DateTimeOffset(start.AddDays(day), TimeSpan.Zero).AddHours(8 + random.NextDouble());
            foreach (var person in people.Where(_ => random.NextDouble() < 0.45))
            {
                await EventAsync(person, AuditEventNames.LoginSucceeded, clock, random, cancellationToken);
            }

            if (random.NextDouble() < 0.15)
            {
                await using var db = Context(new AuditContext(new AuditActor("anonymous", "mallory@example.test", []), "endpoint:POST /account/login", Id(), "203.0.113." + random.Next(1, 250), Agents[0]), clock);
                await db.Database.RecordAuditEventAsync(new AuditEventRequest(AuditEventNames.LoginFailed, "mallory@example.test", new Dictionary<string, string?> { ["knownUser"] = "false" }), cancellationToken);
            }

            var actions = random.Next(8, 14);
            for (var a = 0; a < actions; a++)
            {
                clock.Now = clock.Now.AddMinutes(random.Next(3, 40));
                var who = operators[random.Next(operators.Count)];
                var roll = random.NextDouble();
                if (customers.Count < 20 || roll < 0.14)
                {
                    await using var db = Context(Ctx(who, "page:/customers/new"), clock);
                    var (city, country, zip) = Cities[random.Next(Cities.Length)];
                    var name = $"{FirstNames[random.Next(FirstNames.Length)]} {LastNames[random.Next(LastNames.Length)]}";
                    var customer = new Customer
                    {
                        Name = name, Email = $"{name.Replace(' ', '.').ToLowerInvariant()}{customers.Count}@example.test",
                        Risk = (RiskRating)random.Next(0, 3), TaxId = $"{country}{random.Next(100000000, 999999999)}", CreatedAt = clock.Now,
                        Address = new Address { Street = $"{random.Next(1, 200)} Market Street", City = city, PostalCode = zip, Country = country },
                    };
                    var account = new Account
                    {
                        Id = Guid.NewGuid(), Customer = customer, Iban = $"{country}{random.Next(10, 99)}{random.NextInt64(1_000_000_000_000, 9_999_999_999_999)}",
                        Currency = new CurrencyCode("EUR"), Balance = Math.Round((decimal)random.NextDouble() * 50_000, 2), OpenedAt = clock.Now,
                    };
                    account.Signatories.Add(new AccountSignatory { Account = account, Customer = customer, Role = SignatoryRole.Owner, GrantedAt = clock.Now });
                    db.Customers.Add(customer);
                    db.Accounts.Add(account);
                    db.Documents.Add(new KycDocument { Id = Guid.NewGuid(), Customer = customer, Title = "Passport", DocumentNumber = $"P{random.Next(1_000_000, 9_999_999)}", ExpiresOn = DateOnly.FromDateTime(clock.Now.AddYears(5).Date), UploadedAt = clock.Now, ContentHash = RandomNumberGenerator.GetBytes(32) });
                    if (random.NextDouble() < 0.3)
                    {
                        customer.Tags.Add(await db.Tags.SingleAsync(t => t.Name == (random.NextDouble() < 0.5 ? "vip" : "sme"), cancellationToken));
                    }

                    await db.SaveChangesAsync(cancellationToken);
                    customers.Add(customer.Id);
                    accounts.Add(account.Id);
                }
                else if (roll < 0.55)
                {
                    await using var db = Context(Ctx(who, "page:/payments/new"), clock);
                    var payment = new Payment
                    {
                        AccountId = accounts[random.Next(accounts.Count)], Amount = Math.Round((decimal)(random.NextDouble() * 9_000 + 10), 2),
                        Currency = new CurrencyCode("EUR"), Reference = $"INV-{random.Next(10000, 99999)}", Beneficiary = Beneficiaries[random.Next(Beneficiaries.Length)],
                        CreatedAt = clock.Now,
                    };
                    db.Payments.Add(payment);
                    await db.SaveChangesAsync(cancellationToken);
                    pendingPayments.Add(payment.Id);
                }
                else if (roll < 0.80 && pendingPayments.Count > 0)
                {
                    var id = pendingPayments[random.Next(pendingPayments.Count)];
                    pendingPayments.Remove(id);
                    await using var db = Context(Ctx(who, $"page:/payments/{id}"), clock);
                    var payment = await db.Payments.SingleAsync(p => p.Id == id, cancellationToken);
                    if (random.NextDouble() < 0.1)
                    {
                        db.Payments.Remove(payment); // entered in error
                    }
                    else
                    {
                        payment.Status = random.NextDouble() < 0.9 ? PaymentStatus.Settled : PaymentStatus.Rejected;
                        payment.SettledAt = payment.Status == PaymentStatus.Settled ? clock.Now : null;
                    }

                    await db.SaveChangesAsync(cancellationToken);
                }
                else
                {
                    // A risk review: an operator records the new rating (officers review, they do not edit).
                    var id = customers[random.Next(customers.Count)];
                    await using var db = Context(Ctx(who, $"page:/customers/{id}"), clock);
                    var customer = await db.Customers.SingleAsync(c => c.Id == id, cancellationToken);
                    customer.Risk = (RiskRating)random.Next(0, 3);
                    customer.KycVerifiedAt ??= clock.Now;
                    if (random.NextDouble() < 0.2)
                    {
                        customer.Address.Street = $"{random.Next(1, 200)} Harbour Road";
                    }

                    await db.SaveChangesAsync(cancellationToken);
                }
            }

            if (day % 30 == 29)
            {
                // Month end: an admin freezes the accounts of high-risk customers in one bulk update, in office hours.
                clock.Now = clock.Now.AddHours(1);
                await using var db = Context(Ctx(admins[^1], "page:/accounts"), clock);
                await db.Accounts.Where(a => a.Customer!.Risk == RiskRating.High && a.Status == AccountStatus.Open)
                    .ExecuteUpdateAsync(s => s.SetProperty(a => a.Status, AccountStatus.Frozen), cancellationToken);
            }

            if (day == nightDay && pendingPayments.Count > 0)
            {
                // The finding the demo hides: at 02:47, from an address never seen before, an operator rejects every
                // pending payment in one bulk update. Find it with op:update table:Payments, or on the histogram.
                var night = new DateTimeOffset(start.AddDays(day), TimeSpan.Zero).AddHours(2).AddMinutes(47);
                var saved = clock.Now;
                clock.Now = night;
                var quinn = people.Single(p => p.User.Email == "quinn.operator@console.local");
                await using (var db = Context(new AuditContext(new AuditActor(quinn.User.Id, quinn.User.Email!, [quinn.Role]), "page:/payments", Id(), "198.51.100.23", Agents[1]), clock))
                {
                    await db.Database.RecordAuditEventAsync(new AuditEventRequest(AuditEventNames.LoginSucceeded, quinn.User.Email), cancellationToken);
                    clock.Now = clock.Now.AddMinutes(3);
                    await db.Payments.Where(p => p.Status == PaymentStatus.Pending)
                        .ExecuteUpdateAsync(s => s.SetProperty(p => p.Status, PaymentStatus.Rejected), cancellationToken);
                }

                pendingPayments.Clear();
                clock.Now = saved;
            }

            // Officers and auditors review: searches, entries and records opened; officers export once a week.
            foreach (var reader in readers.Where(_ => random.NextDouble() < 0.5))
            {
                clock.Now = clock.Now.AddMinutes(random.Next(5, 30));
                var (query, range) = Reviews[random.Next(Reviews.Length)];
                await ReadAsync(reader, AuditEventNames.AuditSearched, "audit-trail", new() { ["query"] = query, ["range"] = range });
                await using (var db = Context(Ctx(reader, "page:/audit"), clock))
                {
                    var head = await db.AuditEntries.MaxAsync(e => e.Seq, cancellationToken);
                    var seq = Math.Max(1, head - random.Next(0, 60));
                    clock.Now = clock.Now.AddMinutes(1);
                    await ReadAsync(reader, AuditEventNames.AuditViewed, $"seq:{seq}", new() { ["seq"] = seq.ToString(System.Globalization.CultureInfo.InvariantCulture) });
                }

                if (customers.Count > 0 && random.NextDouble() < 0.5)
                {
                    var id = customers[random.Next(customers.Count)];
                    await ReadAsync(reader, AuditEventNames.RecordViewed, $"Customers/{{\"Id\":{id}}}", new() { ["table"] = "Customers", ["key"] = $"{{\"Id\":{id}}}" }, $"page:/customers/{id}");
                }

                if (reader.Role == ConsoleRoles.ComplianceOfficer && day % 7 == 4)
                {
                    await ReadAsync(reader, AuditEventNames.AuditExported, "audit-trail", new() { ["format"] = "xlsx", ["rows"] = random.Next(40, 900).ToString(System.Globalization.CultureInfo.InvariantCulture), ["query"] = query });
                }
            }

            // Now and then a real user mistypes a password before signing in.
            if (random.NextDouble() < 0.12)
            {
                var person = people[random.Next(people.Count)];
                clock.Now = clock.Now.AddMinutes(random.Next(1, 10));
                await using var db = Context(new AuditContext(new AuditActor(AuditActor.Anonymous.Id, person.User.Email!, []), "endpoint:POST /account/login", Id(), person.Ip, person.Agent), clock);
                await db.Database.RecordAuditEventAsync(new AuditEventRequest(AuditEventNames.LoginFailed, person.User.Email, new Dictionary<string, string?> { ["knownUser"] = "true" }), cancellationToken);
                await EventAsync(person, AuditEventNames.LoginSucceeded, clock, random, cancellationToken);
            }

            foreach (var person in people.Where(_ => random.NextDouble() < 0.3))
            {
                await EventAsync(person, AuditEventNames.Logout, clock, random, cancellationToken);
            }
        }

        await using (var check = ConsoleDbContextFactory.Create(settings))
        {
            var entries = await check.AuditEntries.CountAsync(cancellationToken);
            log.LogInformation("Seeded {Customers} customers and {Entries} audit entries over {Days} days in {Seconds:F1} s.",
                customers.Count, entries, options.Value.Days, watch.Elapsed.TotalSeconds);
        }

        Announce(password, onlyAdmin: false);

        AuditContext Ctx((ConsoleUser User, string Role, string Ip, string Agent) p, string origin) =>
            new(new AuditActor(p.User.Id, p.User.Email!, [p.Role]), origin, Id(), p.Ip, p.Agent);

        async Task ReadAsync((ConsoleUser User, string Role, string Ip, string Agent) p, string name, string target, Dictionary<string, string?> metadata, string origin = "page:/audit")
        {
            await using var db = Context(Ctx(p, origin), clock);
            await db.Database.RecordAuditEventAsync(new AuditEventRequest(name, target, metadata), cancellationToken);
        }

        async Task EventAsync((ConsoleUser User, string Role, string Ip, string Agent) p, string name, SimulatedClock c, Random r, CancellationToken ct)
        {
            c.Now = c.Now.AddMinutes(r.Next(1, 20));
            await using var db = Context(Ctx(p, name == AuditEventNames.Logout ? "endpoint:POST /account/logout" : "endpoint:POST /account/login"), c);
            await db.Database.RecordAuditEventAsync(new AuditEventRequest(name, p.User.Email), ct);
        }
    }

    private List<ConsoleUser> AddRolesAndUsers(ConsoleDbContext db, IEnumerable<(string Email, string Name, string Role)> people, string passwordHash)
    {
        var roles = ConsoleRoles.All.ToDictionary(r => r, r => new IdentityRole(r) { NormalizedName = r.ToUpperInvariant(), ConcurrencyStamp = Id() });
        db.Roles.AddRange(roles.Values);
        var users = new List<ConsoleUser>();
        foreach (var (email, name, role) in people)
        {
            var user = new ConsoleUser
            {
                UserName = email, NormalizedUserName = email.ToUpperInvariant(), Email = email, NormalizedEmail = email.ToUpperInvariant(),
                EmailConfirmed = true, DisplayName = name, PasswordHash = passwordHash, SecurityStamp = Id(), LockoutEnabled = true,
            };
            db.Users.Add(user);
            db.UserRoles.Add(new IdentityUserRole<string> { UserId = user.Id, RoleId = roles[role].Id });
            users.Add(user);
        }

        return users;
    }

    private ConsoleDbContext Context(AuditContext context, TimeProvider clock) =>
        ConsoleDbContextFactory.Create(settings, b => b.UseAuditTrail(new AuditContextAccessor(context), clock));

    private void Announce(string password, bool onlyAdmin)
    {
        var who = onlyAdmin ? "admin@console.local" : "admin@console.local (or any demo user: see README)";
        var text = string.IsNullOrWhiteSpace(options.Value.DemoPassword) || onlyAdmin
            ? $"First sign-in: {who} with password {password} (shown once; change it under Account > Password)."
            : $"First sign-in: {who} with the password set in Seed:DemoPassword.";
        Console.WriteLine(text); // deliberately not through ILogger: log files and sinks must never hold a password
    }

    private static string NewPassword() => "Cc-" + Convert.ToBase64String(RandomNumberGenerator.GetBytes(12)).Replace('+', 'x').Replace('/', 'y');

    private static string Id() => Guid.NewGuid().ToString("N");

    private sealed class SimulatedClock(DateTimeOffset start) : TimeProvider
    {
        public DateTimeOffset Now { get; set; } = start;

        public override DateTimeOffset GetUtcNow() => Now;
    }
}
