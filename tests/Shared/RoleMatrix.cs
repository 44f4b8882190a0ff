namespace ComplianceConsole.Tests.Shared;

/// <summary>
/// Who may open what: every page and endpoint of the console, with the roles that get in. Written out by hand, not
/// read from the code, so that a changed attribute fails a test. The bUnit project checks that every routable page
/// is listed here; the end-to-end project requests each one as each role and checks the answer and the recorded denial.
/// </summary>
public static class RoleMatrix
{
    public const string Admin = "Admin";
    public const string Officer = "ComplianceOfficer";
    public const string Auditor = "Auditor";
    public const string Operator = "Operator";

    public static readonly string[] Everyone = [Admin, Officer, Auditor, Operator];
    public static readonly string[] TrailReaders = [Admin, Officer, Auditor];
    public static readonly string[] Editors = [Admin, Operator];

    /// <summary>Route template, a concrete path to request ({account}, {document} are filled from the database), who gets in, and whether it is an endpoint (401/403) rather than a page (redirects).</summary>
    public static readonly IReadOnlyList<(string Route, string Path, string[] Allowed, bool Endpoint)> Rows =
    [
        ("/", "/", Everyone, false),
        ("/customers", "/customers", Everyone, false),
        ("/customers/{Id:int}", "/customers/1", Everyone, false),
        ("/customers/new", "/customers/new", Editors, false),
        ("/accounts", "/accounts", Everyone, false),
        ("/accounts/{Id:guid}", "/accounts/{account}", Everyone, false),
        ("/accounts/new", "/accounts/new", Editors, false),
        ("/payments", "/payments", Everyone, false),
        ("/payments/{Id:long}", "/payments/1", Everyone, false),
        ("/payments/new", "/payments/new", Editors, false),
        ("/documents", "/documents", Everyone, false),
        ("/documents/{Id:guid}", "/documents/{document}", Everyone, false),
        ("/documents/new", "/documents/new", Editors, false),
        ("/tags", "/tags", Everyone, false),
        ("/audit", "/audit", TrailReaders, false),
        ("/audit/{Seq:long}", "/audit/1", TrailReaders, false),
        ("/audit/policy", "/audit/policy", TrailReaders, false),
        ("/integrity", "/integrity", TrailReaders, false),
        ("/exports", "/exports", [Admin, Officer], false),
        ("/history/{Table}/{Key}", "/history/Customers/1", TrailReaders, false),
        ("/retention", "/retention", TrailReaders, false),
        ("/holds", "/holds", TrailReaders, false),
        ("/jobs", "/jobs", TrailReaders, false),
        ("/admin/users", "/admin/users", [Admin], false),
        ("/account/password", "/account/password", Everyone, false),
        ("/access-denied", "/access-denied", Everyone, false),
        ("/not-found", "/not-found", Everyone, false),
        ("/account/login", "/account/login", Everyone, false),
        ("/health", "/health", TrailReaders, true),
        ("/integrity/report.json", "/integrity/report.json", TrailReaders, true),
        ("/integrity/report.html", "/integrity/report.html", TrailReaders, true),
    ];
}
