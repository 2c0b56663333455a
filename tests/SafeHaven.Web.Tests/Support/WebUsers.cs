namespace SafeHaven.Web.Tests.Support;

/// <summary>
/// The people at the test identity provider, one per role. Appliance-wide roles arrive as the site's group names
/// (translated by SafeHaven:Auth:Jwt:RoleMap, as a real IdP's groups are); project roles as <c>project/Role</c> values
/// for the project <see cref="Project"/>, which the fixture creates.
/// </summary>
public static class WebUsers
{
    public const string Project = "alpha";

    public const string SystemManager = "sam";
    public const string ProgrammeManager = "priya";
    public const string ProjectManager = "pat";
    public const string Investigator = "ivy";
    public const string Referee = "rex";
    public const string Researcher = "rita";
    public const string DatasetProvider = "dora";

    /// <summary>Group names of the identity provider and the appliance roles they stand for.</summary>
    public static IReadOnlyDictionary<string, string> RoleMap { get; } = new Dictionary<string, string>
    {
        ["safehaven-system-managers"] = "SystemManager",
        ["safehaven-programme-managers"] = "ProgrammeManager",
        ["safehaven-referee-college"] = "CollegeReferee",
    };

    public static IReadOnlyList<OidcUser> All { get; } =
    [
        new(SystemManager, "Sam System-Manager", "safehaven-system-managers", "staff"),
        new(ProgrammeManager, "Priya Programme-Manager", "safehaven-programme-managers"),
        new(ProjectManager, "Pat Project-Manager", $"{Project}/ProjectManager"),
        new(Investigator, "Ivy Investigator", $"{Project}/Investigator"),
        new(Referee, "Rex Referee", "safehaven-referee-college", $"{Project}/Referee"),
        new(Researcher, "Rita Researcher", $"{Project}/Researcher"),
        new(DatasetProvider, "Dora Data-Provider", $"{Project}/DatasetProviderRepresentative"),
    ];
}
