namespace SafeHaven.Airlock.Inspection;

/// <summary>Lexical checks of archive member names and link targets against the archive root.</summary>
internal static class ArchivePaths
{
    /// <summary>The finding for a member name, or null when the name stays inside the root.</summary>
    public static (FindingKind Kind, string Reason)? CheckName(string name)
    {
        if (name.Length == 0)
        {
            return (FindingKind.Malformed, "entry has an empty name");
        }
        if (name.Contains('\0', StringComparison.Ordinal))
        {
            return (FindingKind.Malformed, "entry name contains a NUL character");
        }
        if (IsAbsolute(name))
        {
            return (FindingKind.AbsolutePath, $"entry name '{name}' is an absolute path");
        }
        if (Segments(name).Any(s => s == ".."))
        {
            return (FindingKind.PathTraversal, $"entry name '{name}' climbs out of the archive root with '..'");
        }
        return null;
    }

    /// <summary>
    /// The finding for a link, or null when its target resolves inside the root. A symbolic link resolves from its
    /// own directory, a hard link from the root.
    /// </summary>
    public static (FindingKind Kind, string Reason)? CheckLink(string name, string target, bool symbolic)
    {
        var kind = symbolic ? "symbolic link" : "hard link";
        if (target.Length == 0)
        {
            return (FindingKind.Malformed, $"{kind} '{name}' has an empty target");
        }
        if (IsAbsolute(target))
        {
            return (FindingKind.LinkEscape, $"{kind} '{name}' points to the absolute path '{target}'");
        }
        var depth = 0;
        if (symbolic)
        {
            var parent = Segments(name).ToList();
            parent.RemoveAt(parent.Count - 1);
            depth = parent.Count(s => s != ".");
        }
        foreach (var segment in Segments(target))
        {
            depth += segment switch { ".." => -1, "." => 0, _ => 1 };
            if (depth < 0)
            {
                return (FindingKind.LinkEscape, $"{kind} '{name}' points outside the archive root ('{target}')");
            }
        }
        return null;
    }

    /// <summary>The link an entry would be written through, if any of its parent directories is one.</summary>
    public static string? UnderLink(string name, IReadOnlySet<string> links)
    {
        var segments = Segments(name).Where(s => s != ".").ToList();
        for (var i = 1; i < segments.Count; i++)
        {
            var prefix = string.Join('/', segments.Take(i));
            if (links.Contains(prefix))
            {
                return prefix;
            }
        }
        return null;
    }

    public static string Normalise(string name) => string.Join('/', Segments(name).Where(s => s != "."));

    private static bool IsAbsolute(string name) =>
        name[0] is '/' or '\\' || (name.Length >= 2 && char.IsAsciiLetter(name[0]) && name[1] == ':');

    // Backslashes separate too: a zip made on Windows, or one crafted to look harmless to a Unix-only check.
    private static IEnumerable<string> Segments(string name) =>
        name.Split('/', '\\').Where(s => s.Length > 0);
}
