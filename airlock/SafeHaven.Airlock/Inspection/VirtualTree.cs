namespace SafeHaven.Airlock.Inspection;

/// <summary>
/// The tree an extractor would build from an archive, entry by entry, so links are judged by where they really lead:
/// symbolic links are followed through earlier links (chains), hard links resolve from the root through any linked
/// directory, a file written onto a symbolic link is followed as a naive extractor would, and a link later replaced by
/// a file or directory stops being a link. Nothing is written anywhere: the tree is a dictionary of normalised paths.
/// </summary>
internal sealed class VirtualTree
{
    /// <summary>Link expansions allowed while resolving one path (the kernel's ELOOP bound).</summary>
    private const int MaxExpansions = 40;

    private readonly Dictionary<string, Node> _nodes = new(StringComparer.Ordinal);

    private enum NodeKind
    {
        Directory,
        File,
        SymbolicLink,
    }

    private sealed record Node(NodeKind Kind, string? Target, string EntryName);

    /// <summary>The outcome of resolving a path: the real path inside the root, or why it leaves (or loops).</summary>
    public readonly record struct Resolution(IReadOnlyList<string>? Path, string Chain, bool Loop)
    {
        public bool Escapes => Path is null && !Loop;
    }

    /// <summary>Places a directory; a directory entry onto an existing link keeps the link (as <c>mkdir</c> fails on it).</summary>
    public string? AddDirectory(string name) => Place(name, NodeKind.Directory, null, keepExistingLink: true);

    /// <summary>Places a regular file (or device, FIFO): it may not be written through a link that leads out.</summary>
    public string? AddFile(string name) => Place(name, NodeKind.File, null, keepExistingLink: false);

    /// <summary>Places a symbolic link and resolves its target through the links placed so far.</summary>
    public string? AddSymbolicLink(string name, string target)
    {
        var problem = Place(name, NodeKind.SymbolicLink, target, keepExistingLink: false);
        return problem ?? CheckSymbolicLink(name, target);
    }

    /// <summary>Places a hard link; its target resolves from the root, through any linked directory on the way.</summary>
    public string? AddHardLink(string name, string target)
    {
        var segments = Split(target);
        if (segments.Count == 0)
        {
            return $"hard link '{name}' has an empty target";
        }
        var parent = Resolve([], segments.Take(segments.Count - 1), followLast: true);
        if (parent.Path is null)
        {
            return Describe($"hard link '{name}' to '{target}'", parent);
        }
        var targetKey = Key([.. parent.Path, segments[^1]]);
        if (_nodes.TryGetValue(targetKey, out var linked) && linked.Kind == NodeKind.SymbolicLink)
        {
            // A hard link to a symbolic link is that symbolic link again, now resolved from where the hard link sits.
            return Place(name, NodeKind.SymbolicLink, linked.Target, keepExistingLink: false) ?? CheckSymbolicLink(name, linked.Target!);
        }
        return Place(name, NodeKind.File, null, keepExistingLink: false);
    }

    /// <summary>
    /// After the last entry: every link still standing, resolved against the finished tree (a link that was harmless
    /// when written can lead out once later links exist). Returns (entry name, reason) pairs.
    /// </summary>
    public IEnumerable<(string Name, string Reason)> CheckFinishedLinks()
    {
        foreach (var (key, node) in _nodes.ToList())
        {
            if (node.Kind != NodeKind.SymbolicLink)
            {
                continue;
            }
            var segments = Split(key);
            var resolution = Resolve(segments.Take(segments.Count - 1).ToList(), Split(node.Target!), followLast: true);
            if (resolution.Path is null)
            {
                yield return (node.EntryName, Describe($"symbolic link '{node.EntryName}' -> '{node.Target}' (in the extracted tree)", resolution));
            }
        }
    }

    private string? CheckSymbolicLink(string name, string target)
    {
        var segments = Split(name);
        var parent = Resolve([], segments.Take(segments.Count - 1), followLast: true);
        if (parent.Path is null)
        {
            return null; // Already reported by Place.
        }
        if (target.Length > 0 && target[0] is '/' or '\\')
        {
            return $"symbolic link '{name}' points to the absolute path '{target}'";
        }
        var resolution = Resolve(parent.Path, Split(target), followLast: true);
        return resolution.Path is null ? Describe($"symbolic link '{name}' -> '{target}'", resolution) : null;
    }

    private string? Place(string name, NodeKind kind, string? target, bool keepExistingLink)
    {
        var segments = Split(name);
        if (segments.Count == 0)
        {
            return null;
        }
        var parent = Resolve([], segments.Take(segments.Count - 1), followLast: true);
        if (parent.Path is null)
        {
            return Describe($"entry '{name}' would be written", parent);
        }
        var realSegments = new List<string>(parent.Path) { segments[^1] };
        var key = Key(realSegments);
        if (_nodes.TryGetValue(key, out var existing) && existing.Kind == NodeKind.SymbolicLink)
        {
            if (keepExistingLink)
            {
                return null;
            }
            if (kind == NodeKind.File)
            {
                // An extractor that opens the path for writing follows the link.
                var through = Resolve(parent.Path, [segments[^1]], followLast: true);
                if (through.Path is null)
                {
                    return Describe($"file '{name}' would be written through the link '{existing.EntryName}'", through);
                }
            }
        }
        for (var i = 1; i < realSegments.Count; i++)
        {
            _nodes.TryAdd(Key(realSegments.Take(i)), new Node(NodeKind.Directory, null, name));
        }
        _nodes[key] = new Node(kind, target, name);
        return null;
    }

    /// <summary>Walks <paramref name="segments"/> from the real directory <paramref name="start"/>, following links.</summary>
    private Resolution Resolve(IReadOnlyList<string> start, IEnumerable<string> segments, bool followLast)
    {
        var current = new List<string>(start);
        var pending = new LinkedList<string>(segments);
        var chain = new List<string>();
        var expansions = 0;
        while (pending.First is { } first)
        {
            var segment = first.Value;
            pending.RemoveFirst();
            if (segment is "" or ".")
            {
                continue;
            }
            if (segment == "..")
            {
                if (current.Count == 0)
                {
                    return new Resolution(null, string.Join(", ", chain.Append("'..' above the root")), false);
                }
                current.RemoveAt(current.Count - 1);
                continue;
            }
            var candidate = Key([.. current, segment]);
            if (_nodes.TryGetValue(candidate, out var node) && node.Kind == NodeKind.SymbolicLink && (pending.Count > 0 || followLast))
            {
                if (++expansions > MaxExpansions)
                {
                    return new Resolution(null, string.Join(", ", chain) + ", ... (too many levels of links)", true);
                }
                chain.Add($"'{candidate}' -> '{node.Target}'");
                var target = node.Target ?? "";
                if (target.Length > 0 && target[0] is '/' or '\\')
                {
                    return new Resolution(null, string.Join(", ", chain.Append("an absolute path")), false);
                }
                var expanded = Split(target);
                for (var i = expanded.Count - 1; i >= 0; i--)
                {
                    pending.AddFirst(expanded[i]);
                }
                continue;
            }
            current.Add(segment);
        }
        return new Resolution(current, string.Join(", ", chain), false);
    }

    private static string Describe(string subject, Resolution resolution) => resolution.Loop
        ? $"{subject} loops through links: {resolution.Chain}"
        : $"{subject} resolves outside the archive root through {resolution.Chain}";

    private static string Key(IEnumerable<string> segments) => string.Join('/', segments);

    private static List<string> Split(string path) => path.Split('/', '\\').Where(s => s.Length > 0 && s != ".").ToList();
}
