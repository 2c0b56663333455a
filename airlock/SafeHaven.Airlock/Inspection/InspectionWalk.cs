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

    /// <summary>
    /// Places an entry in the archive's virtual tree, as an extractor would, and blocks it when it (or the link it is)
    /// resolves outside the root. An entry already blocked for its name or link is not reported twice.
    /// </summary>
    public void Place(VirtualTree tree, string entryPath, string name, ArchiveEntryKind kind, string? target)
    {
        if (ArchivePaths.CheckName(name) is not null)
        {
            return;
        }
        var problem = kind switch
        {
            ArchiveEntryKind.Directory => tree.AddDirectory(name),
            ArchiveEntryKind.SymbolicLink => tree.AddSymbolicLink(name, target ?? ""),
            ArchiveEntryKind.HardLink => tree.AddHardLink(name, target ?? ""),
            _ => tree.AddFile(name),
        };
        if (problem is not null && !Findings.Any(f => f.Path == entryPath))
        {
            Add(entryPath, FindingKind.LinkEscape, problem);
        }
    }

    /// <summary>After an archive's last entry: links that lead out of the finished tree.</summary>
    public void FinishTree(VirtualTree tree, string entryPrefix)
    {
        foreach (var (name, reason) in tree.CheckFinishedLinks())
        {
            var entryPath = entryPrefix + name;
            if (!Findings.Any(f => f.Path == entryPath))
            {
                Add(entryPath, FindingKind.LinkEscape, reason);
            }
        }
    }
}
