using SafeHaven.Core.Packages;
using SafeHaven.Core.Tiers;
using SafeHaven.Gateway.Ecosystems.Conda.Repodata;

namespace SafeHaven.Gateway.Ecosystems.Conda.Closure;

/// <summary>
/// Closes a conda allowlist (package names, optionally <c>name@&lt;version spec&gt;</c>) over <c>depends</c> inside the one
/// policy engine (<see cref="AllowlistClosure.BuildAsync"/>), across every subdir of every channel, with conda's own
/// MatchSpec and version rules (<see cref="CondaMatchSpec"/>: build strings, <c>*</c> and <c>.*</c> globs, <c>|</c>
/// alternatives, <c>!=</c>).
/// <list type="bullet">
/// <item><b>Requests.</b> <c>Name</c> is the spec's package name (lower-case); <c>Constraint</c> is the rest of the spec
/// as upstream wrote it (<c>"&gt;=1.2,&lt;2 *_cpython"</c>), or the whole spec when it is written another way
/// (<c>numpy[version='&gt;=1']</c>).</item>
/// <item><b>Choice.</b> For each platform subdir a client may be on (it sees that subdir and <c>noarch</c>), the record a
/// solver prefers among those the date policy lets through that match the spec: highest version, then build number,
/// then timestamp. The node stands for those records (one per platform at most); their <c>depends</c> are followed.
/// Older matching records stay listed (the closure is by name) and a solver may still pick them; it backtracks past any
/// whose own dependencies are not served.</item>
/// <item><b>Virtual packages</b> (<c>__glibc</c>, <c>__cuda</c>, ...) describe the client's system: they are never mirrored,
/// never followed and never a problem. An allowlist entry naming one is refused.</item>
/// <item><b><c>constrains</c></b> add nothing to the closure (they only restrict versions if the package is installed
/// anyway). Among matching records the choice prefers one whose <c>constrains</c> every package already in the closure
/// can meet with a record the tier serves, so what the closure follows is what a solver can install together; when none
/// can, the best record is followed anyway and the solver will reject the combination itself.</item>
/// </list>
/// </summary>
public sealed class CondaClosureSource(Func<CancellationToken, ValueTask<CondaUniverse>> universe) : IClosureSource
{
    private static readonly IReadOnlySet<string> NoExtras = new HashSet<string>();

    /// <summary>The request for one <c>depends</c> entry (see the class remarks for the encoding).</summary>
    public static ClosureRequest Request(CondaMatchSpec spec, string text)
    {
        var trimmed = text.Trim();
        var constraint = trimmed.Equals(spec.Name, StringComparison.OrdinalIgnoreCase) ? ""
            : trimmed.Length > spec.Name.Length && trimmed.StartsWith(spec.Name, StringComparison.OrdinalIgnoreCase) && trimmed[spec.Name.Length] == ' '
                ? trimmed[(spec.Name.Length + 1)..].Trim()
                : trimmed;
        return new ClosureRequest(spec.Name, constraint, NoExtras);
    }

    /// <summary>The spec a request stands for: the name followed by its constraint, else the constraint alone (a whole spec).</summary>
    public static bool TryParse(ClosureRequest request, out CondaMatchSpec? spec, out string? error)
    {
        var joined = request.Constraint.Length == 0 ? request.Name : request.Name + " " + request.Constraint;
        if (CondaMatchSpec.TryParse(joined, out spec, out error) && spec!.Name == request.Name.ToLowerInvariant())
        {
            return true;
        }
        if (request.Constraint.Length > 0 && CondaMatchSpec.TryParse(request.Constraint, out var whole, out var wholeError)
            && whole!.Name == request.Name.ToLowerInvariant())
        {
            (spec, error) = (whole, null);
            return true;
        }
        spec = null;
        return false;
    }

    public Task<ClosureResolution> ResolveAsync(ClosureRequest request, CancellationToken cancellationToken) =>
        ResolveAsync(request, new HashSet<string>(), cancellationToken);

    public async Task<ClosureResolution> ResolveAsync(ClosureRequest request, IReadOnlySet<string> included, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(request);
        ArgumentNullException.ThrowIfNull(included);
        var text = request.Constraint.Length == 0 ? request.Name : $"{request.Name} {request.Constraint}";
        if (!TryParse(request, out var spec, out var error))
        {
            return ClosureResolution.Failed($"'{text}' is not a conda MatchSpec: {error}");
        }
        if (spec!.IsVirtual)
        {
            return ClosureResolution.Failed($"'{spec.Name}' is a virtual package: the client's system provides it, a channel never does; approve real packages only");
        }
        var current = await universe(cancellationToken).ConfigureAwait(false);
        var all = current.Candidates(spec.Name);
        var matching = all.Where(c => Matches(spec, c)).ToList();
        if (matching.Count == 0)
        {
            var visible = all.Select(c => c.Record.Version).Distinct(StringComparer.Ordinal).Take(5).ToList();
            return ClosureResolution.Failed(visible.Count == 0
                ? $"no record of '{spec.Name}' is served at this tier (upstream has none, or the tier holds every one back)"
                : $"no record of '{spec.Name}' served at this tier matches '{text}' (served versions include {string.Join(", ", visible)})");
        }
        var chosen = new List<CondaCandidate>();
        foreach (var platform in current.Platforms)
        {
            var onPlatform = matching.Where(c => CondaUniverse.On(c, platform)).ToList();
            if (onPlatform.Count == 0)
            {
                continue;
            }
            var pick = onPlatform.FirstOrDefault(c => ConstrainsMet(c, included, current)) ?? onPlatform[0];
            if (!chosen.Contains(pick))
            {
                chosen.Add(pick);
            }
        }
        if (chosen.Count == 0)
        {
            return ClosureResolution.Failed($"records of '{text}' are served only for subdirs no configured platform uses");
        }
        return ClosureResolution.Resolved(new ClosureNode(spec.Name, string.Join(" ", chosen.Select(c => c.Id).Order(StringComparer.Ordinal)), NoExtras));
    }

    private static bool Matches(CondaMatchSpec spec, CondaCandidate candidate) => candidate.Version is { } version
        ? spec.Matches(candidate.Record.Name, version, candidate.Record.Build)
        : spec.Matches(candidate.Record.Name, candidate.Record.Version, candidate.Record.Build);

    /// <summary>Whether every <c>constrains</c> entry naming a package already in the closure is met by some record served for it.</summary>
    private static bool ConstrainsMet(CondaCandidate candidate, IReadOnlySet<string> included, CondaUniverse universe)
    {
        if (included.Count == 0)
        {
            return true;
        }
        CondaRecordDependencies dependencies;
        using (var file = candidate.State.OpenUpstream())
        {
            if (file is null)
            {
                return true;
            }
            dependencies = RepodataReader.ReadDependencies(file, candidate.Record);
        }
        foreach (var text in dependencies.Constrains)
        {
            if (!CondaMatchSpec.TryParse(text, out var constraint, out _) || constraint!.IsVirtual || !included.Contains(constraint.Name))
            {
                continue;
            }
            if (!universe.Candidates(constraint.Name).Any(c => Matches(constraint, c)))
            {
                return false;
            }
        }
        return true;
    }

    public async Task<IReadOnlyList<ClosureRequest>> GetDependenciesAsync(ClosureNode node, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(node);
        var current = await universe(cancellationToken).ConfigureAwait(false);
        var requests = new List<ClosureRequest>();
        var seen = new HashSet<(string, string)>();
        foreach (var id in node.Version.Split(' ', StringSplitOptions.RemoveEmptyEntries))
        {
            var candidate = current.Find(id) ?? throw new ClosureSourceException($"{id} is no longer served at this tier");
            CondaRecordDependencies dependencies;
            try
            {
                using var file = candidate.State.OpenUpstream() ?? throw new ClosureSourceException($"{id} has no upstream index to read");
                dependencies = RepodataReader.ReadDependencies(file, candidate.Record);
            }
            catch (Exception e) when (e is IOException or InvalidDataException or System.Text.Json.JsonException)
            {
                throw new ClosureSourceException($"the depends of {id} could not be read: {e.Message}", e);
            }
            foreach (var text in dependencies.Depends)
            {
                ClosureRequest request;
                if (CondaMatchSpec.TryParse(text, out var spec, out _))
                {
                    if (spec!.IsVirtual)
                    {
                        continue; // provided by the client's system, never mirrored
                    }
                    request = Request(spec, text);
                }
                else
                {
                    request = new ClosureRequest(text.Trim(), "", NoExtras); // resolving it reports the unreadable spec
                }
                if (seen.Add((request.Name, request.Constraint)))
                {
                    requests.Add(request);
                }
            }
        }
        return requests;
    }
}
