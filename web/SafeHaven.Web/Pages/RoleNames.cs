using SafeHaven.Management.Identity;

namespace SafeHaven.Web.Pages;

/// <summary>Roles as people read them (the paper's names), for every page that shows one.</summary>
public static class RoleNames
{
    public static string Describe(Role role) => role switch
    {
        Role.Researcher => "Researcher",
        Role.Investigator => "Investigator",
        Role.Referee => "Referee",
        Role.DatasetProviderRepresentative => "Dataset Provider Representative",
        Role.ProjectManager => "Project Manager",
        Role.ProgrammeManager => "Programme Manager",
        Role.SystemManager => "System Manager",
        Role.CollegeReferee => "Referee college member",
        _ => role.ToString(),
    };
}
