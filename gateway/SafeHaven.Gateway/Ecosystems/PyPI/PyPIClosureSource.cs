using SafeHaven.Core.Configuration;
using SafeHaven.Core.Packages;
using SafeHaven.Core.Tiers;
using SafeHaven.Gateway.Artifacts;
using SafeHaven.Gateway.Upstreams;

namespace SafeHaven.Gateway.Ecosystems.PyPI;

/// <summary>
/// Closes a PyPI allowlist over <c>Requires-Dist</c>: for each requirement, the newest version the tier lets
/// through that satisfies it (what pip would pick), then that version's own requirements, with environment
/// markers evaluated against the configured target environment (unknown variables count as possibly true) and
/// <c>extra ==</c> markers true only for extras requested.
/// </summary>
public sealed class PyPIClosureSource : IClosureSource
{
    private readonly PyPIMirror _mirror;
    private readonly ArtifactFetcher _artifacts;
    private readonly MarkerEnvironment _environment;

    public PyPIClosureSource(PyPIMirror mirror, MirrorOptions options)
    {
        _mirror = mirror;
        _artifacts = mirror.Artifacts;
        _environment = new MarkerEnvironment(options.TargetEnvironment, new HashSet<string>());
    }

    public async Task<ClosureResolution> ResolveAsync(ClosureRequest request, CancellationToken cancellationToken)
    {
        if (request.Constraint.StartsWith('@'))
        {
            return ClosureResolution.Failed($"'{request.Name}' is required from a direct URL ({request.Constraint[1..].Trim()}), which a mirror cannot serve");
        }
        Pep440SpecifierSet specifiers;
        try
        {
            specifiers = Pep440SpecifierSet.Parse(request.Constraint);
        }
        catch (FormatException e)
        {
            return ClosureResolution.Failed(e.Message);
        }
        var lookup = await _mirror.GetProjectAsync(request.Name, cancellationToken, applyAllowlist: false).ConfigureAwait(false);
        if (lookup is not ProjectLookup.Found found)
        {
            return ClosureResolution.Failed(lookup switch
            {
                ProjectLookup.NotFound => $"upstream has no project '{request.Name}'",
                ProjectLookup.Unavailable u => $"'{request.Name}' could not be read: {u.Reason}",
                ProjectLookup.Hidden h => h.Reason,
                _ => "unknown",
            });
        }
        var view = found.View;
        // Versions with at least one visible, non-yanked file (a yanked-only version is picked by pip only when pinned).
        var pinned = specifiers.Specifiers.Any(s => s.Operator is "==" or "===" && !s.IsWildcard);
        var candidates = view.VisibleEntries
            .Where(e => e.ParsedVersion is not null && (pinned || !e.File.Yanked))
            .Select(e => e.ParsedVersion!)
            .Distinct()
            .ToList();
        var chosen = specifiers.Filter(candidates).Max();
        if (chosen is null)
        {
            var hidden = view.State.Entries.Where(e => e.ParsedVersion is not null && specifiers.IsSatisfiedBy(e.ParsedVersion) && !view.Decisions[e.File.Filename].Visible)
                .Select(e => e.ParsedVersion!.ToString()).Distinct().ToList();
            var visibleText = candidates.Count == 0 ? "none" : string.Join(", ", candidates.Order().TakeLast(5));
            var why = hidden.Count > 0 ? $"; held back by the tier: {string.Join(", ", hidden.Take(5))}" : "";
            return ClosureResolution.Failed(
                $"no visible version of '{request.Name}' satisfies '{(request.Constraint.Length == 0 ? "any" : request.Constraint)}' (visible: {visibleText}{why})");
        }
        return ClosureResolution.Resolved(new ClosureNode(request.Name, chosen.ToString(), request.Extras));
    }

    public async Task<IReadOnlyList<ClosureRequest>> GetDependenciesAsync(ClosureNode node, CancellationToken cancellationToken)
    {
        var lookup = await _mirror.GetProjectAsync(node.Name, cancellationToken, applyAllowlist: false).ConfigureAwait(false);
        if (lookup is not ProjectLookup.Found found)
        {
            throw new ClosureSourceException($"'{node.Name}' could not be read again");
        }
        var version = Pep440Version.Parse(node.Version);
        var files = found.View.VisibleEntries.Where(e => version.Equals(e.ParsedVersion)).Select(e => e.File).ToList();
        var metadata = await ReadMetadataAsync(node, files, cancellationToken).ConfigureAwait(false);
        var environment = _environment.WithExtras(node.Extras);
        var requests = new List<ClosureRequest>();
        foreach (var line in metadata.RequiresDist)
        {
            if (!Pep508Requirement.TryParse(line, out var requirement))
            {
                throw new ClosureSourceException($"{node.Name} {node.Version} has an unreadable requirement '{line}'");
            }
            if (requirement.Marker?.Evaluate(environment) == MarkerTruth.False)
            {
                continue;
            }
            var constraint = requirement.Url is not null ? "@ " + requirement.Url : requirement.Specifiers.ToString();
            requests.Add(new ClosureRequest(requirement.NormalizedName, constraint, requirement.Extras.ToHashSet(StringComparer.Ordinal)));
        }
        return requests;
    }

    private async Task<CoreMetadata> ReadMetadataAsync(ClosureNode node, IReadOnlyList<PyPIFile> files, CancellationToken cancellationToken)
    {
        try
        {
            // Cheapest first: a PEP 658 metadata file, then a wheel's METADATA, then an sdist's PKG-INFO.
            if (files.FirstOrDefault(f => f.CoreMetadata && DistributionFilename.IsWheel(f.Filename)) is { } withMetadata)
            {
                var digest = await _artifacts.EnsureStoredAsync(PyPIMirror.SourceOf(withMetadata, metadata: true), cancellationToken).ConfigureAwait(false);
                await using var stream = await OpenAsync(digest, cancellationToken).ConfigureAwait(false);
                return await CoreMetadataReader.ReadAsync(stream, cancellationToken).ConfigureAwait(false);
            }
            if (files.FirstOrDefault(f => DistributionFilename.IsWheel(f.Filename)) is { } wheel)
            {
                var digest = await _artifacts.EnsureStoredAsync(PyPIMirror.SourceOf(wheel, metadata: false), cancellationToken).ConfigureAwait(false);
                await using var stream = await OpenAsync(digest, cancellationToken).ConfigureAwait(false);
                return await CoreMetadataReader.ReadFromWheelAsync(stream, cancellationToken).ConfigureAwait(false)
                    ?? throw new ClosureSourceException($"{wheel.Filename} has no .dist-info/METADATA");
            }
            if (files.FirstOrDefault(f => DistributionFilename.IsSdist(f.Filename)) is { } sdist)
            {
                var digest = await _artifacts.EnsureStoredAsync(PyPIMirror.SourceOf(sdist, metadata: false), cancellationToken).ConfigureAwait(false);
                await using var stream = await OpenAsync(digest, cancellationToken).ConfigureAwait(false);
                var metadata = await CoreMetadataReader.ReadFromSdistAsync(stream, sdist.Filename, cancellationToken).ConfigureAwait(false)
                    ?? throw new ClosureSourceException($"{sdist.Filename} has no PKG-INFO");
                if (!metadata.DependenciesAreStatic(fromSdist: true))
                {
                    throw new ClosureSourceException(
                        $"{node.Name} {node.Version} is only an sdist whose dependencies are computed at build time (metadata {metadata.MetadataVersion ?? "unknown"}); approve its dependencies by hand");
                }
                return metadata;
            }
        }
        catch (Exception e) when (e is UpstreamUnavailableException or UpstreamIntegrityException or InvalidDataException)
        {
            throw new ClosureSourceException($"dependencies of {node.Name} {node.Version} could not be read: {e.Message}", e);
        }
        throw new ClosureSourceException($"{node.Name} {node.Version} has no file the tier lets through to read dependencies from");
    }

    private async Task<Stream> OpenAsync(Core.Blobs.BlobDigest digest, CancellationToken cancellationToken)
    {
        var stream = await _artifacts.Blobs.OpenReadAsync(digest, cancellationToken).ConfigureAwait(false)
            ?? throw new ClosureSourceException($"stored blob {digest} disappeared");
        if (stream.CanSeek)
        {
            return stream;
        }
        // Zip needs seeking; a non-seekable store (object storage) is copied to a temporary file, not memory.
        var temp = new FileStream(Path.GetTempFileName(), FileMode.Open, FileAccess.ReadWrite, FileShare.None, 81920, FileOptions.DeleteOnClose | FileOptions.Asynchronous);
        await using (stream.ConfigureAwait(false))
        {
            await stream.CopyToAsync(temp, cancellationToken).ConfigureAwait(false);
        }
        temp.Position = 0;
        return temp;
    }
}
