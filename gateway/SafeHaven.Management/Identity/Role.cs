namespace SafeHaven.Management.Identity;

/// <summary>
/// The roles of the Turing's management framework. <see cref="SystemManager"/>, <see cref="ProgrammeManager"/> and
/// <see cref="CollegeReferee"/> are appliance-wide; every other role is held in one project and means nothing in another.
/// </summary>
public enum Role
{
    Researcher,
    Investigator,
    Referee,
    DatasetProviderRepresentative,
    ProjectManager,
    ProgrammeManager,
    SystemManager,

    /// <summary>
    /// A member of the appliance-wide Referee college (paper section 10.1), appointed by a Programme Manager. Only
    /// college members may be made a project's <see cref="Referee"/>, and only they approve appliance-wide allowlist
    /// entries. Membership alone shows no project.
    /// </summary>
    CollegeReferee,
}

public static class Roles
{
    /// <summary>Claim type of an appliance-wide role (value: the role name).</summary>
    public const string GlobalRoleClaim = "safehaven:role";

    /// <summary>Claim type of a project role (value: <c>project/Role</c>).</summary>
    public const string ProjectRoleClaim = "safehaven:project-role";

    public static bool IsGlobal(this Role role) => role is Role.SystemManager or Role.ProgrammeManager or Role.CollegeReferee;

    /// <summary>Parses a role name exactly as the enum spells it (case-insensitive), never a number.</summary>
    public static bool TryParse(string? text, out Role role)
    {
        role = default;
        return !string.IsNullOrEmpty(text) && text.All(char.IsAsciiLetter) && Enum.TryParse(text, ignoreCase: true, out role);
    }

    public static IReadOnlyList<Role> All { get; } = Enum.GetValues<Role>();
}
