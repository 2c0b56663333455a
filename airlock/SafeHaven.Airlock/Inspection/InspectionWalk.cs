namespace SafeHaven.Airlock.Inspection;

/// <summary>The listing, findings and budget of one file's inspection, shared by every nesting level.</summary>
internal sealed class InspectionWalk(InspectionOptions options)
{
    public InspectionBudget Budget { get; } = new(options);

    public List<ArchiveEntryInfo> Entries { get; } = [];

    public List<InspectionFinding> Findings { get; } = [];

    public void Add(string path, FindingKind kind, string reason) => Findings.Add(new InspectionFinding(path, kind, reason));

    /// <summary>Checks a member name, and that it is not placed under a link seen earlier in the same archive.</summary>
    public void CheckMember(string entryPath, string name, IReadOnlySet<string> links)
    {
        if (ArchivePaths.CheckName(name) is { } problem)
        {
            Add(entryPath, problem.Kind, problem.Reason);
        }
        else if (ArchivePaths.UnderLink(name, links) is { } link)
        {
            Add(entryPath, FindingKind.LinkEscape, $"entry '{name}' would be written through the link '{link}'");
        }
    }

    public void CheckLink(string entryPath, string name, string target, bool symbolic)
    {
        if (ArchivePaths.CheckLink(name, target, symbolic) is { } problem)
        {
            Add(entryPath, problem.Kind, problem.Reason);
        }
    }
}
