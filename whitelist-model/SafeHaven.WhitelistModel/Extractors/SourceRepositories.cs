namespace SafeHaven.WhitelistModel.Extractors;

/// <summary>Recognises links to public source-code hosting among a package's URLs.</summary>
public static class SourceRepositories
{
    private static readonly string[] Hosts =
    [
        "github.com", "gitlab.com", "bitbucket.org", "codeberg.org", "sr.ht", "sourceforge.net",
        "git.savannah.gnu.org", "gitee.com", "r-forge.r-project.org", "launchpad.net",
    ];

    private static readonly string[] SourceLabels = ["source", "source code", "repository", "code", "github", "gitlab", "vcs", "git"];

    /// <summary>True when the URL points at a known code host (or is a git URL).</summary>
    public static bool IsSourceUrl(string? url)
    {
        if (string.IsNullOrWhiteSpace(url))
        {
            return false;
        }
        var text = url.Trim();
        if (text.StartsWith("git://", StringComparison.OrdinalIgnoreCase) || text.StartsWith("git+", StringComparison.OrdinalIgnoreCase)
            || text.EndsWith(".git", StringComparison.OrdinalIgnoreCase))
        {
            return true;
        }
        if (!Uri.TryCreate(text, UriKind.Absolute, out var uri))
        {
            return false;
        }
        var host = uri.Host.ToLowerInvariant();
        return Hosts.Any(h => host == h || host.EndsWith("." + h, StringComparison.Ordinal));
    }

    /// <summary>First URL that is a source repository: a labelled one ("Source", "Repository") first, then any on a code host.</summary>
    public static string? Pick(IEnumerable<(string? Label, string? Url)> links)
    {
        var list = links.Where(l => !string.IsNullOrWhiteSpace(l.Url)).ToList();
        foreach (var (label, url) in list)
        {
            if (label is not null && SourceLabels.Contains(label.Trim().ToLowerInvariant()) && Uri.TryCreate(url!.Trim(), UriKind.Absolute, out _))
            {
                return url.Trim();
            }
        }
        return list.Select(l => l.Url!.Trim()).FirstOrDefault(IsSourceUrl);
    }
}
