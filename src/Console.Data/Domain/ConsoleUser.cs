using Microsoft.AspNetCore.Identity;

namespace ComplianceConsole.Data.Domain;

public class ConsoleUser : IdentityUser
{
    public string DisplayName { get; set; } = "";
}

public static class ConsoleRoles
{
    public const string Admin = "Admin";
    public const string ComplianceOfficer = "ComplianceOfficer";
    public const string Auditor = "Auditor";
    public const string Operator = "Operator";

    public static readonly IReadOnlyList<string> All = [Admin, ComplianceOfficer, Auditor, Operator];

    /// <summary>Who may read the audit trail. Operators edit data but never see the trail.</summary>
    public const string TrailReaders = Admin + "," + ComplianceOfficer + "," + Auditor;

    /// <summary>Who may change managed data.</summary>
    public const string DataEditors = Admin + "," + Operator;

    /// <summary>Who may export the trail (later: the Export dialog and its endpoint). Auditors are read-only: they browse, view and verify.</summary>
    public const string TrailExporters = Admin + "," + ComplianceOfficer;

    /// <summary>Who may set retention policies and legal holds.</summary>
    public const string RetentionManagers = Admin + "," + ComplianceOfficer;

    /// <summary>Who may view managed data: everyone signed in. Officers and Auditors read every record; only editors change them.</summary>
    public const string DataViewers = Admin + "," + Operator + "," + ComplianceOfficer + "," + Auditor;

    /// <summary>Whether the user holds one of the roles of a list above (what <c>[Authorize(Roles = …)]</c> checks).</summary>
    public static bool Holds(System.Security.Claims.ClaimsPrincipal user, string roles) => roles.Split(',').Any(user.IsInRole);
}
