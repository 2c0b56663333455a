using System.Text.RegularExpressions;
using SafeHaven.Core.Configuration;
using SafeHaven.Core.OpenPgp;

namespace SafeHaven.Gateway.Ecosystems.Apt;

/// <summary>One configured upstream Debian-format archive, validated: served at <c>/apt/&lt;Name&gt;/</c>.</summary>
public sealed record AptRepository(
    string Name, Uri Upstream, IReadOnlyList<string> Suites, IReadOnlyList<string> Components,
    IReadOnlyList<string> Architectures, string UpstreamKeyring, bool Undelayed)
{
    /// <summary>The architectures whose indexes are read: the configured ones and <c>all</c>.</summary>
    public IReadOnlyList<string> IndexArchitectures => [.. Architectures.Where(a => a != "all"), "all"];
}

/// <summary>
/// Reads and checks <c>SafeHaven:Mirrors:apt:Repositories:&lt;name&gt;:Upstream|Suites|Components|Architectures|UpstreamKeyring|Undelayed</c>.
/// Every problem is named by its configuration key, so the appliance refuses to start with a precise reason.
/// </summary>
public static partial class AptConfiguration
{
    public const string Prefix = "SafeHaven:Mirrors:apt:";

    [GeneratedRegex("^[a-z0-9][a-z0-9._-]{0,63}$")]
    private static partial Regex RepositoryName();

    // Suites and components may hold a '/' (e.g. "updates/main"), never an empty or dot segment.
    [GeneratedRegex("^[A-Za-z0-9][A-Za-z0-9._+~-]*(/[A-Za-z0-9][A-Za-z0-9._+~-]*)*$")]
    private static partial Regex PathLike();

    [GeneratedRegex("^[a-z0-9][a-z0-9-]*$")]
    private static partial Regex Architecture();

    /// <summary>Values of a list key: list items, each possibly holding several values separated by commas or spaces.</summary>
    public static IReadOnlyList<string> Values(IEnumerable<string> items, params string[] defaults)
    {
        var values = items.SelectMany(i => i.Split([',', ' ', '\t'], StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
            .Distinct(StringComparer.Ordinal).ToList();
        return values.Count == 0 ? defaults : values;
    }

    /// <summary>Every problem with the apt mirror's configuration (empty when it may start).</summary>
    public static IEnumerable<string> Validate(MirrorOptions mirror)
    {
        if (!mirror.Enabled)
        {
            yield break;
        }
        if (!string.IsNullOrWhiteSpace(mirror.Upstream))
        {
            yield return $"{Prefix}Upstream: not used by apt; give each repository its own {Prefix}Repositories:<name>:Upstream";
        }
        if (mirror.Repositories.Count == 0)
        {
            yield return $"{Prefix}Repositories: at least one repository is required (e.g. {Prefix}Repositories:debian:Upstream)";
        }
        foreach (var (name, repository) in mirror.Repositories)
        {
            foreach (var problem in Validate(name, repository))
            {
                yield return problem;
            }
        }
    }

    private static IEnumerable<string> Validate(string name, AptRepositoryOptions repository)
    {
        var prefix = $"{Prefix}Repositories:{name}:";
        if (!RepositoryName().IsMatch(name))
        {
            yield return $"{Prefix}Repositories:{name}: the name is a URL path segment: lower-case letters, digits, '.', '_' or '-', starting with a letter or digit";
        }
        if (string.IsNullOrWhiteSpace(repository.Upstream))
        {
            yield return $"{prefix}Upstream: required (the archive's base URL, the folder holding dists/ and pool/)";
        }
        else if (!Uri.TryCreate(repository.Upstream, UriKind.Absolute, out var upstream) || upstream.Scheme is not ("http" or "https"))
        {
            yield return $"{prefix}Upstream: '{repository.Upstream}' is not an absolute http(s) URL";
        }
        else if (!string.IsNullOrEmpty(upstream.Query) || !string.IsNullOrEmpty(upstream.Fragment))
        {
            yield return $"{prefix}Upstream: '{repository.Upstream}' must not have a query or fragment";
        }
        var suites = Values(repository.Suites);
        if (suites.Count == 0)
        {
            yield return $"{prefix}Suites: at least one suite is required (e.g. bookworm)";
        }
        foreach (var suite in suites.Where(s => !PathLike().IsMatch(s)))
        {
            yield return $"{prefix}Suites: '{suite}' is not a suite name";
        }
        foreach (var component in Values(repository.Components, "main").Where(c => !PathLike().IsMatch(c)))
        {
            yield return $"{prefix}Components: '{component}' is not a component name";
        }
        foreach (var architecture in Values(repository.Architectures, "amd64").Where(a => !Architecture().IsMatch(a)))
        {
            yield return $"{prefix}Architectures: '{architecture}' is not a Debian architecture name";
        }
        if (string.IsNullOrWhiteSpace(repository.UpstreamKeyring))
        {
            yield return $"{prefix}UpstreamKeyring: required: nothing from an upstream whose signature cannot be checked is served (Debian's is /usr/share/keyrings/debian-archive-keyring.gpg)";
        }
        else if (!File.Exists(repository.UpstreamKeyring))
        {
            yield return $"{prefix}UpstreamKeyring: {Path.GetFullPath(repository.UpstreamKeyring)} does not exist";
        }
        else if (KeyringProblem(repository.UpstreamKeyring) is { } problem)
        {
            yield return $"{prefix}UpstreamKeyring: {Path.GetFullPath(repository.UpstreamKeyring)} is not a usable OpenPGP keyring: {problem}";
        }
    }

    private static string? KeyringProblem(string path)
    {
        try
        {
            OpenPgpKeyring.Load(path);
            return null;
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            return e.Message;
        }
    }

    /// <summary>The repositories of a configuration <see cref="Validate(MirrorOptions)"/> accepted.</summary>
    public static IReadOnlyList<AptRepository> Read(MirrorOptions mirror)
    {
        var problems = Validate(mirror).ToList();
        if (problems.Count > 0)
        {
            throw new InvalidOperationException(string.Join("; ", problems));
        }
        return mirror.Repositories.OrderBy(r => r.Key, StringComparer.Ordinal).Select(r => new AptRepository(
            r.Key,
            new Uri(r.Value.Upstream!.EndsWith('/') ? r.Value.Upstream : r.Value.Upstream + "/"),
            Values(r.Value.Suites),
            Values(r.Value.Components, "main"),
            Values(r.Value.Architectures, "amd64"),
            r.Value.UpstreamKeyring!,
            r.Value.Undelayed)).ToList();
    }
}
