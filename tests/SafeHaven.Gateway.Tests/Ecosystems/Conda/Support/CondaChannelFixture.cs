using System.Security.Cryptography;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace SafeHaven.Gateway.Tests.Ecosystems.Conda.Support;

/// <summary>A package file put in the upstream channel: its name, subdir, bytes' SHA-256 and size.</summary>
public sealed record ChannelFile(string Subdir, string Filename, string Sha256, long Size, byte[] Content);

/// <summary>
/// An upstream conda channel built at test time in a scratch folder and served by <see cref="StaticUpstream"/>:
/// package files (random bytes: the gateway never opens a package, it verifies and serves bytes) and each subdir's
/// <c>repodata.json</c> written exactly as the test gives it, so each test states which real upstream's shape it
/// imitates and what it leaves out.
/// </summary>
public sealed class CondaChannelFixture : IAsyncDisposable
{
    private CondaChannelFixture(string root, StaticUpstream upstream)
    {
        Root = root;
        Upstream = upstream;
    }

    public const string Channel = "conda-forge";

    public string Root { get; }
    public StaticUpstream Upstream { get; }
    public Uri ChannelUrl => new(Upstream.BaseUrl, Channel + "/");

    public static async Task<CondaChannelFixture> StartAsync()
    {
        var root = Directory.CreateTempSubdirectory("safehaven-conda-upstream-").FullName;
        return new CondaChannelFixture(root, await StaticUpstream.StartAsync(root));
    }

    /// <summary>The gateway settings for one channel named <c>forge</c> mirroring this upstream's <paramref name="subdirs"/>.</summary>
    public Dictionary<string, string?> Settings(params string[] subdirs)
    {
        var settings = new Dictionary<string, string?>
        {
            ["SafeHaven:Mirrors:conda:Channels:forge:Upstream"] = ChannelUrl.AbsoluteUri,
        };
        for (var i = 0; i < subdirs.Length; i++)
        {
            settings[$"SafeHaven:Mirrors:conda:Channels:forge:Subdirs:{i}"] = subdirs[i];
        }
        return settings;
    }

    /// <summary>Puts a package file of <paramref name="size"/> random bytes at <c>&lt;channel&gt;/&lt;subdir&gt;/&lt;filename&gt;</c> (or under <paramref name="folder"/>).</summary>
    public ChannelFile AddFile(string subdir, string filename, int size = 2048, string? folder = null)
    {
        var content = RandomNumberGenerator.GetBytes(size);
        var directory = Path.Combine(Root, folder ?? Path.Combine(Channel, subdir));
        Directory.CreateDirectory(directory);
        File.WriteAllBytes(Path.Combine(directory, filename), content);
        return new ChannelFile(subdir, filename, Convert.ToHexStringLower(SHA256.HashData(content)), size, content);
    }

    /// <summary>Replaces the bytes upstream serves for a file, leaving its record (sha256, size) as it was: a tampered mirror or CDN.</summary>
    public void Tamper(ChannelFile file, byte[] content) => File.WriteAllBytes(Path.Combine(Root, Channel, file.Subdir, file.Filename), content);

    public void WriteRepodata(string subdir, JsonObject repodata)
    {
        var directory = Path.Combine(Root, Channel, subdir);
        Directory.CreateDirectory(directory);
        File.WriteAllText(Path.Combine(directory, "repodata.json"), repodata.ToJsonString(new JsonSerializerOptions { WriteIndented = true }));
    }

    /// <summary>A record as <c>conda index</c> writes one; <paramref name="extra"/> adds or overrides fields, a null value removes one.</summary>
    public static JsonObject Record(ChannelFile file, string name, string version, string build, int buildNumber = 0,
        long? timestamp = null, IEnumerable<string>? depends = null, IEnumerable<string>? constrains = null, bool sha256 = true,
        IReadOnlyDictionary<string, JsonNode?>? extra = null)
    {
        var record = new JsonObject
        {
            ["build"] = build,
            ["build_number"] = buildNumber,
            ["depends"] = new JsonArray((depends ?? []).Select(d => (JsonNode)JsonValue.Create(d)!).ToArray()),
            ["license"] = "MIT",
            ["md5"] = Convert.ToHexStringLower(MD5.HashData(file.Content)),
            ["name"] = name,
            ["size"] = file.Size,
            ["subdir"] = file.Subdir,
            ["version"] = version,
        };
        if (constrains is not null)
        {
            record["constrains"] = new JsonArray(constrains.Select(d => (JsonNode)JsonValue.Create(d)!).ToArray());
        }
        if (sha256)
        {
            record["sha256"] = file.Sha256;
        }
        if (timestamp is { } t)
        {
            record["timestamp"] = t;
        }
        foreach (var (key, value) in extra ?? new Dictionary<string, JsonNode?>())
        {
            if (value is null)
            {
                record.Remove(key);
            }
            else
            {
                record[key] = value;
            }
        }
        return record;
    }

    public async ValueTask DisposeAsync()
    {
        await Upstream.DisposeAsync();
        try
        {
            Directory.Delete(Root, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}
