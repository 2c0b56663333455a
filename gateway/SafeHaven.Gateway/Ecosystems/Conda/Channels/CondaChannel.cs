using System.Text.RegularExpressions;
using SafeHaven.Core.Configuration;
using SafeHaven.Gateway.Ecosystems.Apt;

namespace SafeHaven.Gateway.Ecosystems.Conda.Channels;

/// <summary>One configured upstream conda channel, validated: served at <c>/conda/&lt;Name&gt;/&lt;subdir&gt;/</c>.</summary>
public sealed record CondaChannel(string Name, Uri Upstream, IReadOnlyList<string> Subdirs)
{
    /// <summary>The upstream <c>repodata.json</c> of a subdir.</summary>
    public Uri RepodataUrl(string subdir) => new(Upstream, subdir + "/repodata.json");

    /// <summary>The key a subdir's state is recorded and refreshed under: <c>&lt;channel&gt;/&lt;subdir&gt;</c>.</summary>
    public string Key(string subdir) => Name + "/" + subdir;
}

/// <summary>
/// Reads and checks <c>SafeHaven:Mirrors:conda:Channels:&lt;name&gt;:Upstream|Subdirs</c>. Every problem is named by its
/// configuration key, so the appliance refuses to start with a precise reason.
/// </summary>
public static partial class CondaConfiguration
{
    public const string Prefix = "SafeHaven:Mirrors:conda:";

    /// <summary>What a client gets when a channel names no subdirs: the two every conda client reads on Linux x86-64.</summary>
    public static readonly string[] DefaultSubdirs = ["noarch", "linux-64"];

    /// <summary>
    /// The largest upstream <c>repodata.json</c> accepted when <c>MaximumIndexBytes</c> is not set: a conda-forge
    /// platform index is several hundred MB and grows; it is spooled to disk and parsed as a stream, never held whole.
    /// </summary>
    public const long DefaultMaximumIndexBytes = 4L * 1024 * 1024 * 1024;

    [GeneratedRegex("^[a-z0-9][a-z0-9._-]{0,63}$")]
    private static partial Regex ChannelName();

    // conda subdirs: noarch, linux-64, osx-arm64, win-64, linux-aarch64, emscripten-wasm32, zos-z ...
    [GeneratedRegex("^[a-z0-9][a-z0-9_-]{0,31}$")]
    private static partial Regex SubdirName();

    /// <summary>Every problem with the conda mirror's configuration (empty when it may start).</summary>
    public static IEnumerable<string> Validate(MirrorOptions mirror)
    {
        if (!mirror.Enabled)
        {
            yield break;
        }
        if (!string.IsNullOrWhiteSpace(mirror.Upstream))
        {
            yield return $"{Prefix}Upstream: not used by conda; give each channel its own {Prefix}Channels:<name>:Upstream";
        }
        if (mirror.Channels.Count == 0)
        {
            yield return $"{Prefix}Channels: at least one channel is required (e.g. {Prefix}Channels:conda-forge:Upstream)";
        }
        foreach (var (name, channel) in mirror.Channels)
        {
            var prefix = $"{Prefix}Channels:{name}:";
            if (!ChannelName().IsMatch(name))
            {
                yield return $"{Prefix}Channels:{name}: the name is a URL path segment: lower-case letters, digits, '.', '_' or '-', starting with a letter or digit";
            }
            if (string.IsNullOrWhiteSpace(channel.Upstream))
            {
                yield return $"{prefix}Upstream: required (the channel's base URL, the folder holding noarch/ and the platform subdirs)";
            }
            else if (!Uri.TryCreate(channel.Upstream, UriKind.Absolute, out var upstream) || upstream.Scheme is not ("http" or "https"))
            {
                yield return $"{prefix}Upstream: '{channel.Upstream}' is not an absolute http(s) URL";
            }
            foreach (var subdir in AptConfiguration.Values(channel.Subdirs, DefaultSubdirs))
            {
                if (!SubdirName().IsMatch(subdir))
                {
                    yield return $"{prefix}Subdirs: '{subdir}' is not a conda subdir (e.g. noarch, linux-64, osx-arm64)";
                }
            }
        }
    }

    /// <summary>The configured channels; throws with every problem when the configuration is not valid.</summary>
    public static IReadOnlyList<CondaChannel> Read(MirrorOptions mirror)
    {
        var problems = Validate(mirror).ToList();
        if (problems.Count > 0)
        {
            throw new InvalidOperationException("The conda mirror's configuration is not valid: " + string.Join("; ", problems));
        }
        return mirror.Channels.OrderBy(c => c.Key, StringComparer.Ordinal).Select(c => new CondaChannel(
            c.Key,
            new Uri(c.Value.Upstream!.EndsWith('/') ? c.Value.Upstream : c.Value.Upstream + "/"),
            AptConfiguration.Values(c.Value.Subdirs, DefaultSubdirs))).ToList();
    }
}
