using System.Text;

namespace SafeHaven.Airlock.Inspection;

/// <summary>
/// Lists a git bundle with the git CLI: <c>git bundle verify</c>, <c>git bundle list-heads</c>, then a fetch into a
/// scratch bare repository (objects fsck-checked, no working tree) and <c>git ls-tree</c> of every head. Nothing is
/// checked out, so no member is ever written to disk as a file.
/// </summary>
internal sealed class GitBundleLister(InspectionOptions options)
{
    private TimeSpan Timeout => TimeSpan.FromSeconds(options.GitTimeoutSeconds);

    public async Task ListAsync(string bundleFile, string path, InspectionWalk walk, CancellationToken cancellationToken)
    {
        var scratch = Path.Combine(options.TempDirectory ?? Path.GetTempPath(), "safehaven-git-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(scratch);
        try
        {
            var repo = Path.Combine(scratch, "repo.git");
            var env = new Dictionary<string, string>
            {
                ["HOME"] = scratch,
                ["GIT_CONFIG_NOSYSTEM"] = "1",
                ["GIT_CONFIG_GLOBAL"] = "/dev/null",
                ["GIT_TERMINAL_PROMPT"] = "0",
                ["GIT_ALLOW_PROTOCOL"] = "file",
            };
            await GitAsync(["init", "--bare", "-q", repo], env, path, "init", cancellationToken).ConfigureAwait(false);
            var verify = await RunAsync(["-C", repo, "bundle", "verify", bundleFile], env, cancellationToken).ConfigureAwait(false);
            if (verify.ExitCode != 0)
            {
                throw new InspectionStoppedException(FindingKind.Malformed, $"'{path}': git bundle verify failed: {FirstLine(verify.StandardError)}");
            }
            var heads = await GitAsync(["bundle", "list-heads", bundleFile], env, path, "bundle list-heads", cancellationToken).ConfigureAwait(false);
            await GitAsync(["-C", repo, "-c", "transfer.fsckObjects=true", "-c", "fetch.fsckObjects=true", "fetch", "-q", "--no-tags", bundleFile, "+refs/*:refs/bundle/*"],
                env, path, "fetch", cancellationToken).ConfigureAwait(false);

            var parsed = heads.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
                .Select(line => line.Split(' ', 2))
                .Where(parts => parts.Length == 2)
                .Select(parts => (Sha: parts[0], Head: parts[1]))
                .ToList();
            // Heads naming the same commit (HEAD and its branch) are listed once, under the branch.
            var checkedTrees = new HashSet<string>(StringComparer.Ordinal);
            var targets = new Dictionary<string, string>(StringComparer.Ordinal);
            foreach (var group in parsed.GroupBy(h => h.Sha))
            {
                var (sha, head) = group.OrderBy(h => h.Head == "HEAD" ? 1 : 0).First();
                var headPath = $"{path}!/{head}";
                walk.Entries.Add(new ArchiveEntryInfo(headPath, 0, ArchiveEntryKind.Other, sha));
                var tree = await GitAsync(["-C", repo, "ls-tree", "-r", "-l", "-z", "--full-tree", sha + "^{tree}"], env, path, "ls-tree", cancellationToken)
                    .ConfigureAwait(false);
                var links = new HashSet<string>(StringComparer.Ordinal);
                var virtualTree = new VirtualTree();
                foreach (var record in tree.Split('\0', StringSplitOptions.RemoveEmptyEntries))
                {
                    await AddTreeEntryAsync(record, headPath, repo, env, links, virtualTree, targets, walk, cancellationToken).ConfigureAwait(false);
                }
                walk.FinishTree(virtualTree, $"{headPath}/");
                checkedTrees.Add((await GitAsync(["-C", repo, "rev-parse", sha + "^{tree}"], env, path, "rev-parse", cancellationToken).ConfigureAwait(false)).Trim());
            }
            await CheckHistoryAsync(repo, env, path, checkedTrees, targets, walk, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            try
            {
                Directory.Delete(scratch, recursive: true);
            }
            catch (IOException)
            {
            }
            catch (UnauthorizedAccessException)
            {
            }
        }
    }

    /// <summary>
    /// Every commit in the bundle's history, not only the heads: a link that leads out is as dangerous in a commit a
    /// researcher checks out later as in the head. One <c>git log --raw</c> finds the commits that add, change or
    /// remove a symbolic link; the full tree of each of those (unless a head already had that tree) is resolved as a
    /// checkout would build it. A link found escaping is reported once, at the first commit (newest first) that has it.
    /// </summary>
    private async Task CheckHistoryAsync(
        string repo, Dictionary<string, string> env, string path, HashSet<string> checkedTrees, Dictionary<string, string> targets,
        InspectionWalk walk, CancellationToken cancellationToken)
    {
        var log = await GitAsync(["-C", repo, "log", "--all", "-m", "--root", "--raw", "--no-renames", "--no-abbrev", "--format=commit %H %T"],
            env, path, "log", cancellationToken).ConfigureAwait(false);
        var touched = new List<(string Commit, string Tree)>();
        (string Commit, string Tree)? current = null;
        foreach (var line in log.Split('\n'))
        {
            if (line.StartsWith("commit ", StringComparison.Ordinal))
            {
                var parts = line.Split(' ');
                current = parts.Length == 3 ? (parts[1], parts[2]) : null;
            }
            // ":<old mode> <new mode> <old id> <new id> <status>\t<path>": a link added, changed or removed.
            else if (line.StartsWith(':') && current is { } commit
                     && line.Split(' ', 3) is [var oldMode, var newMode, _] && (oldMode == ":120000" || newMode == "120000")
                     && !checkedTrees.Contains(commit.Tree))
            {
                checkedTrees.Add(commit.Tree);
                touched.Add(commit);
            }
        }
        var reported = new HashSet<(string, string)>();
        foreach (var (commit, treeId) in touched)
        {
            cancellationToken.ThrowIfCancellationRequested();
            var commitPath = $"{path}!/(history)/{commit}";
            var listing = await GitAsync(["-C", repo, "ls-tree", "-r", "-z", "--full-tree", treeId], env, path, "ls-tree", cancellationToken).ConfigureAwait(false);
            var virtualTree = new VirtualTree();
            var links = new List<(string Name, string Target)>();
            foreach (var record in listing.Split('\0', StringSplitOptions.RemoveEmptyEntries))
            {
                var tab = record.IndexOf('\t', StringComparison.Ordinal);
                var fields = tab < 0 ? [] : record[..tab].Split(' ', StringSplitOptions.RemoveEmptyEntries);
                if (fields.Length < 3 || fields[0] != "120000")
                {
                    continue;
                }
                var name = record[(tab + 1)..];
                walk.Budget.AddEntry($"{commitPath}/{name}");
                var target = await ReadLinkAsync(repo, env, fields[2], $"{commitPath}/{name}", targets, cancellationToken).ConfigureAwait(false);
                links.Add((name, target));
                var problem = ArchivePaths.CheckLink(name, target, symbolic: true)?.Reason ?? virtualTree.AddSymbolicLink(name, target);
                if (problem is not null && reported.Add((name, target)))
                {
                    walk.Add($"{commitPath}/{name}", FindingKind.LinkEscape, $"in commit {commit} (history, not a head): {problem}");
                }
            }
            foreach (var (name, reason) in virtualTree.CheckFinishedLinks())
            {
                var target = links.FirstOrDefault(l => l.Name == name).Target ?? "";
                if (reported.Add((name, target)))
                {
                    walk.Add($"{commitPath}/{name}", FindingKind.LinkEscape, $"in commit {commit} (history, not a head): {reason}");
                }
            }
        }
    }

    private async Task<string> ReadLinkAsync(
        string repo, Dictionary<string, string> env, string objectId, string entryPath, Dictionary<string, string> targets, CancellationToken cancellationToken)
    {
        if (!targets.TryGetValue(objectId, out var target))
        {
            target = await GitAsync(["-C", repo, "cat-file", "blob", objectId], env, entryPath, "cat-file", cancellationToken).ConfigureAwait(false);
            targets[objectId] = target;
        }
        return target;
    }

    private async Task AddTreeEntryAsync(
        string record, string headPath, string repo, Dictionary<string, string> env, HashSet<string> links, VirtualTree virtualTree,
        Dictionary<string, string> targets, InspectionWalk walk, CancellationToken cancellationToken)
    {
        // "<mode> <type> <object> <size>\t<path>"
        var tab = record.IndexOf('\t', StringComparison.Ordinal);
        if (tab < 0)
        {
            return;
        }
        var fields = record[..tab].Split(' ', StringSplitOptions.RemoveEmptyEntries);
        var name = record[(tab + 1)..];
        var (mode, objectId) = (fields[0], fields[2]);
        long.TryParse(fields[3], out var size);
        var entryPath = $"{headPath}/{name}";
        walk.Budget.AddEntry(entryPath);
        string? target = null;
        var kind = mode switch
        {
            "120000" => ArchiveEntryKind.SymbolicLink,
            "160000" => ArchiveEntryKind.Other,
            _ => ArchiveEntryKind.File,
        };
        if (kind == ArchiveEntryKind.SymbolicLink)
        {
            target = await ReadLinkAsync(repo, env, objectId, entryPath, targets, cancellationToken).ConfigureAwait(false);
        }
        walk.Entries.Add(new ArchiveEntryInfo(entryPath, size, kind, target));
        walk.CheckMember(entryPath, name, links);
        if (target is not null)
        {
            walk.CheckLink(entryPath, name, target, symbolic: true);
            links.Add(ArchivePaths.Normalise(name));
        }
        walk.Place(virtualTree, entryPath, name, kind == ArchiveEntryKind.Other ? ArchiveEntryKind.File : kind, target);
    }

    private async Task<string> GitAsync(string[] args, Dictionary<string, string> env, string path, string what, CancellationToken cancellationToken)
    {
        var result = await RunAsync(args, env, cancellationToken).ConfigureAwait(false);
        if (result.ExitCode != 0)
        {
            throw new InspectionStoppedException(FindingKind.Malformed, $"'{path}': git {what} failed: {FirstLine(result.StandardError)}");
        }
        return result.StandardOutput;
    }

    private async Task<ToolResult> RunAsync(string[] args, Dictionary<string, string> env, CancellationToken cancellationToken)
    {
        ToolResult result;
        try
        {
            result = await ToolProcess.RunAsync(options.GitPath, args, Timeout, null, env, cancellationToken).ConfigureAwait(false);
        }
        catch (System.ComponentModel.Win32Exception e)
        {
            throw new InspectionStoppedException(FindingKind.CheckFailed, $"git could not be started ({options.GitPath}): {e.Message}");
        }
        if (result.TimedOut)
        {
            throw new InspectionStoppedException(FindingKind.CheckFailed, $"git {args.FirstOrDefault(a => !a.StartsWith('-'))} did not answer within {Timeout.TotalSeconds:0} s");
        }
        return result;
    }

    private static string FirstLine(string text)
    {
        var line = text.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).FirstOrDefault() ?? "(no message)";
        return line.Length > 300 ? line[..300] : line;
    }
}
